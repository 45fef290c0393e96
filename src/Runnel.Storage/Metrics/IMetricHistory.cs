namespace Runnel.Storage.Metrics;

/// <summary>
/// Each minute's statistic set of every metric series that had samples, kept for a retention period and read back by
/// series and time range: on one node in files under the data directory (<see cref="MetricHistory"/>), on a cluster in
/// a JetStream stream every node appends its minutes to and reads all nodes' from (JetStreamMetricHistory), so that a
/// query through any node sees the traffic of all. Thread-safe.
/// </summary>
public interface IMetricHistory
{
    TimeSpan Retention { get; }

    /// <summary>Appends this node's minute starting at <paramref name="minute"/> (Unix seconds, a multiple of 60); visible to reads when this returns.</summary>
    void Append(long minute, IReadOnlyCollection<(MetricSeries Series, StatisticSet Statistics)> entries);

    /// <summary>Forgets what is wholly older than the retention period before <paramref name="now"/>.</summary>
    void Trim(DateTimeOffset now);

    /// <summary>Every series with a minute in the history, with its latest minute (Unix seconds).</summary>
    IReadOnlyList<(MetricSeries Series, long LastMinute)> Series();

    /// <summary>The minutes of the series of <paramref name="key"/> (<see cref="MetricSeries.Key"/>) in [from, to), Unix seconds, each with its unit.</summary>
    IReadOnlyList<(long Minute, string Unit, StatisticSet Statistics)> Read(string key, long from, long to);
}
