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

    /// <summary>The subject on which every node answers with the minute it is still filling (request and many replies).</summary>
    public const string LiveSubject = "runnel.metrics.live";

    private readonly INatsJSContext _js;
    private readonly string _subject;
    private readonly string _nodeId;
    private Task? _serving;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (MetricSeries Series, SortedDictionary<(long Minute, string Unit), StatisticSet> Minutes)> _index = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private ulong _read; // the last stream sequence in the index

    private readonly Task _ready;
    private readonly Action<string> _warn;

    /// <summary>
    /// Starts making (or finding) the stream, at <paramref name="replicas"/> and kept for the retention period, and
    /// reading it. Nothing waits for that: a node starts at once (a new cluster's first streams can take seconds to
    /// elect their leaders), reads see the minutes read so far, and the first append waits until the stream is there.
    /// </summary>
    public JetStreamMetricHistory(INatsJSContext js, string nodeId, TimeSpan retention, int replicas, Action<string>? warn = null)
    {
        _warn = warn ?? (_ => { });
        _js = js;
        _subject = "runnel.metrics." + nodeId;
        _nodeId = nodeId;
        Retention = retention;
        _ready = Task.Run(() => CreateStreamAsync(js, retention, replicas, _stop.Token));
        _reading = Task.Run(ReadAsync);
    }

    public TimeSpan Retention { get; }

    /// <summary>Creates the stream, or takes the one there (updated to this retention).</summary>
    private static async Task CreateStreamAsync(INatsJSContext js, TimeSpan retention, int replicas, CancellationToken cancellationToken)
    {
        var config = new StreamConfig(StreamName, ["runnel.metrics.*"])
        {
            Storage = StreamConfigStorage.File,
            NumReplicas = replicas,
            MaxAge = retention + TimeSpan.FromHours(1),
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
        };
        // As a shard's stream is opened: a create that finds the stream made (another node starting at the same time)
        // takes it; an unanswered one (a leader being elected) is asked again, soon. A changed retention is applied.
        var stream = await Unanswered.RetryWithinAsync(async within =>
        {
            try
            {
                return await js.CreateStreamAsync(config, within).ConfigureAwait(false);
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == JetStreamShardLog.StreamNameInUse)
            {
                return await js.GetStreamAsync(StreamName, cancellationToken: within).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
        if (stream.Info.Config.MaxAge != config.MaxAge)
            await Unanswered.RetryWithinAsync(async within => await js.UpdateStreamAsync(config with { NumReplicas = stream.Info.Config.NumReplicas }, within).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    private async Task ReadAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _ready.ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is NatsException or InvalidOperationException or IOException or TimeoutException && !_stop.IsCancellationRequested)
            {
                return; // Append reports it
            }
        }
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var consumer = await _js.CreateOrderedConsumerAsync(StreamName, new NatsJSOrderedConsumerOpts
                {
                    DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence, // from the start (1), or on from where a broken read stopped
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
                // The servers are electing or away: read on from where it stopped.
                _warn($"Reading the cluster's metric history (JetStream stream {StreamName}) stopped ({e.Message}); reading on in 1 s. CloudWatch's answers miss other nodes' minutes meanwhile.");
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Answers other nodes' requests for the minute this node is still filling with what <paramref name="live"/> gives,
    /// so that a query through any node counts the traffic of the current minute on all (<see cref="OthersLive"/>).
    /// </summary>
    public void ServeLive(Func<(long Minute, IReadOnlyList<(MetricSeries Series, StatisticSet Statistics)> Entries)> live)
    {
        _serving = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await foreach (var request in _js.Connection.SubscribeAsync<byte[]>(LiveSubject, cancellationToken: _stop.Token).ConfigureAwait(false))
                    {
                        var (minute, entries) = live();
                        foreach (byte[] line in Lines(minute, entries.ToArray(), _nodeId + "\n"))
                            await request.ReplyAsync(line, cancellationToken: _stop.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is NatsException or InvalidOperationException or IOException)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
                }
            }
        });
    }

    /// <summary>
    /// The other nodes' entries of the minute starting at <paramref name="minute"/> that they are still filling: asked of
    /// every node at once, the answers gathered for at most a quarter of a second (empty when none answers).
    /// </summary>
    public IReadOnlyList<(MetricSeries Series, StatisticSet Statistics)> OthersLive(long minute) => GatherAsync(minute).GetAwaiter().GetResult();

    private async Task<List<(MetricSeries, StatisticSet)>> GatherAsync(long minute)
    {
        var gathered = new List<(MetricSeries, StatisticSet)>();
        try
        {
            var options = new NatsSubOpts { Timeout = TimeSpan.FromMilliseconds(250), IdleTimeout = TimeSpan.FromMilliseconds(60) };
            await foreach (var reply in _js.Connection.RequestManyAsync<byte[], byte[]>(LiveSubject, [], replyOpts: options, cancellationToken: _stop.Token).ConfigureAwait(false))
            {
                if (reply.Data is not { Length: > 0 } data)
                    continue;
                string text = Encoding.UTF8.GetString(data);
                int newline = text.IndexOf('\n', StringComparison.Ordinal);
                if (newline < 0 || text[..newline] == _nodeId)
                    continue;
                if (MetricHistory.Parse(text[(newline + 1)..]) is { } other && other.Minute == minute)
                    gathered.AddRange(other.Entries);
            }
        }
        catch (Exception e) when (e is NatsException or OperationCanceledException or TimeoutException)
        {
            // the answers so far: a node that cannot be asked shows its minute once it is rolled
        }
        return gathered;
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
        try
        {
            _ready.GetAwaiter().GetResult(); // the stream exists (throws what made it fail, for the roller to log)
            ulong last = 0;
            foreach (byte[] line in Lines(minute, entries.ToArray(), ""))
            {
                var ack = Unanswered.RetryAsync(() => PublishAsync(line), _stop.Token).GetAwaiter().GetResult();
                ack.EnsureSuccess();
                last = ack.Seq;
            }
            // Visible to this node's reads (an alarm evaluated next) once its reader has it; a few seconds at most.
            for (int i = 0; i < 500 && Volatile.Read(ref _read) < last; i++)
                Thread.Sleep(10);
        }
        catch (Exception e) when (e is NatsException or TimeoutException or InvalidOperationException or OperationCanceledException && !_stop.IsCancellationRequested)
        {
            throw new IOException($"the minute could not be published to the JetStream stream {StreamName}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Publishes one line. JetStream's "no responders" (a new stream whose leader is not elected yet: CI's first minute on
    /// a fresh cluster) means nothing was stored, so the line is published again for up to <see cref="Unanswered.Budget"/>.
    /// </summary>
    private async Task<PubAckResponse> PublishAsync(byte[] line)
    {
        var deadline = DateTime.UtcNow + Unanswered.Budget;
        while (true)
        {
            try
            {
                return await _js.PublishAsync(_subject, line).ConfigureAwait(false);
            }
            catch (NatsJSPublishNoResponseException) when (DateTime.UtcNow < deadline && !_stop.IsCancellationRequested)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A minute's entries as lines of at most <see cref="MaxMessageBytes"/> (with <paramref name="prefix"/>), each
    /// holding whole entries: NATS refuses a message over its max_payload (1 MiB by default), and a minute of many
    /// series with their distributions can be longer. Readers merge the lines of one minute as they merge nodes'.
    /// </summary>
    internal static List<byte[]> Lines(long minute, ArraySegment<(MetricSeries Series, StatisticSet Statistics)> entries, string prefix)
    {
        var line = new MemoryStream();
        line.Write(Encoding.UTF8.GetBytes(prefix));
        MetricHistory.Encode(line, minute, entries);
        if (line.Length <= MaxMessageBytes || entries.Count <= 1)
            return [line.ToArray()];
        int half = entries.Count / 2;
        return [.. Lines(minute, entries[..half], prefix), .. Lines(minute, entries[half..], prefix)];
    }

    /// <summary>The longest message a minute is published in (see <see cref="Lines"/>): half NATS's default max_payload.</summary>
    internal const int MaxMessageBytes = 512 * 1024;

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
            if (_serving is not null)
                await _serving.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or NatsException)
        {
        }
        _stop.Dispose();
    }
}
