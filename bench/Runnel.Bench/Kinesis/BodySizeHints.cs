using System.Collections.Concurrent;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// What size of buffer to rent for an answer that comes without a Content-Length (Runnel streams large GetRecords
/// answers over HTTP/2): the length of the operation's last such answer. A client that knows nothing grows its
/// buffer by doubling, copying every byte about twice and renting arrays of megabytes; that cost is the load
/// generator's, not the server's, and would be charged to HTTP/2 alone (answers over HTTP/1.1 carry their length).
/// Real clients gather the chunks and join them once (the JavaScript SDK), which costs about what a good guess
/// does. Thread-safe.
/// </summary>
public sealed class BodySizeHints
{
    private const int Default = 4095;
    private readonly ConcurrentDictionary<string, int> _last = new(StringComparer.Ordinal);

    /// <summary>Bytes to rent for an answer to <paramref name="operation"/> of unknown length.</summary>
    public int For(string operation) => _last.TryGetValue(operation, out int length) ? length : Default;

    /// <summary>An answer to <paramref name="operation"/> came without a Content-Length and was <paramref name="length"/> bytes long.</summary>
    public void Saw(string operation, int length) => _last[operation] = length;
}
