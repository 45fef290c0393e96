using System.Globalization;

namespace Runnel.Core.Model;

/// <summary>
/// A record's sequence number: a fixed-width decimal string, so that comparing two of them as strings
/// and as big integers agrees. Layout (43 digits):
/// <code>
///   '4' | shard creation time, Unix seconds (10 digits) | shard index (12 digits) | counter (20 digits)
/// </code>
/// The counter is the record's offset in its shard's log plus one; counter 0 is the shard's
/// StartingSequenceNumber, below every record, so that AFTER_SEQUENCE_NUMBER at a shard's start returns its
/// first record as on AWS. Sequence numbers therefore grow strictly within a shard. The shard index makes them unique across a stream. The epoch is the stream's reshard
/// generation in which the shard was created: children get a larger epoch than their parents, so every
/// child sequence number is above every parent sequence number. The leading '4' keeps the width fixed
/// and marks the layout version.
/// </summary>
public readonly record struct SequenceNumber(long ShardCreatedSeconds, int ShardIndex, ulong Counter) : IComparable<SequenceNumber>
{
    public const int Length = 43;

    /// <summary>The sequence number of the record at <paramref name="offset"/> of a shard.</summary>
    public static SequenceNumber OfRecord(long shardCreatedSeconds, int shardIndex, ulong offset) => new(shardCreatedSeconds, shardIndex, offset + 1);

    /// <summary>The offset an AT_SEQUENCE_NUMBER iterator starts at (the shard's start for its StartingSequenceNumber).</summary>
    public ulong AtOffset => Counter == 0 ? 0 : Counter - 1;

    /// <summary>The offset an AFTER_SEQUENCE_NUMBER iterator starts at.</summary>
    public ulong AfterOffset => Counter;
    private const char LayoutMarker = '4';

    public override string ToString() => string.Create(Length, this, static (span, s) =>
    {
        span[0] = LayoutMarker;
        s.ShardCreatedSeconds.TryFormat(span.Slice(1, 10), out _, "D10", CultureInfo.InvariantCulture);
        s.ShardIndex.TryFormat(span.Slice(11, 12), out _, "D12", CultureInfo.InvariantCulture);
        s.Counter.TryFormat(span.Slice(23, 20), out _, "D20", CultureInfo.InvariantCulture);
    });

    /// <summary>Writes the 43 ASCII digits into <paramref name="destination"/> (for response writers; no string made).</summary>
    public int FormatUtf8(Span<byte> destination)
    {
        destination[0] = (byte)LayoutMarker;
        ShardCreatedSeconds.TryFormat(destination.Slice(1, 10), out _, "D10", CultureInfo.InvariantCulture);
        ShardIndex.TryFormat(destination.Slice(11, 12), out _, "D12", CultureInfo.InvariantCulture);
        Counter.TryFormat(destination.Slice(23, 20), out _, "D20", CultureInfo.InvariantCulture);
        return Length;
    }

    public int CompareTo(SequenceNumber other)
    {
        int c = ShardCreatedSeconds.CompareTo(other.ShardCreatedSeconds);
        if (c != 0) return c;
        c = ShardIndex.CompareTo(other.ShardIndex);
        return c != 0 ? c : Counter.CompareTo(other.Counter);
    }

    /// <summary>
    /// Parses a sequence number this server issued. Anything else (wrong width, other digits, a
    /// sequence number from AWS itself) returns false, which callers report as InvalidArgumentException.
    /// </summary>
    public static bool TryParse(string? text, out SequenceNumber value)
    {
        value = default;
        if (text is null || text.Length != Length || text[0] != LayoutMarker)
            return false;
        foreach (char c in text)
            if (c is < '0' or > '9')
                return false;
        var span = text.AsSpan();
        if (!long.TryParse(span.Slice(1, 10), NumberStyles.None, CultureInfo.InvariantCulture, out long epoch)
            || !long.TryParse(span.Slice(11, 12), NumberStyles.None, CultureInfo.InvariantCulture, out long shard)
            || shard > int.MaxValue
            || !ulong.TryParse(span.Slice(23, 20), NumberStyles.None, CultureInfo.InvariantCulture, out ulong offset))
            return false;
        value = new SequenceNumber(epoch, (int)shard, offset);
        return true;
    }
}
