using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace Runnel.Protocol.Cbor;

/// <summary>
/// Turns a CBOR request body (RFC 8949) into the equivalent AWS JSON 1.1 body, so that one request reader and
/// one validator serve both encodings: byte strings become base64 strings, tag-1 timestamps (epoch
/// milliseconds, as the AWS SDKs send them) become epoch seconds, and everything else maps one to one. It reads
/// the CBOR bytes in place and writes the JSON into the caller's buffer: keys, strings and blobs go from one
/// to the other without a string or array made per item, so a PutRecords of 500 records costs one pass over
/// each encoding (docs/benchmarks.md, "encodings").
/// </summary>
public static class CborToJson
{
    private const int MaxDepth = 64;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // UTF-8 text stays UTF-8: the reader unescapes what it must anyway.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Transcodes into a new array; see <see cref="Transcode(ReadOnlySpan{byte}, IBufferWriter{byte})"/>.</summary>
    public static byte[] Transcode(ReadOnlyMemory<byte> cbor)
    {
        var output = new ArrayBufferWriter<byte>(cbor.Length * 2 + 16);
        Transcode(cbor.Span, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes the JSON equivalent of <paramref name="cbor"/> into <paramref name="output"/>. Throws
    /// <see cref="FormatException"/> when the body is not one well-formed CBOR item, nests deeper than 64, has a
    /// map key that is not a text string, text that is not UTF-8, an integer beyond 64 bits or a number that is
    /// not finite.
    /// </summary>
    public static void Transcode(ReadOnlySpan<byte> cbor, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        var reader = new Reader(cbor);
        Copy(ref reader, writer, 0, default);
        if (!reader.AtEnd)
            throw new FormatException("Trailing bytes after the CBOR document.");
        writer.Flush();
    }

    /// <summary>Members whose value is a timestamp even without tag 1 (the SDKs may send a bare integer of epoch milliseconds).</summary>
    private static bool IsTimestampMember(ReadOnlySpan<byte> name) => name.SequenceEqual("Timestamp"u8) || name.SequenceEqual("StreamCreationTimestamp"u8);

    private static void Copy(ref Reader reader, Utf8JsonWriter writer, int depth, ReadOnlySpan<byte> member)
    {
        if (depth > MaxDepth)
            throw new FormatException("CBOR nesting is too deep.");
        var (major, argument, indefinite) = reader.Head();
        switch (major)
        {
            case 0:
                if (IsTimestampMember(member))
                    writer.WriteNumberValue(AsLong(argument) / 1000m);
                else
                    writer.WriteNumberValue(argument);
                break;
            case 1:
                long negative = -1 - AsLong(argument);
                if (IsTimestampMember(member))
                    writer.WriteNumberValue(negative / 1000m);
                else
                    writer.WriteNumberValue(negative);
                break;
            case 2:
                if (!indefinite)
                {
                    writer.WriteBase64StringValue(reader.Take(argument));
                    break;
                }
                using (var joined = reader.Chunks(2))
                    writer.WriteBase64StringValue(joined.Span);
                break;
            case 3:
                if (!indefinite)
                {
                    writer.WriteStringValue(Utf8(reader.Take(argument)));
                    break;
                }
                using (var joined = reader.Chunks(3))
                    writer.WriteStringValue(Utf8(joined.Span));
                break;
            case 4:
                writer.WriteStartArray();
                for (ulong i = 0; indefinite ? !reader.TakeBreak() : i < argument; i++)
                    Copy(ref reader, writer, depth + 1, default);
                writer.WriteEndArray();
                break;
            case 5:
                writer.WriteStartObject();
                for (ulong i = 0; indefinite ? !reader.TakeBreak() : i < argument; i++)
                {
                    var (keyMajor, keyLength, keyIndefinite) = reader.Head();
                    if (keyMajor != 3 || keyIndefinite)
                        throw new FormatException("CBOR map keys must be text strings.");
                    var name = Utf8(reader.Take(keyLength));
                    writer.WritePropertyName(name);
                    Copy(ref reader, writer, depth + 1, name);
                }
                writer.WriteEndObject();
                break;
            case 6:
                if (argument == 1)
                {
                    // The AWS SDKs put epoch milliseconds under tag 1; JSON carries epoch seconds.
                    var (valueMajor, value, _) = reader.Head();
                    if (valueMajor == 0)
                        writer.WriteNumberValue(AsLong(value) / 1000m);
                    else if (valueMajor == 1)
                        writer.WriteNumberValue((-1 - AsLong(value)) / 1000m);
                    else if (valueMajor == 7 && reader.Float() is { } seconds)
                        writer.WriteNumberValue(Finite(seconds) / 1000d);
                    else
                        throw new FormatException("Tag 1 must hold a number.");
                }
                else
                {
                    Copy(ref reader, writer, depth + 1, member);
                }
                break;
            default: // 7: simple values and floats
                if (indefinite)
                    throw new FormatException("A CBOR break outside an indefinite-length item.");
                if (reader.Float() is { } number)
                    writer.WriteNumberValue(Finite(number));
                else if (reader.LastInfo == 20 || reader.LastInfo == 21)
                    writer.WriteBooleanValue(reader.LastInfo == 21);
                else
                    writer.WriteNullValue(); // null, undefined and unassigned simple values read as null
                break;
        }
    }

    /// <summary>Text as it came, once checked to be UTF-8 (the JSON writer would put U+FFFD in place of bad bytes).</summary>
    private static ReadOnlySpan<byte> Utf8(ReadOnlySpan<byte> text) =>
        System.Text.Unicode.Utf8.IsValid(text) ? text : throw new FormatException("A CBOR text string is not valid UTF-8.");

    private static long AsLong(ulong value) =>
        value <= long.MaxValue ? (long)value : throw new FormatException("A CBOR integer is beyond 64 bits.");

    private static double Finite(double value) => double.IsFinite(value) ? value : throw new FormatException("Non-finite number.");

    /// <summary>A position in the CBOR bytes. Every read checks the bounds: truncation is a FormatException.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;

        /// <summary>The additional information (low five bits) of the last head read: which simple value or float it was.</summary>
        public int LastInfo { get; private set; }

        /// <summary>Reads an item's head: major type, argument (length, count, value or tag), and whether it is of indefinite length.</summary>
        public (int Major, ulong Argument, bool Indefinite) Head()
        {
            byte initial = Byte();
            int major = initial >> 5, info = initial & 0x1F;
            LastInfo = info;
            if (major == 7 && info is 25 or 26 or 27)
                return (7, 0, false); // a float: its bytes follow, read by Float
            ulong argument = info switch
            {
                < 24 => (ulong)info,
                24 => Byte(),
                25 => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
                26 => BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
                27 => BinaryPrimitives.ReadUInt64BigEndian(Take(8)),
                31 when major is 2 or 3 or 4 or 5 => 0,
                31 when major == 7 => throw new FormatException("A CBOR break outside an indefinite-length item."),
                _ => throw new FormatException($"Malformed CBOR head 0x{initial:X2}."),
            };
            if (major == 6 && info == 31)
                throw new FormatException($"Malformed CBOR head 0x{initial:X2}.");
            return (major, argument, info == 31);
        }

        /// <summary>After a major type 7 head: the float that follows it (half, single or double), or null for a simple value.</summary>
        public double? Float() => LastInfo switch
        {
            25 => (double)BinaryPrimitives.ReadHalfBigEndian(Take(2)),
            26 => BinaryPrimitives.ReadSingleBigEndian(Take(4)),
            27 => BinaryPrimitives.ReadDoubleBigEndian(Take(8)),
            _ => null,
        };

        /// <summary>True (and consumed) when the next byte is a break (0xFF), which ends an indefinite-length item.</summary>
        public bool TakeBreak()
        {
            if (_position >= _data.Length)
                throw new FormatException("Truncated CBOR: an indefinite-length item has no break.");
            if (_data[_position] != 0xFF)
                return false;
            _position++;
            return true;
        }

        public ReadOnlySpan<byte> Take(ulong length)
        {
            if (length > (ulong)(_data.Length - _position))
                throw new FormatException("Truncated CBOR.");
            var slice = _data.Slice(_position, (int)length);
            _position += (int)length;
            return slice;
        }

        /// <summary>The chunks of an indefinite-length string of <paramref name="major"/> type, joined in a pooled buffer.</summary>
        public Joined Chunks(int major)
        {
            var joined = new Joined();
            while (!TakeBreak())
            {
                var (chunkMajor, length, indefinite) = Head();
                if (chunkMajor != major || indefinite)
                    throw new FormatException("A chunk of an indefinite-length CBOR string is not a definite string of its type.");
                joined.Append(Take(length));
            }
            return joined;
        }

        private byte Byte()
        {
            if (_position >= _data.Length)
                throw new FormatException("Truncated CBOR.");
            return _data[_position++];
        }
    }

    /// <summary>Bytes appended into an array from the shared pool, returned on Dispose.</summary>
    private sealed class Joined : IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(256);
        private int _length;

        public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (_length + bytes.Length > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + bytes.Length, _buffer.Length * 2));
                _buffer.AsSpan(0, _length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
    }
}
