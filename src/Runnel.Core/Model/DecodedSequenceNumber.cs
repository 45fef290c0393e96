using System.Globalization;
using System.Numerics;

namespace Runnel.Core.Model;

/// <summary>The layouts a sequence number sent by a client can be in.</summary>
public enum SequenceLayout
{
    /// <summary>AWS's first layout (values below 2^129; smaller ones are read as if 2^124 were added): shard time and a 16-bit shard index.</summary>
    AwsVersion0,

    /// <summary>AWS's second layout (lowest hexadecimal digit 1): shard time, record time, an 8-bit counter, the shard index.</summary>
    AwsVersion1,

    /// <summary>AWS's current layout (lowest hexadecimal digit 2), the one Runnel issues: see <see cref="SequenceNumber"/>.</summary>
    AwsVersion2,

    /// <summary>The 43-digit layout of Runnel before metadata schema 4: '4', shard seconds (10), shard index (12), counter (20).</summary>
    RunnelLegacy,
}

/// <summary>
/// A sequence number as a client sent it, decoded as AWS decodes it: the layout, the shard time and index it
/// encodes, its counter and record time, and <see cref="Text"/>, the form AWS quotes in its errors (a version 0
/// number written back in full, anything else as sent). <see cref="TryDecode"/> refuses what AWS calls invalid.
/// </summary>
public readonly record struct DecodedSequenceNumber(SequenceLayout Layout, long ShardSeconds, int ShardIndex, ulong Counter, long? RecordSeconds, string Text)
{
    private static readonly BigInteger Pow124 = BigInteger.One << 124;
    private static readonly BigInteger Pow129 = BigInteger.One << 129;
    private static readonly BigInteger Pow185 = BigInteger.One << 185;
    private static readonly BigInteger Pow185AndHalf = Pow185 + (Pow185 >> 1);
    private const int LegacyLength = 43;

    // Version 0 numbers whose time field reaches this are refused (as AWS refuses them).
    private const long Version0SecondsLimit = 16_025_175_000;

    /// <summary>The offset an AT_SEQUENCE_NUMBER iterator starts at.</summary>
    public ulong AtOffset => Counter == 0 ? 0 : Counter - 1;

    /// <summary>The offset an AFTER_SEQUENCE_NUMBER iterator starts at.</summary>
    public ulong AfterOffset => Counter;

    /// <summary>
    /// Decodes <paramref name="text"/> (decimal digits, as the request patterns allow). False for anything AWS
    /// answers "is invalid" to: not a number, an unknown version, a field out of its range, a version 0 time
    /// too large, a record time after <paramref name="nowSeconds"/>.
    /// </summary>
    public static bool TryDecode(string? text, long nowSeconds, out DecodedSequenceNumber decoded)
    {
        decoded = default;
        if (string.IsNullOrEmpty(text) || text.Length > 129 || (text[0] == '0' && text.Length > 1))
            return false;
        foreach (char c in text)
            if (c is < '0' or > '9')
                return false;
        if (text.Length == LegacyLength && text[0] == '4')
            return TryDecodeLegacy(text, out decoded);

        var n = BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        if (n < Pow124)
            n += Pow124;
        if (n < Pow129)
            return TryDecodeVersion0(n, out decoded);
        if (n <= Pow185 || n >= Pow185AndHalf)
            return false;

        long shardSeconds = (long)(ulong)((n >> 148) & SequenceNumber.MaxSeconds);
        ulong index = (ulong)((n >> 4) & uint.MaxValue);
        if (index > int.MaxValue)
            return false;
        SequenceLayout layout;
        ulong counter;
        long recordSeconds;
        switch ((int)(n & 0xF))
        {
            case 2:
                layout = SequenceLayout.AwsVersion2;
                counter = (ulong)((n >> 80) & ulong.MaxValue);
                if (counter > long.MaxValue)
                    return false;
                recordSeconds = (long)(ulong)((n >> 36) & SequenceNumber.MaxSeconds);
                break;
            case 1:
                layout = SequenceLayout.AwsVersion1;
                counter = (ulong)((n >> 36) & 0xFF);
                recordSeconds = (long)(ulong)((n >> 100) & SequenceNumber.MaxSeconds);
                break;
            default:
                return false;
        }
        if (recordSeconds > nowSeconds)
            return false;
        decoded = new DecodedSequenceNumber(layout, shardSeconds, (int)index, counter, recordSeconds, text);
        return true;
    }

    private static bool TryDecodeVersion0(BigInteger n, out DecodedSequenceNumber decoded)
    {
        decoded = default;
        // Read as hexadecimal digits, as AWS does: the time is digits 1-9, the shard index digits 28-31, and the
        // number AWS quotes is '1' followed by digits 1-31.
        string hex = n.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
        long seconds = long.Parse(hex.AsSpan(1, 9), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (seconds >= Version0SecondsLimit)
            return false;
        int index = int.Parse(hex.AsSpan(28, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var canonical = BigInteger.Parse(string.Concat("01", hex.AsSpan(1, 31)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        decoded = new DecodedSequenceNumber(SequenceLayout.AwsVersion0, seconds, index, 0, null, canonical.ToString(CultureInfo.InvariantCulture));
        return true;
    }

    private static bool TryDecodeLegacy(string text, out DecodedSequenceNumber decoded)
    {
        decoded = default;
        var span = text.AsSpan();
        if (!long.TryParse(span.Slice(1, 10), NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
            || !long.TryParse(span.Slice(11, 12), NumberStyles.None, CultureInfo.InvariantCulture, out long index)
            || index > int.MaxValue
            || !ulong.TryParse(span.Slice(23, 20), NumberStyles.None, CultureInfo.InvariantCulture, out ulong counter))
            return false;
        decoded = new DecodedSequenceNumber(SequenceLayout.RunnelLegacy, seconds, (int)index, counter, null, text);
        return true;
    }
}
