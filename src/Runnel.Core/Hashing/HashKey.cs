using System.Globalization;
using System.Numerics;
using System.Text;

namespace Runnel.Core.Hashing;

/// <summary>
/// The 128-bit hash key space Kinesis routes on. A partition key maps to the MD5 of its UTF-8 bytes,
/// read as an unsigned big-endian 128-bit integer; an explicit hash key is a decimal in 0..2^128-1.
/// Thread-safe: all members are pure.
/// </summary>
public static class HashKey
{
    /// <summary>The largest hash key, 2^128 - 1.</summary>
    public static readonly UInt128 Max = UInt128.MaxValue;

    public static UInt128 FromPartitionKey(string partitionKey)
    {
        Span<byte> utf8 = partitionKey.Length <= 256 ? stackalloc byte[partitionKey.Length * 3] : new byte[partitionKey.Length * 3];
        int length = Encoding.UTF8.GetBytes(partitionKey, utf8);
        return FromPartitionKey(utf8[..length]);
    }

    public static UInt128 FromPartitionKey(ReadOnlySpan<byte> utf8)
    {
        Span<byte> digest = stackalloc byte[16];
        Md5.Hash(utf8, digest);
        return ReadBigEndian(digest);
    }

    public static UInt128 ReadBigEndian(ReadOnlySpan<byte> bytes) =>
        new(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));

    /// <summary>
    /// Parses a decimal explicit hash key. Returns false when the text is not a plain decimal
    /// or lies outside 0..2^128-1 (AWS answers both with InvalidArgumentException).
    /// </summary>
    public static bool TryParseDecimal(string text, out UInt128 value)
    {
        value = default;
        if (text.Length == 0 || text.Length > 39)
            return false;
        foreach (char c in text)
            if (c is < '0' or > '9')
                return false;
        if (!BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var big) || big > (BigInteger)UInt128.MaxValue)
            return false;
        value = (UInt128)big;
        return true;
    }

    public static string ToDecimal(UInt128 value) => value.ToString(CultureInfo.InvariantCulture);
}
