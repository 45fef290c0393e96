using System.Buffers.Binary;
using System.Text;

namespace Runnel.Client.Internal.EventStream;

/// <summary>One message of an event stream: its string headers by name, and its payload (a slice of the message's bytes).</summary>
internal sealed record EventStreamMessage(IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Payload)
{
    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
}

/// <summary>An event stream's bytes are not valid messages (a checksum or a length that does not hold).</summary>
internal sealed class EventStreamFormatException(string message) : FormatException(message);

/// <summary>
/// Reads <c>application/vnd.amazon.eventstream</c> messages from a stream, one at a time: the 12-byte prelude (total
/// length, headers length, CRC-32 of those 8 bytes; big-endian), the headers, the payload and the CRC-32 of all
/// before it. Both checksums are verified. Headers of every type are read; the string ones are kept (the only kind
/// Kinesis sends). As a client, it enforces no size limit but the message's own. Not thread-safe.
/// </summary>
internal sealed class EventStreamReader(Stream stream)
{
    private const int PreludeBytes = 12;
    private const int MessageCrcBytes = 4;
    private const int MinMessageBytes = PreludeBytes + MessageCrcBytes;

    private readonly byte[] _prelude = new byte[PreludeBytes];

    /// <summary>The next message, or null when the stream ended between messages.</summary>
    public async ValueTask<EventStreamMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        int read = await FillAsync(_prelude, cancellationToken).ConfigureAwait(false);
        if (read == 0)
            return null;
        if (read < PreludeBytes)
            throw new EventStreamFormatException($"The event stream ended within a message's prelude ({read} of {PreludeBytes} bytes).");
        uint total = BinaryPrimitives.ReadUInt32BigEndian(_prelude);
        uint headersLength = BinaryPrimitives.ReadUInt32BigEndian(_prelude.AsSpan(4));
        uint preludeCrc = BinaryPrimitives.ReadUInt32BigEndian(_prelude.AsSpan(8));
        if (Crc32.Compute(_prelude.AsSpan(0, 8)) != preludeCrc)
            throw new EventStreamFormatException("An event-stream message's prelude checksum does not match.");
        if (total < MinMessageBytes || total > int.MaxValue || headersLength > total - MinMessageBytes)
            throw new EventStreamFormatException($"An event-stream message of {total} bytes with {headersLength} bytes of headers is not valid.");
        var message = new byte[total];
        _prelude.CopyTo(message, 0);
        if (await FillAsync(message.AsMemory(PreludeBytes), cancellationToken).ConfigureAwait(false) < total - PreludeBytes)
            throw new EventStreamFormatException("The event stream ended within a message.");
        uint messageCrc = BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan((int)total - MessageCrcBytes));
        if (Crc32.Compute(message.AsSpan(0, (int)total - MessageCrcBytes)) != messageCrc)
            throw new EventStreamFormatException("An event-stream message's checksum does not match.");
        var headers = ReadHeaders(message.AsSpan(PreludeBytes, (int)headersLength));
        var payload = message.AsMemory(PreludeBytes + (int)headersLength, (int)(total - headersLength) - MinMessageBytes); // the message's own array: no copy
        return new EventStreamMessage(headers, payload);
    }

    private async ValueTask<int> FillAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer[filled..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
                break;
            filled += n;
        }
        return filled;
    }

    /// <summary>Reads the headers; values of each type are skipped by their size, strings kept.</summary>
    internal static Dictionary<string, string> ReadHeaders(ReadOnlySpan<byte> span)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        int at = 0;
        while (at < span.Length)
        {
            int nameLength = span[at++];
            if (nameLength == 0 || at + nameLength + 1 > span.Length)
                throw new EventStreamFormatException("An event-stream header name is empty or runs past the headers.");
            string name = Encoding.UTF8.GetString(span.Slice(at, nameLength));
            at += nameLength;
            byte type = span[at++];
            int size = type switch
            {
                0 or 1 => 0,
                2 => 1,
                3 => 2,
                4 => 4,
                5 or 8 => 8,
                9 => 16,
                6 or 7 => at + 2 <= span.Length ? 2 + BinaryPrimitives.ReadUInt16BigEndian(span[at..]) : int.MaxValue,
                _ => throw new EventStreamFormatException($"Unknown event-stream header type {type}."),
            };
            if (size > span.Length - at)
                throw new EventStreamFormatException($"The event-stream header '{name}' runs past the headers.");
            if (type == 7)
                headers[name] = Encoding.UTF8.GetString(span.Slice(at + 2, size - 2));
            at += size;
        }
        return headers;
    }
}
