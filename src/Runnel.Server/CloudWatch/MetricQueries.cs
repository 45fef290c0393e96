using Runnel.Storage.Metrics;

namespace Runnel.Server.CloudWatch;

/// <summary>A datapoint of GetMetricStatistics: a period's start and its merged statistic set, in one unit.</summary>
public sealed record Datapoint(long Timestamp, string Unit, StatisticSet Statistics);

/// <summary>CloudWatch's errors: the query code (and JSON <c>__type</c>), the HTTP status, the message.</summary>
public sealed class CloudWatchException(string code, string message, int status = 400) : Exception(message)
{
    public string Code { get; } = code;
    public int Status { get; } = status;

    public static CloudWatchException InvalidValue(string message) => new("InvalidParameterValue", message);
    public static CloudWatchException Missing(string name) => new("MissingParameter", $"The parameter {name} is required.");
    public static CloudWatchException Combination(string message) => new("InvalidParameterCombination", message);
}

/// <summary>
/// The reads of CloudWatch's API over the metrics' history (GetMetricStatistics, ListMetrics): a series' minutes in a
/// range, merged into periods as CloudWatch aggregates them, the minute still filling included; the series known,
/// filtered. Knows nothing of the wire. Thread-safe.
/// </summary>
public sealed class MetricQueries(IMetricHistory history, Func<long> currentMinute, Func<IReadOnlyList<(MetricSeries Series, StatisticSet Statistics)>> currentEntries, TimeProvider clock)
{
    /// <summary>Most datapoints one GetMetricStatistics may ask for (AWS's limit).</summary>
    public const int MaxDatapoints = 1440;

    /// <summary>Most datapoints one GetMetricData query may cover (AWS's default MaxDatapoints).</summary>
    public const int MaxDataDatapoints = 100_800;

    /// <summary>How many results a ListMetrics page holds (AWS's 500).</summary>
    public const int ListPage = 500;

    /// <summary>
    /// The datapoints of a series from <paramref name="start"/> (rounded down to the minute, inclusive) to
    /// <paramref name="end"/> (exclusive), Unix seconds, one per period that has samples and per unit (only
    /// <paramref name="unit"/> when given), periods counted from the rounded start.
    /// </summary>
    public IReadOnlyList<Datapoint> Statistics(string ns, string name, IReadOnlyList<KeyValuePair<string, string>> dimensions, long start, long end, int period, string? unit,
        int maxDatapoints = MaxDatapoints)
    {
        if (start >= end)
            throw CloudWatchException.InvalidValue("The parameter StartTime must be less than the parameter EndTime.");
        if (period < 60 || period % 60 != 0)
            throw CloudWatchException.InvalidValue("The parameter Period must be a multiple of 60.");
        start = start / 60 * 60;
        long requested = (end - start + period - 1) / period;
        if (requested > maxDatapoints)
            throw CloudWatchException.Combination($"You have requested up to {requested} datapoints, which exceeds the limit of {maxDatapoints}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.");
        string key = new MetricSeries(ns, name, Sorted(dimensions), "").Key;
        var minutes = history.Read(key, start, end).ToList();
        long now = currentMinute();
        if (now >= start && now < end)
            minutes.AddRange(currentEntries().Where(e => e.Series.Key == key).Select(e => (now, e.Series.Unit, e.Statistics)));
        return minutes
            .Where(m => unit is null || m.Unit == unit)
            .GroupBy(m => (Period: start + (m.Minute - start) / period * period, m.Unit))
            .Select(g => new Datapoint(g.Key.Period, g.Key.Unit, g.Select(m => m.Statistics).Aggregate((a, b) => a.Merge(b))))
            .OrderBy(d => d.Timestamp)
            .ToList();
    }

    /// <summary>
    /// A series' statistic sets over <paramref name="count"/> consecutive windows of <paramref name="period"/> seconds
    /// from <paramref name="from"/> (an alarm's evaluation range), read from the history at once; null where a window
    /// had no samples.
    /// </summary>
    public StatisticSet?[] Windows(string ns, string name, IReadOnlyList<KeyValuePair<string, string>> dimensions, long from, int period, int count, string? unit)
    {
        string key = new MetricSeries(ns, name, Sorted(dimensions), "").Key;
        long to = from + ((long)period * count);
        var minutes = history.Read(key, from, to).Where(m => unit is null || m.Unit == unit).Select(m => (m.Minute, m.Statistics)).ToList();
        long now = currentMinute();
        if (now >= from && now < to)
            minutes.AddRange(currentEntries().Where(e => e.Series.Key == key && (unit is null || e.Series.Unit == unit)).Select(e => (now, e.Statistics)));
        var windows = new StatisticSet?[count];
        foreach (var (minute, statistics) in minutes)
        {
            int i = (int)((minute - from) / period);
            windows[i] = windows[i] is { } held ? held.Merge(statistics) : statistics;
        }
        return windows;
    }

    /// <summary>
    /// The series ListMetrics shows, ordered (namespace, name, dimensions), from <paramref name="after"/> entries on:
    /// those of the namespace and name when given, having every filter's dimension (with its value when given), and
    /// with data in the last three hours when <paramref name="recentlyActive"/>.
    /// </summary>
    public IReadOnlyList<MetricSeries> List(string? ns, string? name, IReadOnlyList<(string Name, string? Value)> filters, bool recentlyActive)
    {
        long since = clock.GetUtcNow().ToUnixTimeSeconds() - 3 * 3600;
        var live = currentEntries();
        var all = history.Series().Select(s => (s.Series, s.LastMinute))
            .Concat(live.Select(e => (e.Series, LastMinute: clock.GetUtcNow().ToUnixTimeSeconds())))
            .GroupBy(s => s.Series.Key, StringComparer.Ordinal)
            .Select(g => (g.First().Series, LastMinute: g.Max(s => s.LastMinute)));
        return all
            .Where(s => (ns is null || s.Series.Namespace == ns) && (name is null || s.Series.Name == name)
                && filters.All(f => s.Series.Dimensions.Any(d => d.Key == f.Name && (f.Value is null || d.Value == f.Value)))
                && (!recentlyActive || s.LastMinute >= since))
            .Select(s => s.Series with { Dimensions = Sorted(s.Series.Dimensions) })
            .OrderBy(s => s.Key, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Dimensions by name, as CloudWatch lists them and as the history's keys compare them.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sorted(IEnumerable<KeyValuePair<string, string>> dimensions) =>
        dimensions.OrderBy(d => d.Key, StringComparer.Ordinal).ToList();
}
