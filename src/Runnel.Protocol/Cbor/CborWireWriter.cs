using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Runnel.Protocol.Cbor;

/// <summary>
/// AWS CBOR 1.1 responses (<c>application/x-amz-cbor-1.1</c>, the Java SDK's default for Kinesis), encoded
/// straight into a pooled buffer (RFC 8949): maps and arrays of indefinite length, blobs as byte strings,
/// timestamps as tag 1 around epoch milliseconds, integers in their shortest form. Strings given as UTF-8
/// bytes (sequence numbers, partition keys read from the log) are copied as they are. Not thread-safe.
/// </summary>
public sealed class CborWireWriter : IWireWriter
{
    public const string MediaType = "application/x-amz-cbor-1.1";

    private const byte UnsignedMajor = 0, NegativeMajor = 1, BytesMajor = 2, TextMajor = 3;
    private const byte IndefiniteMap = 0xBF, IndefiniteArray = 0x9F, Break = 0xFF, False = 0xF4, True = 0xF5, NullValue = 0xF6;
    private const byte TimestampTag = 0xC1; // tag 1: epoch-based date/time

    private readonly PooledBufferWriter? _pooled; // null when writing into the caller's output
    private readonly IBufferWriter<byte> _buffer;

    public CborWireWriter(int initialCapacity = 1024) => _buffer = _pooled = new PooledBufferWriter(initialCapacity);

    /// <summary>A writer straight into <paramref name="output"/> (a response's pipe).</summary>
    public CborWireWriter(IBufferWriter<byte> output) => _buffer = output;

    // The span being filled: taken from the output in pieces of at least ChunkBytes and handed back (Advance) when
    // full or at Commit, so that a token costs no call into the output (a response pipe's GetSpan takes a lock).
    private const int ChunkBytes = 4096;
    private Memory<byte> _memory;
    private int _used;

    private PooledBufferWriter Pooled => _pooled ?? throw new InvalidOperationException("this writer writes into its caller's output");

    public string ContentType => MediaType;

    public void StartObject() => Byte(IndefiniteMap);

    public void StartObject(string name)
    {
        Text(name);
        Byte(IndefiniteMap);
    }

    public void EndObject() => Byte(Break);

    public void StartArray(string name)
    {
        Text(name);
        Byte(IndefiniteArray);
    }

    public void StartArray() => Byte(IndefiniteArray);

    public void EndArray() => Byte(Break);

    public void String(string name, string value)
    {
        Text(name);
        Text(value);
    }

    public void String(string value) => Text(value);

    public void Number(string name, long value)
    {
        Text(name);
        Integer(value);
    }

    /// <summary>A double-precision float (major type 7, 0xFB, eight bytes big-endian).</summary>
    public void Double(string name, double value)
    {
        Text(name);
        var span = Take(9);
        span[0] = 0xFB;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        Used(9);
    }

    public void Boolean(string name, bool value)
    {
        Text(name);
        Byte(value ? True : False);
    }

    public void Null(string name)
    {
        Text(name);
        Byte(NullValue);
    }

    public void Blob(string name, ReadOnlySpan<byte> value)
    {
        Text(name);
        Raw(BytesMajor, value);
    }

    public void Utf8String(string name, ReadOnlySpan<byte> value)
    {
        Text(name);
        Raw(TextMajor, value);
    }

    public void Timestamp(string name, long epochMillis)
    {
        Text(name);
        Byte(TimestampTag);
        Integer(epochMillis);
    }

    public void Record(ReadOnlySpan<byte> sequenceNumber, long arrivalMillis, ReadOnlySpan<byte> data, ReadOnlySpan<byte> partitionKey, bool encrypted = false)
    {
        Byte(IndefiniteMap);
        Raw(TextMajor, "SequenceNumber"u8);
        Raw(TextMajor, sequenceNumber);
        Raw(TextMajor, "ApproximateArrivalTimestamp"u8);
        Byte(TimestampTag);
        Integer(arrivalMillis);
        Raw(TextMajor, "Data"u8);
        Raw(BytesMajor, data);
        if (!partitionKey.IsEmpty)
        {
            Raw(TextMajor, "PartitionKey"u8);
            Raw(TextMajor, partitionKey);
        }
        if (encrypted)
        {
            Raw(TextMajor, "EncryptionType"u8);
            Raw(TextMajor, "KMS"u8);
        }
        Byte(Break);
    }

    public void Reserve(int bytes)
    {
        Commit();
        _pooled?.Reserve(bytes);
    }

    public void Commit()
    {
        if (_used > 0)
            _buffer.Advance(_used);
        _memory = default;
        _used = 0;
    }

    public ReadOnlyMemory<byte> Complete()
    {
        Commit();
        return Pooled.WrittenMemory;
    }

    /// <summary>Keeps up to 64 KiB of buffer between documents; a larger one goes back to the pool.</summary>
    public void Reset()
    {
        _memory = default;
        _used = 0;
        Pooled.Clear(64 * 1024);
    }

    public void Dispose()
    {
        _memory = default;
        _pooled?.Dispose();
    }

    /// <summary>At least <paramref name="size"/> bytes to write into; <see cref="Used"/> says how many were.</summary>
    private Span<byte> Take(int size)
    {
        if (_memory.Length - _used < size)
        {
            Commit();
            _memory = _buffer.GetMemory(Math.Max(size, ChunkBytes));
        }
        return _memory.Span[_used..];
    }

    private void Used(int count) => _used += count;

    private void Byte(byte value)
    {
        Take(1)[0] = value;
        _used++;
    }

    private void Integer(long value)
    {
        var span = Take(9);
        Used(value >= 0 ? Head(span, UnsignedMajor, (ulong)value) : Head(span, NegativeMajor, (ulong)(-1 - value)));
    }

    private void Text(string value)
    {
        // Member names and most values are ASCII: one byte per character, no counting pass.
        int length = System.Text.Ascii.IsValid(value) ? value.Length : Encoding.UTF8.GetByteCount(value);
        var span = Take(length + 9);
        int head = Head(span, TextMajor, (ulong)length);
        Encoding.UTF8.GetBytes(value, span[head..]);
        Used(head + length);
    }

    private void Raw(byte major, ReadOnlySpan<byte> value)
    {
        var span = Take(value.Length + 9);
        int head = Head(span, major, (ulong)value.Length);
        value.CopyTo(span[head..]);
        Used(head + value.Length);
    }

    /// <summary>Writes a major type with its argument in the shortest form; returns the bytes written.</summary>
    private static int Head(Span<byte> span, byte major, ulong argument)
    {
        byte type = (byte)(major << 5);
        switch (argument)
        {
            case < 24:
                span[0] = (byte)(type | (byte)argument);
                return 1;
            case <= byte.MaxValue:
                span[0] = (byte)(type | 24);
                span[1] = (byte)argument;
                return 2;
            case <= ushort.MaxValue:
                span[0] = (byte)(type | 25);
                BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)argument);
                return 3;
            case <= uint.MaxValue:
                span[0] = (byte)(type | 26);
                BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)argument);
                return 5;
            default:
                span[0] = (byte)(type | 27);
                BinaryPrimitives.WriteUInt64BigEndian(span[1..], argument);
                return 9;
        }
    }
}
