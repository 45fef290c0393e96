namespace Runnel.Protocol.EventStream;

/// <summary>The value types of an event-stream header, by their wire indicator (docs/formats/eventstream.md).</summary>
public enum EventStreamHeaderType : byte
{
    BoolTrue = 0,
    BoolFalse = 1,
    Byte = 2,
    Short = 3,
    Integer = 4,
    Long = 5,
    ByteArray = 6,
    String = 7,
    Timestamp = 8,
    Uuid = 9,
}

/// <summary>
/// One header of an event-stream message: a name (1 to 255 UTF-8 bytes) and a typed value. Integers, booleans
/// and timestamps (Unix milliseconds) are kept in <see cref="Number"/>, strings in <see cref="Text"/>, byte
/// arrays and UUIDs (16 bytes, in wire order) in <see cref="Bytes"/>. Build one with the factory methods.
/// </summary>
public readonly record struct EventStreamHeader(string Name, EventStreamHeaderType Type, long Number, string? Text, ReadOnlyMemory<byte> Bytes)
{
    public static EventStreamHeader String(string name, string value) => new(name, EventStreamHeaderType.String, 0, value, default);

    public static EventStreamHeader Boolean(string name, bool value) => new(name, value ? EventStreamHeaderType.BoolTrue : EventStreamHeaderType.BoolFalse, value ? 1 : 0, null, default);

    public static EventStreamHeader Byte(string name, sbyte value) => new(name, EventStreamHeaderType.Byte, value, null, default);

    public static EventStreamHeader Short(string name, short value) => new(name, EventStreamHeaderType.Short, value, null, default);

    public static EventStreamHeader Integer(string name, int value) => new(name, EventStreamHeaderType.Integer, value, null, default);

    public static EventStreamHeader Long(string name, long value) => new(name, EventStreamHeaderType.Long, value, null, default);

    public static EventStreamHeader ByteArray(string name, ReadOnlyMemory<byte> value) => new(name, EventStreamHeaderType.ByteArray, 0, null, value);

    public static EventStreamHeader Timestamp(string name, DateTimeOffset value) => new(name, EventStreamHeaderType.Timestamp, value.ToUnixTimeMilliseconds(), null, default);

    /// <summary>A UUID header from its 16 bytes in wire (RFC 9562, big-endian) order.</summary>
    public static EventStreamHeader Uuid(string name, ReadOnlyMemory<byte> value) =>
        value.Length == 16 ? new(name, EventStreamHeaderType.Uuid, 0, null, value) : throw new ArgumentException("A UUID is 16 bytes.", nameof(value));

    public override string ToString() => Type switch
    {
        EventStreamHeaderType.String => $"{Name}: {Text}",
        EventStreamHeaderType.ByteArray or EventStreamHeaderType.Uuid => $"{Name}: {Convert.ToHexString(Bytes.Span)}",
        EventStreamHeaderType.BoolTrue or EventStreamHeaderType.BoolFalse => $"{Name}: {Number != 0}",
        _ => $"{Name}: {Number}",
    };
}

/// <summary>A decoded event-stream message.</summary>
public sealed record EventStreamMessage(IReadOnlyList<EventStreamHeader> Headers, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The value of the string header <paramref name="name"/>, or null.</summary>
    public string? Header(string name)
    {
        foreach (var header in Headers)
            if (header.Name == name)
                return header.Text;
        return null;
    }
}

/// <summary>Bytes that are not a valid event-stream message: the stream must be ended (the specification says so).</summary>
public sealed class EventStreamFormatException(string message) : FormatException(message);
