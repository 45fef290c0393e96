using Runnel.Core.Metrics;

namespace Runnel.Core.Tests;

/// <summary>
/// The percentile sketch: every value's bucket holds it and its midpoint is within the documented relative error;
/// percentiles of known observations come out within that error of the value of their rank; minutes merged bucket by
/// bucket are the distribution of all their samples; recording through a cell loses nothing when taken while adders run,
/// and allocates nothing once the blocks its values need exist.
/// </summary>
public sealed class ValueDistributionTests
{
    /// <summary>The value of rank ceil(p/100 × n) (1 for p0) of ascending <paramref name="sorted"/>: what a percentile names.</summary>
    private static double Exact(IReadOnlyList<long> sorted, double percentile) =>
        sorted[(int)Math.Clamp((long)Math.Ceiling((percentile * sorted.Count / 100) - 1e-9), 1, sorted.Count) - 1];

    private static void Within(double expected, double actual) =>
        Assert.True(Math.Abs(actual - expected) <= expected * LogLinearBuckets.RelativeError, $"{actual} is not within {LogLinearBuckets.RelativeError:P2} of {expected}");

    [Fact(Timeout = 10000)]
    public async Task Every_value_lies_in_its_bucket_whose_midpoint_is_within_the_relative_error()
    {
        await Task.Yield();
        var random = new Random(17);
        var values = new List<long> { 0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 65_535, 65_536, 1L << 40, (1L << 40) - 1, long.MaxValue, long.MaxValue - 1 };
        for (int i = 0; i < 20_000; i++)
            values.Add(random.NextInt64(0, 1L << random.Next(1, 63)));
        foreach (long value in values)
        {
            int index = LogLinearBuckets.Index(value);
            Assert.InRange(index, 0, LogLinearBuckets.Count - 1);
            long lower = LogLinearBuckets.Lower(index);
            Assert.True(lower <= value && value - lower < LogLinearBuckets.Width(index), $"{value} is not in bucket {index} [{lower}, +{LogLinearBuckets.Width(index)})");
            if (value > 0)
                Within(value, LogLinearBuckets.Midpoint(index));
        }
        Assert.Equal(LogLinearBuckets.Count - 1, LogLinearBuckets.Index(long.MaxValue));
        Assert.Equal(0, LogLinearBuckets.Index(-42)); // negative values count in bucket 0
        for (long value = 0; value < 2 * LogLinearBuckets.SubBuckets; value++)
            Assert.Equal(value, LogLinearBuckets.Midpoint(LogLinearBuckets.Index(value))); // small values are exact
        for (int index = 1; index < LogLinearBuckets.Count; index++)
            Assert.Equal(LogLinearBuckets.Lower(index - 1) + LogLinearBuckets.Width(index - 1), LogLinearBuckets.Lower(index)); // buckets tile the longs
    }

    [Fact(Timeout = 10000)]
    public async Task Percentiles_of_known_observations_are_within_the_relative_error()
    {
        await Task.Yield();
        var cell = new MetricCell();
        var observed = Enumerable.Range(1, 10_000).Select(i => (long)i).ToList();
        foreach (long value in observed.OrderBy(v => (v * 7919) % 10_007)) // in no particular order
            cell.Add(value);
        var distribution = cell.TakeDistribution(1)!;
        Assert.Equal(10_000, distribution.Total);
        Within(9_900, distribution.Percentile(99));
        Within(9_990, distribution.Percentile(99.9));
        Within(5_000, distribution.Percentile(50));
        Within(10_000, distribution.Percentile(100));
        Assert.Equal(1, distribution.Percentile(0)); // the smallest, exact below 128
        Assert.Equal(10, distribution.Percentile(0.1));
        foreach (double p in new[] { 1, 10, 25, 75, 90, 95, 99.99 })
            Within(Exact(observed, p), distribution.Percentile(p));
        Assert.Null(cell.TakeDistribution(1)); // the window was taken
    }

    [Fact(Timeout = 10000)]
    public async Task A_latency_recorded_in_microseconds_reads_in_milliseconds()
    {
        await Task.Yield();
        var cell = new MetricCell();
        for (int i = 0; i < 990; i++)
            cell.Add(2_000); // 2 ms
        for (int i = 0; i < 10; i++)
            cell.Add(150_000); // 150 ms: the slowest 1 %
        var distribution = cell.PeekDistribution(0.001)!;
        Within(2, distribution.Percentile(99));
        Within(150, distribution.Percentile(99.1));
        Within(2, distribution.Percentile(50));
        Assert.Equal(1_000, cell.TakeDistribution(0.001)!.Total); // a peek leaves the window open
    }

