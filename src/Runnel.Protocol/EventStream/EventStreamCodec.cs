using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Runnel.Protocol.EventStream;

/// <summary>
/// The <c>application/vnd.amazon.eventstream</c> framing that SubscribeToShard answers in: each message is a
/// 12-byte prelude (total length, headers length, CRC-32 of those 8 bytes), the headers, the payload, and a
/// CRC-32 of everything before it; all integers big-endian. Byte layout and limits: docs/formats/eventstream.md.
/// A service must refuse to send a payload over <see cref="MaxPayloadBytes"/> or headers over
/// <see cref="MaxHeaderBytes"/>; a client must not enforce them, so <see cref="TryRead"/> does so only when asked.
/// Thread-safe (stateless).
/// </summary>
public static class EventStreamCodec
{
    public const string MediaType = "application/vnd.amazon.eventstream";
    public const int PreludeBytes = 12;
    public const int MessageCrcBytes = 4;
    public const int MinMessageBytes = PreludeBytes + MessageCrcBytes;
    public const int MaxPayloadBytes = 24 * 1024 * 1024;
    public const int MaxHeaderBytes = 128 * 1024;

    /// <summary>The encoded size of <paramref name="headers"/>.</summary>
    public static int HeadersLength(ReadOnlySpan<EventStreamHeader> headers)
    {
        int length = 0;
        foreach (var h in headers)
            length += 1 + Encoding.UTF8.GetByteCount(h.Name) + 1 + ValueLength(h);
        return length;
    }

