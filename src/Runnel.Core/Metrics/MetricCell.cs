namespace Runnel.Core.Metrics;

/// <summary>
/// The samples of one metric (one name, one set of dimensions) as CloudWatch keeps them: a count and a sum since the
/// server started (so a minute's SampleCount and Sum are the difference of two readings, exact however the reads and
/// the adds interleave), the smallest and largest sample since the last <see cref="TakeExtremes"/>, and how many samples
/// fell in each bucket of <see cref="LogLinearBuckets"/> since the last <see cref="TakeDistribution"/> (the minute's
/// percentiles). Values are integers in the metric's recorded unit (bytes, records, microseconds). Lock-free: any
/// number of adders at once.
/// </summary>
public sealed class MetricCell
{
    private long _count, _sum, _last;
    private long _min = long.MaxValue, _max = long.MinValue;
    private readonly BucketCounters _buckets = new();
    private readonly bool _discards;

    /// <summary>A cell that records nothing: what every metric writes to with <c>--metrics off</c>, so that setting measures the data path without recording.</summary>
    public static MetricCell Discard { get; } = new(discards: true);

    public MetricCell() { }

    private MetricCell(bool discards) => _discards = discards;

    /// <summary>Cells for every value of <typeparamref name="T"/>, by its integer value; all <see cref="Discard"/> when not <paramref name="recording"/>.</summary>
    public static MetricCell[] For<T>(bool recording) where T : struct, Enum =>
        Enum.GetValues<T>().Select(_ => recording ? new MetricCell() : Discard).ToArray();

    /// <summary>Samples recorded since the server started.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The sum of the samples recorded since the server started.</summary>
    public long Sum => Interlocked.Read(ref _sum);

    /// <summary>The latest sample (0 before any): what a gauge shows.</summary>
    public long Last => Volatile.Read(ref _last);

    /// <summary>Records one sample.</summary>
    public void Add(long value)
    {
        if (_discards)
            return;
        Volatile.Write(ref _last, value);
        _buckets.Add(value);
        Interlocked.Add(ref _sum, value);
        Interlocked.Increment(ref _count);
        long seen = Volatile.Read(ref _min);
        while (value < seen && Interlocked.CompareExchange(ref _min, value, seen) is var was && was != seen)
            seen = was;
        seen = Volatile.Read(ref _max);
        while (value > seen && Interlocked.CompareExchange(ref _max, value, seen) is var was && was != seen)
            seen = was;
    }

    /// <summary>The smallest and largest samples of the window so far (null when none came), leaving the window open.</summary>
    public (long Min, long Max)? PeekExtremes()
    {
        long min = Volatile.Read(ref _min), max = Volatile.Read(ref _max);
        return min == long.MaxValue || max == long.MinValue ? null : (min, max);
    }

    /// <summary>The smallest and largest samples since the last call (null when none came), starting the next window.</summary>
    public (long Min, long Max)? TakeExtremes()
    {
        long min = Interlocked.Exchange(ref _min, long.MaxValue), max = Interlocked.Exchange(ref _max, long.MinValue);
        return min == long.MaxValue || max == long.MinValue ? null : (min, max);
    }

    /// <summary>The window's samples by bucket so far (null when none came), leaving the window open; <paramref name="scale"/> is the metric's (<see cref="MetricDefinition.Scale"/>).</summary>
    public ValueDistribution? PeekDistribution(double scale) => _buckets.Peek(scale);

    /// <summary>The samples by bucket since the last call (null when none came), starting the next window.</summary>
    public ValueDistribution? TakeDistribution(double scale) => _buckets.Take(scale);
}
