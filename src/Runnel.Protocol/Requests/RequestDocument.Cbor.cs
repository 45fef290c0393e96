using System.Buffers.Binary;

namespace Runnel.Protocol.Requests;

/// <summary>
/// The CBOR reader (RFC 8949), Runnel's own: it reads the request bytes in place into the same nodes JSON
/// makes. Byte strings stay bytes (no base64 on the way), text is checked to be UTF-8, tag 1 and the
/// timestamp members carry epoch milliseconds as the AWS SDKs send them, and null, undefined and other
/// simple values read as null.
/// </summary>
public sealed partial class RequestDocument
{
    /// <summary>
    /// Reads a CBOR body. Throws <see cref="FormatException"/> when it is not one well-formed CBOR item, nests
    /// deeper than 64, has a map key that is not a text string, text that is not UTF-8, an integer beyond 64 bits
    /// or a number that is not finite.
    /// </summary>
    public static RequestDocument ParseCbor(ReadOnlyMemory<byte> cbor, int maxDepth = MaxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDepth, DepthLimit);
        var document = new RequestDocument(cbor) { _maxDepth = maxDepth };
        try
        {
            var reader = new CborReader(cbor.Span);
            document.ReadCbor(ref reader, 0, default);
            if (!reader.AtEnd)
                throw new FormatException("Trailing bytes after the CBOR document.");
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>Members whose value is a timestamp even without tag 1 (the SDKs may send a bare integer of epoch milliseconds).</summary>
    private static bool IsTimestampMember(ReadOnlySpan<byte> name) => name.SequenceEqual("Timestamp"u8) || name.SequenceEqual("StreamCreationTimestamp"u8);

    private void ReadCbor(ref CborReader reader, int depth, ReadOnlySpan<byte> member)
    {
        if (depth > _maxDepth)
            throw new FormatException("CBOR nesting is too deep.");
        var (major, argument, indefinite) = reader.Head();
        switch (major)
        {
            case 0:
                if (IsTimestampMember(member))
                    AddInteger(AsLong(argument), millis: true);
                else
                    AddInteger((long)argument, unsigned: argument > long.MaxValue);
                break;
            case 1:
                long negative = -1 - AsLong(argument);
                if (IsTimestampMember(member))
                    AddInteger(negative, millis: true);
                else
                    AddInteger(negative);
                break;
            case 2 or 3:
                var kind = major == 2 ? RequestKind.Bytes : RequestKind.String;
                if (!indefinite)
                    AddInPlace(kind, reader.Take(argument), reader.Position);
                else
                    AddChunks(ref reader, kind, major);
                break;
            case 4:
                {
                    int array = Add(RequestKind.Array);
                    for (ulong i = 0; indefinite ? !reader.TakeBreak() : i < argument; i++)
                    {
                        _nodes[array].Length++;
                        ReadCbor(ref reader, depth + 1, default);
                    }
                    _nodes[array].End = _count;
                    break;
                }
            case 5:
                {
                    int map = Add(RequestKind.Object);
                    for (ulong i = 0; indefinite ? !reader.TakeBreak() : i < argument; i++)
                    {
                        var (keyMajor, keyLength, keyIndefinite) = reader.Head();
                        if (keyMajor != 3 || keyIndefinite)
                            throw new FormatException("CBOR map keys must be text strings.");
                        var name = reader.Take(keyLength);
                        AddInPlace(RequestKind.String, name, reader.Position);
                        _nodes[map].Length++;
                        ReadCbor(ref reader, depth + 1, name);
                    }
                    _nodes[map].End = _count;
                    break;
                }
            case 6:
                if (argument == 1)
                {
                    // The AWS SDKs put epoch milliseconds under tag 1.
                    var (valueMajor, value, _) = reader.Head();
                    if (valueMajor == 0)
                        AddInteger(AsLong(value), millis: true);
                    else if (valueMajor == 1)
                        AddInteger(-1 - AsLong(value), millis: true);
                    else if (valueMajor == 7 && reader.Float() is { } millis)
                        AddFloat(Finite(millis) / 1000d);
                    else
                        throw new FormatException("Tag 1 must hold a number.");
                }
                else
                {
                    ReadCbor(ref reader, depth + 1, member);
                }
                break;
            default: // 7: simple values and floats
                if (indefinite)
                    throw new FormatException("A CBOR break outside an indefinite-length item.");
                if (reader.Float() is { } number)
                    AddFloat(Finite(number));
                else if (reader.LastInfo == 20 || reader.LastInfo == 21)
                    Add(reader.LastInfo == 21 ? RequestKind.True : RequestKind.False);
                else
                    Add(RequestKind.Null); // null, undefined and unassigned simple values read as null
                break;
        }
    }

    /// <summary>A definite string that ends at <paramref name="end"/> in the body: pointed at, not copied.</summary>
    private void AddInPlace(RequestKind kind, ReadOnlySpan<byte> bytes, int end)
    {
        if (kind == RequestKind.String)
            CheckUtf8(bytes);
        int nodeIndex = Add(kind);
        ref var node = ref _nodes[nodeIndex];
        node.Start = end - bytes.Length;
        node.Length = bytes.Length;
    }

    /// <summary>An indefinite-length string: its chunks joined into the side buffer.</summary>
    private void AddChunks(ref CborReader reader, RequestKind kind, int major)
    {
        int index = Add(kind);
        int start = _sideLength;
        while (!reader.TakeBreak())
        {
            var (chunkMajor, length, indefinite) = reader.Head();
            if (chunkMajor != major || indefinite)
                throw new FormatException("A chunk of an indefinite-length CBOR string is not a definite string of its type.");
            var chunk = reader.Take(length);
            chunk.CopyTo(SideSpace(chunk.Length));
            _sideLength += chunk.Length;
        }
        ref var node = ref _nodes[index];
        node.Side = true;
        node.Start = start;
        node.Length = _sideLength - start;
        if (kind == RequestKind.String)
            CheckUtf8(_side.AsSpan(start, node.Length));
    }

    /// <summary>A CBOR integer, held exactly: <paramref name="unsigned"/> above <see cref="long.MaxValue"/>, or
    /// <paramref name="millis"/> for a timestamp's epoch milliseconds.</summary>
    private void AddInteger(long value, bool unsigned = false, bool millis = false)
    {
        int nodeIndex = Add(RequestKind.Number);
        ref var node = ref _nodes[nodeIndex];
        node.HasInteger = true;
        node.Unsigned = unsigned;
        node.Millis = millis;
        node.Integer = value;
    }

    private void AddFloat(double value)
    {
        int index = Add(RequestKind.Number);
        _nodes[index].Number = value;
    }

    private static long AsLong(ulong value) =>
        value <= long.MaxValue ? (long)value : throw new FormatException("A CBOR integer is beyond 64 bits.");

    private static double Finite(double value) => double.IsFinite(value) ? value : throw new FormatException("Non-finite number.");

    /// <summary>A position in the CBOR bytes. Every read checks the bounds: truncation is a FormatException.</summary>
    private ref struct CborReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; }

        public readonly bool AtEnd => Position == _data.Length;

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
            if (Position >= _data.Length)
                throw new FormatException("Truncated CBOR: an indefinite-length item has no break.");
            if (_data[Position] != 0xFF)
                return false;
            Position++;
            return true;
        }

        public ReadOnlySpan<byte> Take(ulong length)
        {
            if (length > (ulong)(_data.Length - Position))
                throw new FormatException("Truncated CBOR.");
            var slice = _data.Slice(Position, (int)length);
            Position += (int)length;
            return slice;
        }

        private byte Byte()
        {
            if (Position >= _data.Length)
                throw new FormatException("Truncated CBOR.");
            return _data[Position++];
        }
    }
}