    [Fact(Timeout = 10000)]
    public async Task Minutes_merged_are_the_distribution_of_all_their_samples()
    {
        await Task.Yield();
        var random = new Random(3);
        var minutes = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 2_000).Select(_ => random.NextInt64(1, 5_000_000)).ToList()).ToList();
        var whole = new MetricCell();
        var merged = minutes.Select(samples =>
        {
            var cell = new MetricCell();
            foreach (long value in samples)
            {
                cell.Add(value);
                whole.Add(value);
            }
            return cell.TakeDistribution(0.001)!;
        }).Aggregate((a, b) => a.Merge(b));
        Assert.Equal(whole.TakeDistribution(0.001), merged);
        var all = minutes.SelectMany(m => m).Order().ToList();
        foreach (double p in new[] { 50, 90, 99, 99.9 })
            Within(Exact(all, p) * 0.001, merged.Percentile(p));
        var other = new ValueDistribution(0.001, [5, 900], [1, 2]);
        Assert.Equal(merged.Merge(other), other.Merge(merged)); // in any order
    }

    [Fact(Timeout = 10000)]
    public async Task Distributions_of_two_scales_merge_in_the_first_ones()
    {
        await Task.Yield();
        var millis = ValueDistribution.Of(3, 4, 1); // 3 ms four times, recorded in milliseconds
        var micros = ValueDistribution.Of(3, 4, 0.001); // the same, recorded in microseconds
        var merged = millis.Merge(micros);
        Assert.Equal(1, merged.Scale);
        Assert.Equal(8, merged.Total);
        Assert.Equal(3, merged.Percentile(100));
    }

    [Fact(Timeout = 10000)]
    public async Task Nothing_recorded_while_windows_are_taken_is_lost()
    {
        await Task.Yield();
        var cell = new MetricCell();
        long taken = 0;
        using var stop = new CancellationTokenSource();
        var taker = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                taken += cell.TakeDistribution(1)?.Total ?? 0;
        });
        var adders = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 100_000; i++)
                cell.Add((i * 31) + t);
        })).ToArray();
        await Task.WhenAll(adders);
        await stop.CancelAsync();
        await taker;
        taken += cell.TakeDistribution(1)?.Total ?? 0;
        Assert.Equal(400_000, taken);
    }

    [Fact(Timeout = 10000)]
    public async Task Recording_allocates_nothing_once_its_buckets_blocks_exist()
    {
        await Task.Yield();
        var cell = new MetricCell();
        for (long value = 0; value < 1 << 20; value += 7)
            cell.Add(value); // every block up to 2^20 made
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long value = 0; value < 1 << 20; value += 3)
            cell.Add(value);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact(Timeout = 10000)]
    public async Task A_distribution_refuses_buckets_out_of_order_or_empty()
    {
        await Task.Yield();
        Assert.Throws<ArgumentException>(() => new ValueDistribution(1, [3, 2], [1, 1]));
        Assert.Throws<ArgumentException>(() => new ValueDistribution(1, [2], [0]));
        Assert.Throws<ArgumentException>(() => new ValueDistribution(1, [LogLinearBuckets.Count], [1]));
        Assert.Throws<ArgumentException>(() => new ValueDistribution(0, [1], [1]));
        Assert.Throws<ArgumentException>(() => new ValueDistribution(1, [], []));
    }

    [Fact(Timeout = 10000)]
    public async Task Buckets_read_back_as_given_whatever_their_gaps_and_counts()
    {
        await Task.Yield();
        int[] indexes = [0, 1, 127, 128, 1000, 3711];
        long[] counts = [1, 127, 128, 16_384, long.MaxValue / 8, 3];
        var distribution = new ValueDistribution(0.5, indexes, counts);
        var read = new List<(int, long)>();
        foreach (var bucket in distribution.Buckets)
            read.Add(bucket);
        Assert.Equal(indexes.Zip(counts), read);
        Assert.Equal(6, distribution.BucketCount);
        Assert.Equal(counts.Sum(), distribution.Total);
        Assert.Equal(new ValueDistribution(0.5, indexes, counts), distribution);
        Assert.NotEqual(new ValueDistribution(0.5, indexes, [.. counts[..5], 4]), distribution);
    }
}
