using System.Diagnostics;

namespace Runnel.Bench.Reporting;

/// <summary>
/// Durations kept whole (at most a few hundred thousand per scenario) and sorted once for exact
/// percentiles. Each load worker keeps its own and they are merged at the end: not thread-safe.
/// </summary>
public sealed class LatencySamples
{
    private readonly List<double> _millis = [];
    private double[]? _sorted;

    public int Count => _millis.Count;

    /// <summary>Adds the time from <paramref name="startTimestamp"/> to <paramref name="endTimestamp"/> (Stopwatch ticks).</summary>
    public void Add(long startTimestamp, long endTimestamp)
    {
        _millis.Add(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMilliseconds);
        _sorted = null;
    }

    public void AddRange(LatencySamples other)
    {
        _millis.AddRange(other._millis);
        _sorted = null;
    }

    /// <summary>The nearest-rank percentile, <paramref name="p"/> in 0..100; NaN when empty.</summary>
    public double Percentile(double p)
    {
        if (_millis.Count == 0)
            return double.NaN;
        if (_sorted is null)
        {
            _sorted = [.. _millis];
            Array.Sort(_sorted);
        }
        int rank = (int)Math.Ceiling(p / 100 * _sorted.Length);
        return _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
    }

    public double Max => Percentile(100);
}
