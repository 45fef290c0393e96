using Runnel.Core.Metrics;

namespace Runnel.Storage.Metrics;

/// <summary>
/// CloudWatch's statistic set of one minute (SampleCount, Sum, Minimum, Maximum) and, where kept, the distribution of
/// its samples that percentiles are read from (<see cref="Distribution"/>; minutes written before version 2 of the
/// history have none).
/// </summary>
public readonly record struct StatisticSet(double SampleCount, double Sum, double Minimum, double Maximum)
{
    /// <summary>The samples by bucket, in the unit of the set; null when not kept.</summary>
    public ValueDistribution? Distribution { get; init; }

    /// <summary>Two sets taken together (two minutes of one period, or one minute of two nodes).</summary>
    public StatisticSet Merge(StatisticSet other) =>
        new(SampleCount + other.SampleCount, Sum + other.Sum, Math.Min(Minimum, other.Minimum), Math.Max(Maximum, other.Maximum))
        {
            Distribution = (Distribution ?? Derived(other.Distribution), other.Distribution ?? other.Derived(Distribution)) is ({ } mine, { } theirs) ? mine.Merge(theirs) : null,
        };

    /// <summary>
    /// A set without a distribution whose samples are all one value (CloudWatch's rule for statistic sets: SampleCount 1,
    /// or Minimum equal to Maximum) has the distribution of that value, in the scale of <paramref name="like"/>.
    /// </summary>
    private ValueDistribution? Derived(ValueDistribution? like) =>
        like is not null && AllEqual ? ValueDistribution.Of(Minimum, (long)SampleCount, like.Scale) : null;

    private bool AllEqual => SampleCount >= 1 && (SampleCount == 1 || Minimum == Maximum);

    /// <summary>
    /// The value at <paramref name="percentile"/> (0 to 100), within the distribution's relative error and never outside
    /// [Minimum, Maximum] (p0 and p100 are those, exactly); null when it cannot be told: no distribution kept for samples that differ, or a negative sample
    /// (CloudWatch serves no percentile of negative values).
    /// </summary>
    public double? Percentile(double percentile)
    {
        if (SampleCount < 1 || Minimum < 0)
            return null;
        if (percentile <= 0)
            return Minimum; // kept exactly, unlike the buckets' midpoints
        if (percentile >= 100)
            return Maximum;
        if (Distribution is { } distribution)
            return Math.Max(Minimum, Math.Min(distribution.Percentile(percentile), Maximum));
        return AllEqual ? Minimum : null;
    }
}
