namespace Runnel.Client.Aggregation;

/// <summary>
/// The few pieces of the protocol buffers wire format the KPL's messages need: base-128 varints, single-byte tags
/// (every field number of the KPL's messages is below 16) and length-delimited fields. Pure functions.
/// </summary>
internal static class ProtobufWire
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireFixed32 = 5;

    /// <summary>A tag of a field number below 16: one byte.</summary>
    public static byte Tag(int field, int wireType) => (byte)((field << 3) | wireType);

    /// <summary>The bytes <paramref name="value"/> takes as a varint (1 to 10).</summary>
    public static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }

    /// <summary>The bytes a length-delimited field of <paramref name="length"/> bytes takes with its one-byte tag.</summary>
    public static long FieldSize(long length) => 1 + VarintSize((ulong)length) + length;

    public static int WriteVarint(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads a varint at <paramref name="position"/>; false when it runs past the end or past 10 bytes.</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= source.Length)
                return false;
            byte b = source[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return true;
        }
        return false; // an eleventh byte: not a varint
    }

    /// <summary>Reads a length prefix and the bounds of the bytes it announces; false when they run past the end.</summary>
    public static bool TryReadLengthDelimited(ReadOnlySpan<byte> source, ref int position, out int start, out int length)
    {
        start = length = 0;
        if (!TryReadVarint(source, ref position, out ulong announced) || announced > (ulong)(source.Length - position))
            return false;
        start = position;
        length = (int)announced;
        position += length;
        return true;
    }

    /// <summary>Skips a field of an unknown number as its wire type says; false for groups (obsolete) and bad wire types.</summary>
    public static bool TrySkip(ReadOnlySpan<byte> source, ref int position, int wireType)
    {
        switch (wireType)
        {
            case WireVarint:
                return TryReadVarint(source, ref position, out _);
            case WireFixed64:
                position += 8;
                return position <= source.Length;
            case WireLengthDelimited:
                return TryReadLengthDelimited(source, ref position, out _, out _);
            case WireFixed32:
                position += 4;
                return position <= source.Length;
            default:
                return false;
        }
    }
}
