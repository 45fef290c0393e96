namespace Runnel.Core.Metrics;

/// <summary>
/// The distribution of a metric's values over a window (a minute, or a period of minutes merged): how many of the
/// recorded integers fell in each <see cref="LogLinearBuckets"/> bucket, only the buckets that had any, by index, and
/// the <see cref="Scale"/> that turns a recorded integer into the metric's unit (0.001 for latencies recorded in
/// microseconds and published in milliseconds). Merging adds the counts bucket by bucket, so a period's distribution
/// is the same whether its minutes or its nodes are merged first. A percentile read from it is within
/// <see cref="LogLinearBuckets.RelativeError"/> of the value of that rank. Immutable; equal when scale and counts are.
/// </summary>
public sealed class ValueDistribution : IEquatable<ValueDistribution>
{
    private readonly int[] _indexes;
    private readonly long[] _counts;

    /// <param name="scale">A recorded integer in the metric's unit.</param>
    /// <param name="indexes">The buckets that had values, ascending, each within [0, <see cref="LogLinearBuckets.Count"/>).</param>
    /// <param name="counts">How many values each had, each positive.</param>
    public ValueDistribution(double scale, int[] indexes, long[] counts)
    {
        if (indexes.Length != counts.Length)
            throw new ArgumentException("A distribution needs a count for every bucket.", nameof(counts));
        for (int i = 0; i < indexes.Length; i++)
        {
            if (indexes[i] is < 0 or >= LogLinearBuckets.Count || (i > 0 && indexes[i] <= indexes[i - 1]))
                throw new ArgumentException("A distribution's buckets are ascending indexes of LogLinearBuckets.", nameof(indexes));
            if (counts[i] <= 0)
                throw new ArgumentException("A distribution's buckets each hold at least one value.", nameof(counts));
            Total += counts[i];
        }
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentException("A distribution's scale is a positive number.", nameof(scale));
        Scale = scale;
        _indexes = indexes;
        _counts = counts;
    }

    /// <summary>The distribution of <paramref name="count"/> equal values (<paramref name="value"/>, in the metric's unit).</summary>
    public static ValueDistribution Of(double value, long count, double scale) =>
        new(scale, [LogLinearBuckets.Index((long)Math.Round(value / scale))], [count]);

    public double Scale { get; }

    /// <summary>How many values it counts.</summary>
    public long Total { get; }

    public ReadOnlySpan<int> Indexes => _indexes;

    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>
    /// The value at <paramref name="percentile"/> (0 to 100) in the metric's unit: that of the value of rank
    /// ceil(p/100 × Total) (1 for p0), as its bucket's midpoint.
    /// </summary>
    public double Percentile(double percentile)
    {
        // A percentage with decimals (99.9) is not exact in binary: the nudge keeps p × n / 100 that lands a hair above
        // an integer from moving to the next rank.
        long rank = Math.Clamp((long)Math.Ceiling((percentile * Total / 100) - 1e-9), 1, Total);
        long seen = 0;
        for (int i = 0; i < _indexes.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return LogLinearBuckets.Midpoint(_indexes[i]) * Scale;
        }
        return LogLinearBuckets.Midpoint(_indexes[^1]) * Scale;
    }

    /// <summary>
    /// Both taken together, bucket by bucket. Of two scales (a metric whose unit changed) the other's buckets are placed
    /// by their midpoints in this one's: within twice the relative error then.
    /// </summary>
    public ValueDistribution Merge(ValueDistribution other)
    {
        if (other.Scale != Scale)
            other = other.Rescaled(Scale);
        var indexes = new List<int>(_indexes.Length + other._indexes.Length);
        var counts = new List<long>(indexes.Capacity);
        int a = 0, b = 0;
        while (a < _indexes.Length || b < other._indexes.Length)
        {
            if (b >= other._indexes.Length || (a < _indexes.Length && _indexes[a] < other._indexes[b]))
            {
                indexes.Add(_indexes[a]);
                counts.Add(_counts[a++]);
            }
            else if (a >= _indexes.Length || other._indexes[b] < _indexes[a])
            {
                indexes.Add(other._indexes[b]);
                counts.Add(other._counts[b++]);
            }
            else
            {
                indexes.Add(_indexes[a]);
                counts.Add(_counts[a++] + other._counts[b++]);
            }
        }
        return new ValueDistribution(Scale, [.. indexes], [.. counts]);
    }

    private ValueDistribution Rescaled(double scale)
    {
        var buckets = new SortedDictionary<int, long>();
        for (int i = 0; i < _indexes.Length; i++)
        {
            int index = LogLinearBuckets.Index((long)Math.Round(LogLinearBuckets.Midpoint(_indexes[i]) * Scale / scale));
            buckets[index] = buckets.GetValueOrDefault(index) + _counts[i];
        }
        return new ValueDistribution(scale, [.. buckets.Keys], [.. buckets.Values]);
    }

    public bool Equals(ValueDistribution? other) =>
        other is not null && other.Scale.Equals(Scale) && other._indexes.AsSpan().SequenceEqual(_indexes) && other._counts.AsSpan().SequenceEqual(_counts);

    public override bool Equals(object? obj) => Equals(obj as ValueDistribution);

    public override int GetHashCode() => HashCode.Combine(Scale, Total, _indexes.Length);

    public override string ToString() => $"{Total} values in {_indexes.Length} buckets (scale {Scale})";
}
