using System.Buffers.Binary;
using System.Text;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// Reads a GetRecords answer in CBOR by hopping over each item's length prefix, the way a CBOR decoder in a
/// Kinesis client reads one: the load generator shares the two cores with the server it measures, and
/// System.Formats.Cbor's reader (which validates every text string and nesting level) cost it 1.05 cores for a
/// drain that JSON's reader reads with 0.75, so the encoding's ratio measured the load generator. Reads
/// definite and indefinite lengths, tags and simple values; malformed input throws <see cref="FormatException"/>.
/// Stateless and thread-safe.
/// </summary>
public static class CborPage
{
    private const int IndefiniteLength = 31;

    private static ReadOnlySpan<byte> RecordsName => "Records"u8;

    private static ReadOnlySpan<byte> NextShardIteratorName => "NextShardIterator"u8;

    private static ReadOnlySpan<byte> MillisBehindLatestName => "MillisBehindLatest"u8;

    public static KinesisJson.RecordsPage Read(ReadOnlySpan<byte> cbor)
    {
        int at = 0;
        int count = 0;
        string? next = null;
        long behind = 0;
        var (major, members) = Head(cbor, ref at);
        if (major != 5)
            throw new FormatException($"A GetRecords answer is a map, not major type {major}.");
        for (long i = 0; members < 0 ? !AtBreak(cbor, ref at) : i < members; i++)
        {
            var name = Text(cbor, ref at);
            if (name.SequenceEqual(RecordsName))
            {
                var (arrayMajor, records) = Head(cbor, ref at);
                if (arrayMajor != 4)
                    throw new FormatException($"Records is an array, not major type {arrayMajor}.");
                for (long r = 0; records < 0 ? !AtBreak(cbor, ref at) : r < records; r++)
                {
                    Skip(cbor, ref at);
                    count++;
                }
            }
            else if (name.SequenceEqual(NextShardIteratorName))
            {
                next = at < cbor.Length && cbor[at] == 0xF6 ? null : Encoding.UTF8.GetString(Text(cbor, ref at));
                if (next is null)
                    at++;
            }
            else if (name.SequenceEqual(MillisBehindLatestName))
            {
                var (intMajor, value) = Head(cbor, ref at);
                behind = intMajor == 0 ? value : intMajor == 1 ? -1 - value : throw new FormatException("MillisBehindLatest is not an integer.");
            }
            else
            {
                Skip(cbor, ref at);
            }
        }
        return new KinesisJson.RecordsPage(count, next, behind);
    }

    /// <summary>Moves past one whole item.</summary>
    private static void Skip(ReadOnlySpan<byte> cbor, ref int at)
    {
        var (major, argument) = Head(cbor, ref at);
        switch (major)
        {
            case 0 or 1 or 7:
                return;
            case 2 or 3 when argument >= 0:
                Advance(cbor, ref at, argument);
                return;
            case 2 or 3: // indefinite: chunks of the same type until break
                while (!AtBreak(cbor, ref at))
                    Skip(cbor, ref at);
                return;
            case 4 or 5:
                long items = major == 5 && argument >= 0 ? argument * 2 : argument;
                if (argument < 0)
                    while (!AtBreak(cbor, ref at))
                        Skip(cbor, ref at);
                else
                    for (long i = 0; i < items; i++)
                        Skip(cbor, ref at);
                return;
            default: // 6: a tag, then the item it tags
                Skip(cbor, ref at);
                return;
        }
    }

    /// <summary>A definite-length text string's bytes (map keys and iterators are never chunked by our server).</summary>
    private static ReadOnlySpan<byte> Text(ReadOnlySpan<byte> cbor, ref int at)
    {
        var (major, length) = Head(cbor, ref at);
        if (major != 3 || length < 0)
            throw new FormatException($"Expected a definite-length text string at {at}, found major type {major}.");
        int start = at;
        Advance(cbor, ref at, length);
        return cbor[start..at];
    }

    /// <summary>
    /// An item's major type and argument (a value, a length or a count); -1 for an indefinite length. For
    /// major type 7 the item's bytes (a float or simple value) are consumed and the argument is 0.
    /// </summary>
    private static (int Major, long Argument) Head(ReadOnlySpan<byte> cbor, ref int at)
    {
        if (at >= cbor.Length)
            throw new FormatException("The answer ends inside an item.");
        byte initial = cbor[at++];
        int major = initial >> 5;
        int info = initial & 0x1F;
        if (major == 7)
        {
            // false, true, null, undefined, a simple value or a float: its bytes, whatever they hold
            Advance(cbor, ref at, info switch { < 24 => 0, 24 => 1, 25 => 2, 26 => 4, 27 => 8, _ => throw new FormatException($"Unexpected break or reserved value at {at - 1}.") });
            return (7, 0);
        }
        long argument = info switch
        {
            < 24 => info,
            24 => Fixed(cbor, ref at, 1),
            25 => Fixed(cbor, ref at, 2),
            26 => Fixed(cbor, ref at, 4),
            27 => Fixed(cbor, ref at, 8),
            IndefiniteLength when major is 2 or 3 or 4 or 5 => -1,
            _ => throw new FormatException($"Reserved additional information {info} at {at - 1}."),
        };
        return (major, argument);
    }

    private static long Fixed(ReadOnlySpan<byte> cbor, ref int at, int size)
    {
        if (at + size > cbor.Length)
            throw new FormatException("The answer ends inside an item's head.");
        var bytes = cbor.Slice(at, size);
        at += size;
        ulong value = size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            4 => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            _ => BinaryPrimitives.ReadUInt64BigEndian(bytes),
        };
        return value > long.MaxValue ? throw new FormatException("A length or integer beyond 2^63.") : (long)value;
    }

    private static void Advance(ReadOnlySpan<byte> cbor, ref int at, long length)
    {
        if (length > cbor.Length - at)
            throw new FormatException("The answer ends inside a string.");
        at += (int)length;
    }

    /// <summary>True, and past it, when the next byte is the break that ends an indefinite-length item.</summary>
    private static bool AtBreak(ReadOnlySpan<byte> cbor, ref int at)
    {
        if (at >= cbor.Length)
            throw new FormatException("The answer ends inside an indefinite-length item.");
        if (cbor[at] != 0xFF)
            return false;
        at++;
        return true;
    }
}
