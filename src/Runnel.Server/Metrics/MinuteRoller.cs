using Runnel.Core.Metrics;
using Runnel.Storage.Metrics;

namespace Runnel.Server.Metrics;

/// <summary>
/// Once a minute, turns what the cells recorded during the minute into CloudWatch's statistic sets (SampleCount and
/// Sum from the difference of two readings of each cell's totals, Minimum and Maximum from its window's extremes,
/// scaled to the metric's unit, and the distribution of the samples that percentiles are read from) and appends them
/// to the <see cref="MetricHistory"/>; series without samples in the minute write nothing, as CloudWatch stores no
/// datapoint for them. Not thread-safe: one roll at a time (its timer's).
/// </summary>
public sealed class MinuteRoller : IDisposable
{
    private readonly MetricRegistry _registry;
    private readonly IMetricHistory _history;
    private readonly TimeProvider _clock;
    private readonly Action<string> _warn;
    private readonly Dictionary<MetricCell, (long Count, long Sum)> _read = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(string Stream, int Shard, ShardMetric Metric), long> _shardRead = new();
    private readonly ITimer _timer;
    private readonly Lock _rolling = new();
    private long _lastMinute;

    public MinuteRoller(MetricRegistry registry, IMetricHistory history, TimeProvider clock, Action<string> warn)
    {
        _registry = registry;
        _history = history;
        _clock = clock;
        _warn = warn;
        _lastMinute = clock.GetUtcNow().ToUnixTimeSeconds() / 60 * 60;
        // Every second: a roll is due when a minute boundary passed (cheap when none did).
        _timer = clock.CreateTimer(_ => Tick(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private void Tick()
    {
        try
        {
            long minute = _clock.GetUtcNow().ToUnixTimeSeconds() / 60 * 60;
            if (minute > _lastMinute)
                Roll(_lastMinute);
        }
        catch (ObjectDisposedException)
        {
            // stopping: the history closed under the roll
        }
        catch (Exception e)
        {
            // A timer's callback must not throw (the process would end): whatever failed, the next minute tries again.
            _warn($"A minute of metrics could not be written to the history ({e.GetType().Name}: {e.Message}); /metrics is not affected. Check the disk under the data directory (on a cluster, the NATS servers).");
        }
    }

    /// <summary>
    /// The shard-level metrics of the streams whose EnableEnhancedMonitoring named them (null: none): each counter's
    /// total since start, or, for IteratorAgeMilliseconds, the shard's cell of per-call samples.
    /// </summary>
    public Func<IEnumerable<ShardSample>>? Shards { get; init; }

    /// <summary>One shard-level metric of one shard: a counter's total (<see cref="Cell"/> null) or a cell of samples.</summary>
    public readonly record struct ShardSample(string Stream, int Shard, ShardMetric Metric, long Total, MetricCell? Cell);

    /// <summary>Raised after each roll with the end of the minute written (Unix seconds): alarms are evaluated then.</summary>
    public event Action<long>? Rolled;

    /// <summary>Writes what was recorded since the last roll as the minute starting at <paramref name="minute"/> (Unix seconds).</summary>
    public void Roll(long minute)
    {
        lock (_rolling)
        {
            var entries = Collect(take: true);
            _history.Append(minute, entries);
            _lastMinute = Math.Max(_lastMinute, minute + 60);
            if (minute % 3600 == 0)
                _history.Trim(DateTimeOffset.FromUnixTimeSeconds(minute));
        }
        Rolled?.Invoke(minute + 60);
    }

    /// <summary>The minute still filling (Unix seconds): what was recorded since the last roll belongs to it (CloudWatch
    /// shows a period while it fills).</summary>
    public long CurrentMinute
    {
        get
        {
            lock (_rolling)
                return _lastMinute;
        }
    }

    /// <summary>The minute still filling with what was recorded in it so far.</summary>
    public (long Minute, IReadOnlyList<(MetricSeries Series, StatisticSet Statistics)> Entries) Current()
    {
        lock (_rolling)
            return (_lastMinute, Collect(take: false));
    }

    /// <summary>Every series' samples since the last roll; <paramref name="take"/> starts the next minute.</summary>
    private List<(MetricSeries, StatisticSet)> Collect(bool take)
    {
        var entries = new List<(MetricSeries, StatisticSet)>();
        foreach (var stream in _registry.Streams)
            foreach (var metric in Enum.GetValues<StreamMetric>())
                Take(entries, stream[metric], KinesisMetrics.Definitions[(int)metric], [new("StreamName", stream.StreamName)], take);
        foreach (var consumer in _registry.Consumers)
            foreach (var metric in Enum.GetValues<ConsumerMetric>())
                Take(entries, consumer[metric], KinesisMetrics.ConsumerDefinitions[(int)metric], [new("ConsumerName", consumer.ConsumerName), new("StreamName", consumer.StreamName)], take);
        foreach (var delivery in _registry.DeliveryStreams)
            foreach (var metric in Enum.GetValues<FirehoseMetric>())
                Take(entries, delivery[metric], delivery.Definition(metric), [new("DeliveryStreamName", delivery.DeliveryStreamName)], take);
        foreach (var function in _registry.Functions)
            foreach (var metric in Enum.GetValues<FunctionMetric>())
                Take(entries, function[metric], FunctionMetrics.Definition(metric), [new("FunctionName", function.FunctionName)], take);
        foreach (var channel in _registry.Channels)
            foreach (var metric in Enum.GetValues<ChannelMetric>())
                Take(entries, channel[metric], ChannelMetrics.Definition(metric),
                    [new("ChannelId", channel.ChannelId), new("ChannelName", channel.ChannelName), new("StreamName", channel.StreamName)], take);
        if (Shards is { } shards)
        {
            foreach (var sample in shards())
            {
                var definition = KinesisMetrics.ShardDefinitions[(int)sample.Metric];
                KeyValuePair<string, string>[] dimensions = [new("ShardId", Runnel.Core.Model.ShardId.Format(sample.Shard)), new("StreamName", sample.Stream)];
                if (sample.Cell is { } cell)
                {
                    Take(entries, cell, definition, dimensions, take);
                    continue;
                }
                // A counter (the shard's throughput accounting) gives the minute's total only: one sample of it.
                var key = (sample.Stream, sample.Shard, sample.Metric);
                long read = _shardRead.GetValueOrDefault(key);
                long delta = sample.Total >= read ? sample.Total - read : sample.Total; // a counter that restarted
                if (take)
                    _shardRead[key] = sample.Total;
                if (delta > 0)
                    entries.Add((new MetricSeries(definition.Namespace, definition.Name, dimensions, definition.Unit),
                        new StatisticSet(1, delta, delta, delta) { Distribution = ValueDistribution.Of(delta, 1, definition.Scale) }));
            }
        }
        return entries;
    }

    private void Take(List<(MetricSeries, StatisticSet)> entries, MetricCell cell, MetricDefinition definition, KeyValuePair<string, string>[] dimensions, bool take)
    {
        long count = cell.Count, sum = cell.Sum;
        var extremes = take ? cell.TakeExtremes() : cell.PeekExtremes();
        var distribution = take ? cell.TakeDistribution(definition.Scale) : cell.PeekDistribution(definition.Scale);
        var (readCount, readSum) = _read.GetValueOrDefault(cell);
        if (take)
            _read[cell] = (count, sum);
        if (count == readCount)
            return;
        var (min, max) = extremes ?? (0, 0);
        entries.Add((new MetricSeries(definition.Namespace, definition.Name, dimensions, definition.Unit),
            new StatisticSet(count - readCount, definition.Value(sum - readSum), definition.Value(min), definition.Value(max)) { Distribution = distribution }));
    }

    public void Dispose() => _timer.Dispose();
}
