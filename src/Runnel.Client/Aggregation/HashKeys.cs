using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Runnel.Client.Aggregation;

/// <summary>
/// Kinesis hash keys: a record goes to the shard whose hash-key range holds its hash key, which is its explicit hash
/// key when it has one, else the MD5 of its partition key's UTF-8 bytes read as a 128-bit big-endian unsigned integer.
/// Explicit hash keys travel as decimal text, 0 to 2^128 - 1. Thread-safe: pure functions.
/// </summary>
public static class HashKeys
{
    /// <summary>The largest hash key, 2^128 - 1: the ending hash key of a stream's last shard.</summary>
    public static UInt128 MaxHashKey => UInt128.MaxValue;

    /// <summary>The longest decimal text of a hash key (2^128 - 1 has 39 digits).</summary>
    public const int MaxDecimalDigits = 39;

    /// <summary>The hash key Kinesis gives <paramref name="partitionKey"/>: MD5 of its UTF-8 bytes, big-endian.</summary>
    public static UInt128 OfPartitionKey(string partitionKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        int most = Encoding.UTF8.GetMaxByteCount(partitionKey.Length);
        byte[]? rented = most > 1024 ? ArrayPool<byte>.Shared.Rent(most) : null;
        try
        {
            Span<byte> bytes = rented is null ? stackalloc byte[most] : rented.AsSpan();
            int length = Encoding.UTF8.GetBytes(partitionKey, bytes);
            Span<byte> digest = stackalloc byte[MD5.HashSizeInBytes];
            MD5.HashData(bytes[..length], digest);
            return BinaryPrimitives.ReadUInt128BigEndian(digest);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The hash key that routes a record: <paramref name="explicitHashKey"/> when given, else that of
    /// <paramref name="partitionKey"/>. Throws <see cref="FormatException"/> when the explicit hash key is not a
    /// valid one (see <see cref="TryParse"/>).
    /// </summary>
    public static UInt128 Effective(string partitionKey, string? explicitHashKey) =>
        explicitHashKey is null ? OfPartitionKey(partitionKey) : Parse(explicitHashKey);

    /// <summary>
    /// Parses an explicit hash key as Kinesis accepts it: decimal digits without sign, spaces or leading zeros
    /// (pattern <c>0|([1-9]\d{0,38})</c>), at most 2^128 - 1.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out UInt128 hashKey)
    {
        hashKey = default;
        if (text.IsEmpty || text.Length > MaxDecimalDigits || (text.Length > 1 && text[0] == '0'))
            return false;
        foreach (char c in text)
            if (!char.IsAsciiDigit(c))
                return false;
        return UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out hashKey); // false past 2^128 - 1
    }

    /// <summary>Parses an explicit hash key as <see cref="TryParse"/> does; throws <see cref="FormatException"/> when it is not one.</summary>
    public static UInt128 Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var hashKey)
            ? hashKey
            : throw new FormatException($"'{text}' is not a hash key: decimal digits without leading zeros, from 0 to 2^128 - 1.");
    }

    /// <summary>The decimal text of a hash key, as Kinesis writes hash keys (no leading zeros).</summary>
    public static string Format(UInt128 hashKey) => hashKey.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses a hash key from an aggregate written by another producer, which Kinesis never validated: leading zeros
    /// are taken (as the KCL's BigInteger takes them), anything else that is not 0 to 2^128 - 1 is not a hash key.
    /// </summary>
    internal static bool TryParseLenient(ReadOnlySpan<char> text, out UInt128 hashKey)
    {
        hashKey = default;
        if (text.IsEmpty)
            return false;
        foreach (char c in text)
            if (!char.IsAsciiDigit(c))
                return false;
        return UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out hashKey);
    }
}
