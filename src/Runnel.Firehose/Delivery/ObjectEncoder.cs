using System.IO.Compression;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// Compresses one buffer's object as its records arrive, not all at once when it is due: a 100 MB GZIP buffer takes
/// over a second to compress, which would come on top of the buffering interval in the delivery's lag (and hold the
/// worker meanwhile). <see cref="Feed"/> takes what the buffer gained since the last call; <see cref="Finish"/>
/// returns the whole object's bytes. Made for the compressions that stream (GZIP); the others are compressed whole
/// at delivery (<see cref="For"/> gives null). Not thread-safe: owned by the delivery stream's worker.
/// </summary>
internal sealed class ObjectEncoder : IDisposable
{
    private readonly MemoryStream _output = new();
    private readonly Stream _compressor;
    private ReadOnlyMemory<byte>? _finished;

    private ObjectEncoder(Func<Stream, Stream> open) => _compressor = open(_output);

    /// <summary>How many of the buffer's payload bytes were compressed so far.</summary>
    public long Fed { get; private set; }

    public static ObjectEncoder? For(ObjectCompression compression) =>
        compression == ObjectCompression.Gzip ? new ObjectEncoder(output => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) : null;

    /// <summary>Compresses the bytes of <paramref name="payload"/> past <see cref="Fed"/> (the buffer's payload so far).</summary>
    public void Feed(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > Fed)
        {
            _compressor.Write(payload.Span[(int)Fed..]);
            Fed = payload.Length;
        }
    }

    /// <summary>Compresses the rest of <paramref name="payload"/> and ends the stream: the object's bytes (the same on every call).</summary>
    public ReadOnlyMemory<byte> Finish(ReadOnlyMemory<byte> payload)
    {
        if (_finished is { } done)
            return done;
        Feed(payload);
        _compressor.Dispose();
        _finished = _output.GetBuffer().AsMemory(0, (int)_output.Length);
        return _finished.Value;
    }

    public void Dispose()
    {
        _compressor.Dispose();
        _output.Dispose();
    }
}