    /// <summary>Appends one message to <paramref name="output"/>; returns its length.</summary>
    public static int Write(IBufferWriter<byte> output, ReadOnlySpan<EventStreamHeader> headers, ReadOnlySpan<byte> payload)
    {
        int headersLength = HeadersLength(headers);
        if (headersLength > MaxHeaderBytes)
            throw new ArgumentException($"Event-stream headers of {headersLength} bytes exceed the {MaxHeaderBytes}-byte limit.", nameof(headers));
        if (payload.Length > MaxPayloadBytes)
            throw new ArgumentException($"An event-stream payload of {payload.Length} bytes exceeds the {MaxPayloadBytes}-byte limit.", nameof(payload));
        int total = PreludeBytes + headersLength + payload.Length + MessageCrcBytes;
        var span = output.GetSpan(total)[..total];
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)headersLength);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], Crc32.HashToUInt32(span[..8]));
        int at = PreludeBytes;
        foreach (var h in headers)
            at += WriteHeader(span[at..], h);
        payload.CopyTo(span[at..]);
        at += payload.Length;
        BinaryPrimitives.WriteUInt32BigEndian(span[at..], Crc32.HashToUInt32(span[..at]));
        output.Advance(total);
        return total;
    }

    /// <summary>One message as a new array (tests and small events).</summary>
    public static byte[] Encode(ReadOnlySpan<EventStreamHeader> headers, ReadOnlySpan<byte> payload)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer, headers, payload);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads the message at the start of <paramref name="buffer"/>. False when the buffer holds only part of
    /// it (read more and call again); <see cref="EventStreamFormatException"/> when the bytes are not a valid
    /// message. With <paramref name="enforceServiceLimits"/>, payloads over 24 MiB and headers over 128 KiB
    /// are refused too, as a service must.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, out EventStreamMessage? message, out int consumed, bool enforceServiceLimits = false)
    {
        message = null;
        consumed = 0;
        if (buffer.Length < PreludeBytes)
            return false;
        uint total = BinaryPrimitives.ReadUInt32BigEndian(buffer);
        uint headersLength = BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]);
        uint preludeCrc = BinaryPrimitives.ReadUInt32BigEndian(buffer[8..]);
        if (Crc32.HashToUInt32(buffer[..8]) != preludeCrc)
            throw new EventStreamFormatException($"Prelude checksum mismatch: the message says 0x{preludeCrc:x8}, its bytes give 0x{Crc32.HashToUInt32(buffer[..8]):x8}.");
        if (total < MinMessageBytes)
            throw new EventStreamFormatException($"A message of {total} bytes is shorter than the {MinMessageBytes}-byte minimum.");
        if (headersLength > total - MinMessageBytes)
            throw new EventStreamFormatException($"Headers of {headersLength} bytes do not fit in a message of {total} bytes.");
        long payloadLength = total - MinMessageBytes - headersLength;
        if (enforceServiceLimits && headersLength > MaxHeaderBytes)
            throw new EventStreamFormatException($"Headers of {headersLength} bytes exceed the {MaxHeaderBytes}-byte limit.");
        if (enforceServiceLimits && payloadLength > MaxPayloadBytes)
            throw new EventStreamFormatException($"A payload of {payloadLength} bytes exceeds the {MaxPayloadBytes}-byte limit.");
        if (total > int.MaxValue)
            throw new EventStreamFormatException($"A message of {total} bytes is larger than this reader takes.");
        if (buffer.Length < total)
            return false;
        var whole = buffer[..(int)total];
        uint messageCrc = BinaryPrimitives.ReadUInt32BigEndian(whole[^MessageCrcBytes..]);
        if (Crc32.HashToUInt32(whole[..^MessageCrcBytes]) != messageCrc)
            throw new EventStreamFormatException($"Message checksum mismatch: the message says 0x{messageCrc:x8}, its bytes give 0x{Crc32.HashToUInt32(whole[..^MessageCrcBytes]):x8}.");
        var headers = ReadHeaders(whole.Slice(PreludeBytes, (int)headersLength));
        var payload = whole.Slice(PreludeBytes + (int)headersLength, (int)payloadLength).ToArray();
        message = new EventStreamMessage(headers, payload);
        consumed = (int)total;
        return true;
    }

    private static int ValueLength(EventStreamHeader h) => h.Type switch
    {
        EventStreamHeaderType.BoolTrue or EventStreamHeaderType.BoolFalse => 0,
        EventStreamHeaderType.Byte => 1,
        EventStreamHeaderType.Short => 2,
        EventStreamHeaderType.Integer => 4,
        EventStreamHeaderType.Long or EventStreamHeaderType.Timestamp => 8,
        EventStreamHeaderType.Uuid => 16,
        EventStreamHeaderType.ByteArray => 2 + h.Bytes.Length,
        EventStreamHeaderType.String => 2 + Encoding.UTF8.GetByteCount(h.Text ?? ""),
        _ => throw new ArgumentException($"Unknown header type {(byte)h.Type}."),
    };

    private static int WriteHeader(Span<byte> span, EventStreamHeader h)
    {
        int nameLength = Encoding.UTF8.GetBytes(h.Name, span[1..]);
        if (nameLength is 0 or > 255)
            throw new ArgumentException($"A header name is 1 to 255 bytes, not {nameLength} ('{h.Name}').");
        span[0] = (byte)nameLength;
        int at = 1 + nameLength;
        span[at++] = (byte)h.Type;
        var value = span[at..];
        switch (h.Type)
        {
            case EventStreamHeaderType.BoolTrue or EventStreamHeaderType.BoolFalse:
                return at;
            case EventStreamHeaderType.Byte:
                value[0] = (byte)(sbyte)h.Number;
                return at + 1;
            case EventStreamHeaderType.Short:
                BinaryPrimitives.WriteInt16BigEndian(value, (short)h.Number);
                return at + 2;
            case EventStreamHeaderType.Integer:
                BinaryPrimitives.WriteInt32BigEndian(value, (int)h.Number);
                return at + 4;
            case EventStreamHeaderType.Long or EventStreamHeaderType.Timestamp:
                BinaryPrimitives.WriteInt64BigEndian(value, h.Number);
                return at + 8;
            case EventStreamHeaderType.Uuid:
                h.Bytes.Span.CopyTo(value);
                return at + 16;
            case EventStreamHeaderType.ByteArray:
                return at + WriteShortPrefixed(value, h.Bytes.Span);
            default: // String
                int length = Encoding.UTF8.GetBytes(h.Text ?? "", value[2..]);
                if (length > short.MaxValue)
                    throw new ArgumentException($"Header {h.Name}'s value is {length} bytes; at most {short.MaxValue}.");
                BinaryPrimitives.WriteUInt16BigEndian(value, (ushort)length);
                return at + 2 + length;
        }
    }

    private static int WriteShortPrefixed(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > short.MaxValue)
            throw new ArgumentException($"A header value is at most {short.MaxValue} bytes, not {bytes.Length}.");
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)bytes.Length);
        bytes.CopyTo(destination[2..]);
        return 2 + bytes.Length;
    }

    private static List<EventStreamHeader> ReadHeaders(ReadOnlySpan<byte> span)
    {
        var headers = new List<EventStreamHeader>();
        int at = 0;
        while (at < span.Length)
        {
            int nameLength = span[at++];
            if (nameLength == 0)
                throw new EventStreamFormatException($"A header name of length 0 at byte {at - 1} of the headers.");
            string name = Encoding.UTF8.GetString(Need(span, at, nameLength));
            at += nameLength;
            var type = (EventStreamHeaderType)Need(span, at, 1)[0];
            at++;
            switch (type)
            {
                case EventStreamHeaderType.BoolTrue or EventStreamHeaderType.BoolFalse:
                    headers.Add(EventStreamHeader.Boolean(name, type == EventStreamHeaderType.BoolTrue));
                    break;
                case EventStreamHeaderType.Byte:
                    headers.Add(EventStreamHeader.Byte(name, (sbyte)Need(span, at, 1)[0]));
                    at += 1;
                    break;
                case EventStreamHeaderType.Short:
                    headers.Add(EventStreamHeader.Short(name, BinaryPrimitives.ReadInt16BigEndian(Need(span, at, 2))));
                    at += 2;
                    break;
                case EventStreamHeaderType.Integer:
                    headers.Add(EventStreamHeader.Integer(name, BinaryPrimitives.ReadInt32BigEndian(Need(span, at, 4))));
                    at += 4;
                    break;
                case EventStreamHeaderType.Long or EventStreamHeaderType.Timestamp:
                    headers.Add(new EventStreamHeader(name, type, BinaryPrimitives.ReadInt64BigEndian(Need(span, at, 8)), null, default));
                    at += 8;
                    break;
                case EventStreamHeaderType.Uuid:
                    headers.Add(EventStreamHeader.Uuid(name, Need(span, at, 16).ToArray()));
                    at += 16;
                    break;
                case EventStreamHeaderType.ByteArray or EventStreamHeaderType.String:
                    int length = BinaryPrimitives.ReadUInt16BigEndian(Need(span, at, 2));
                    var value = Need(span, at + 2, length);
                    headers.Add(type == EventStreamHeaderType.String
                        ? EventStreamHeader.String(name, Encoding.UTF8.GetString(value))
                        : EventStreamHeader.ByteArray(name, value.ToArray()));
                    at += 2 + length;
                    break;
                default:
                    throw new EventStreamFormatException($"Header {name} has unknown value type {(byte)type}.");
            }
        }
        return headers;
    }

    private static ReadOnlySpan<byte> Need(ReadOnlySpan<byte> span, int at, int length) =>
        at + length <= span.Length ? span.Slice(at, length) : throw new EventStreamFormatException($"A header runs past the end of the headers (byte {at} + {length} of {span.Length}).");
}
