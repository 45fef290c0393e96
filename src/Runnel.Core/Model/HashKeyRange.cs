using System.Globalization;
using Runnel.Core.Hashing;

namespace Runnel.Core.Model;

/// <summary>An inclusive range of hash keys owned by one shard.</summary>
public readonly record struct HashKeyRange(UInt128 Start, UInt128 End)
{
    public static readonly HashKeyRange Whole = new(UInt128.Zero, UInt128.MaxValue);

    public bool Contains(UInt128 key) => key >= Start && key <= End;

    public string StartingHashKey => Start.ToString(CultureInfo.InvariantCulture);

    public string EndingHashKey => End.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Splits the whole key space into <paramref name="count"/> contiguous ranges as Kinesis does at
    /// creation: each range is floor(2^128 / count) wide and the last one absorbs the remainder, so the
    /// ranges tile 0..2^128-1 with no gap or overlap.
    /// </summary>
    public static HashKeyRange[] SplitEvenly(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var ranges = new HashKeyRange[count];
        // 2^128 / count without overflowing: (Max / count) plus the carry of Max % count + 1.
        UInt128 width = HashKey.Max / (UInt128)count;
        if (HashKey.Max % (UInt128)count == (UInt128)(count - 1))
            width++;
        UInt128 start = UInt128.Zero;
        for (int i = 0; i < count; i++)
        {
            UInt128 end = i == count - 1 ? HashKey.Max : start + width - 1;
            ranges[i] = new HashKeyRange(start, end);
            start = end + 1;
        }
        return ranges;
    }
}
