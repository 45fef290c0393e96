using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Runnel.Storage.Metrics;

namespace Runnel.Storage.JetStream;

/// <summary>
/// A cluster's metric history (<see cref="IMetricHistory"/>): every node publishes each of its minutes, one message in
/// the format of a history file's line (docs/formats/metrics.md), to the stream <see cref="StreamName"/> (subject
/// <c>runnel.metrics.NODE</c>, kept for the retention period by JetStream's max age), and every node reads all nodes'
/// messages, from the stream's start, into an index in memory in which the minutes of one series that several nodes
/// recorded are merged (CloudWatch's statistic sets add up). Appends return once the node's own message is in its index,
/// so an alarm evaluated after a roll sees it. Thread-safe.
/// </summary>
public sealed class JetStreamMetricHistory : IMetricHistory, IAsyncDisposable
{
    public const string StreamName = "runnel_metrics";

    private readonly INatsJSContext _js;
    private readonly string _subject;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (MetricSeries Series, SortedDictionary<(long Minute, string Unit), StatisticSet> Minutes)> _index = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private ulong _read; // the last stream sequence in the index

    private JetStreamMetricHistory(INatsJSContext js, string nodeId, TimeSpan retention)
    {
        _js = js;
        _subject = "runnel.metrics." + nodeId;
        Retention = retention;
        _reading = Task.Run(ReadAsync);
    }

    public TimeSpan Retention { get; }

    /// <summary>Creates (or updates to this retention and replication) the stream, and starts reading it.</summary>
    public static async Task<JetStreamMetricHistory> OpenAsync(INatsJSContext js, string nodeId, TimeSpan retention, int replicas, CancellationToken cancellationToken = default)
    {
        var config = new StreamConfig(StreamName, ["runnel.metrics.*"])
        {
            Storage = StreamConfigStorage.File,
            NumReplicas = replicas,
            MaxAge = retention + TimeSpan.FromHours(1),
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
        };
        await Unanswered.RetryAsync(async () => await js.CreateOrUpdateStreamAsync(config, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return new JetStreamMetricHistory(js, nodeId, retention);
    }

    private async Task ReadAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var consumer = await _js.CreateOrderedConsumerAsync(StreamName, new NatsJSOrderedConsumerOpts
                {
                    DeliverPolicy = Volatile.Read(ref _read) == 0 ? ConsumerConfigDeliverPolicy.All : ConsumerConfigDeliverPolicy.ByStartSequence,
                    OptStartSeq = Volatile.Read(ref _read) + 1,
                }, _stop.Token).ConfigureAwait(false);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: _stop.Token).ConfigureAwait(false))
                {
                    if (message.Data is { Length: > 0 } data && MetricHistory.Parse(Encoding.UTF8.GetString(data)) is { } minute)
                        Add(minute.Minute, minute.Entries);
                    if (message.Metadata is { } metadata)
                        Volatile.Write(ref _read, metadata.Sequence.Stream);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NatsException or InvalidOperationException or IOException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false); // the servers are electing or away: read on from where it stopped
            }
        }
    }

    private void Add(long minute, IEnumerable<(MetricSeries Series, StatisticSet Statistics)> entries)
    {
        lock (_lock)
        {
            foreach (var (series, statistics) in entries)
            {
                if (!_index.TryGetValue(series.Key, out var held))
                    _index[series.Key] = held = (series, new SortedDictionary<(long, string), StatisticSet>());
                var at = (minute, series.Unit);
                held.Minutes[at] = held.Minutes.TryGetValue(at, out var other) ? other.Merge(statistics) : statistics;
            }
        }
    }

    public void Append(long minute, IReadOnlyCollection<(MetricSeries Series, StatisticSet Statistics)> entries)
    {
        if (entries.Count == 0)
            return;
        var line = new MemoryStream();
        MetricHistory.Encode(line, minute, entries);
        var ack = Unanswered.RetryAsync(async () => await _js.PublishAsync(_subject, line.ToArray()).ConfigureAwait(false), _stop.Token).GetAwaiter().GetResult();
        ack.EnsureSuccess();
        // Visible to this node's reads (an alarm evaluated next) once its reader has it; a few seconds at most.
        for (int i = 0; i < 500 && Volatile.Read(ref _read) < ack.Seq; i++)
            Thread.Sleep(10);
    }

    public void Trim(DateTimeOffset now)
    {
        long cutoff = (now - Retention).ToUnixTimeSeconds();
        lock (_lock)
        {
            foreach (var key in _index.Keys.ToList())
            {
                var minutes = _index[key].Minutes;
                foreach (var old in minutes.Keys.TakeWhile(k => k.Minute < cutoff).ToList())
                    minutes.Remove(old);
                if (minutes.Count == 0)
                    _index.Remove(key);
            }
        }
    }

    public IReadOnlyList<(MetricSeries Series, long LastMinute)> Series()
    {
        lock (_lock)
            return _index.Values.Select(v => (v.Series, v.Minutes.Keys.Max(k => k.Minute))).ToList();
    }

    public IReadOnlyList<(long Minute, string Unit, StatisticSet Statistics)> Read(string key, long from, long to)
    {
        lock (_lock)
        {
            if (!_index.TryGetValue(key, out var held))
                return [];
            return held.Minutes.Where(m => m.Key.Minute >= from && m.Key.Minute < to).Select(m => (m.Key.Minute, m.Key.Unit, m.Value)).ToList();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reading.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or NatsException)
        {
        }
        _stop.Dispose();
    }
}
