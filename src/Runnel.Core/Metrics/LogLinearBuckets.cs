using System.Numerics;

namespace Runnel.Core.Metrics;

/// <summary>
/// The buckets percentiles are estimated from (docs/formats/metrics.md, "Distributions"): log-linear over the recorded
/// integers, as HdrHistogram lays them out. Values 0 to 127 have a bucket each (exact); above, every power of two
/// [2^e, 2^(e+1)) is cut into <see cref="SubBuckets"/> buckets of equal width 2^(e-6). A bucket's
/// <see cref="Midpoint"/> is then within <see cref="RelativeError"/> (1/128, 0.78 %) of every value in it, so any
/// percentile read from the buckets is within that of the true one, whatever the range of the values. 3,712 buckets
/// cover every non-negative long; negative values count in bucket 0. Bucket indexes are part of the on-disk format:
/// they must never change meaning. Pure functions: thread-safe.
/// </summary>
public static class LogLinearBuckets
{
    /// <summary>Bits of a value kept below its leading one: 2^6 buckets per power of two.</summary>
    public const int SubBucketBits = 6;

    /// <summary>Buckets per power of two, and per block of <see cref="BucketCounters"/>.</summary>
    public const int SubBuckets = 1 << SubBucketBits;

    /// <summary>How many buckets there are: indexes are 0 to Count - 1.</summary>
    public const int Count = (63 - SubBucketBits + 1) * SubBuckets;

    /// <summary>The largest relative distance of a bucket's midpoint from a value in it: half a bucket's width over its lower bound.</summary>
    public const double RelativeError = 1.0 / (2 * SubBuckets);

    /// <summary>The bucket of a recorded value (negative values go to bucket 0).</summary>
    public static int Index(long value)
    {
        if (value < 2 * SubBuckets)
            return value <= 0 ? 0 : (int)value;
        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)value); // at least SubBucketBits + 1
        int shift = exponent - SubBucketBits;
        return ((shift + 1) << SubBucketBits) + (int)((value >> shift) - SubBuckets);
    }

    /// <summary>The smallest value of a bucket.</summary>
    public static long Lower(int index)
    {
        if (index < 2 * SubBuckets)
            return index;
        int shift = (index >> SubBucketBits) - 1;
        return (long)(SubBuckets + (index & (SubBuckets - 1))) << shift;
    }

    /// <summary>How many integers a bucket holds.</summary>
    public static long Width(int index) => index < 2 * SubBuckets ? 1 : 1L << ((index >> SubBucketBits) - 1);

    /// <summary>The value a bucket stands for: the middle of the integers it holds (exact for the buckets of one integer).</summary>
    public static double Midpoint(int index) => Lower(index) + ((Width(index) - 1) / 2.0);
}
