using System.Threading.Channels;
using Runnel.Client.Aggregation;

namespace Runnel.Client.Producer;

/// <summary>
/// The producer's pipeline, run by one loop that owns all its state (so none of it needs a lock): records accepted by
/// <see cref="KinesisProducer"/> arrive as events, are aggregated per predicted shard (a <see cref="RecordAggregator"/>
/// per open shard of the <see cref="ShardTopology"/>'s map, as <see cref="ShardedAggregator"/> groups them, but with
/// each record's hash key computed once, through a <see cref="HashKeyCache"/>), linger until their aggregate is full or its oldest record has waited
/// <see cref="ProducerOptions.RecordMaxBufferedTime"/> (<see cref="LingerSchedule"/>), wait in their shard's
/// <see cref="ShardLane"/>, and are packed into PutRecords calls (this file's other half, <c>Sending</c>). Answers,
/// shard maps and flush requests come back as events too. Thread-safe to <see cref="Post"/> to; the rest runs on the loop.
/// </summary>
internal sealed partial class ProducerPipeline
{
    private const int EventsPerTurn = 4096; // events handled before the loop sends what is ready
    private static readonly TimeSpan NoMapRetryDelay = TimeSpan.FromSeconds(1);

    private readonly KinesisClient _client;
    private readonly ProducerOptions _options;
    private readonly TimeProvider _clock;
    private readonly BufferGate _gate;
    private readonly ProducerMetrics _metrics;
    private readonly Action<PendingRecord, ProducerRecordException> _reportFailure;
    private readonly Channel<object> _events = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly LingerSchedule _linger;
    private OpenAggregate?[] _open = []; // each open shard's aggregate, by the shard's index in the topology's map
    private readonly HashKeyCache _hashKeys = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<AggregatedRecordBuilder> _builders = []; // builders of encoded aggregates, for reuse
    private readonly Action<AggregatedRecordBuilder> _recycleBuilder;
    private readonly Dictionary<string, ShardLane> _lanes = new(StringComparer.Ordinal);
    private readonly List<TaskCompletionSource> _flushWaiters = [];
    private List<PendingRecord> _awaitingMap = [];
    private List<(ProducerEntry Entry, Models.PutRecordsResultEntry Result)> _awaitingRanges = [];
    private ShardTopology? _topology;
    private bool _refreshing;
    private Task? _timer; // the loop's pending wake-up, and when it fires
    private long _timerDueAt;
    private long _refreshDueAt;

    public ProducerPipeline(KinesisClient client, ProducerOptions options, BufferGate gate, ProducerMetrics metrics, Action<PendingRecord, ProducerRecordException> reportFailure)
    {
        _client = client;
        _options = options;
        _clock = options.TimeProvider;
        _gate = gate;
        _metrics = metrics;
        _reportFailure = reportFailure;
        _linger = new LingerSchedule(_clock, options.RecordMaxBufferedTime);
        _recycleBuilder = _builders.Add;
    }

    private sealed record RequestDone(List<ProducerEntry> Entries, Models.PutRecordsResponse? Response, Exception? Error);

    private sealed record MapLoaded(ShardTopology Topology);

    private sealed record MapFailed(Exception Error);

    private sealed record FlushRequested(TaskCompletionSource Done);

    /// <summary>Hands the loop an accepted record, an answer or a request.</summary>
    public void Post(object e) => _events.Writer.TryWrite(e);

    /// <summary>Asks the loop to send every buffered record now; completes when none is left buffered.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new FlushRequested(done));
        return done.Task;
    }

    /// <summary>The loop: runs until <paramref name="stop"/>, then fails whatever is left.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        Task<bool>? waiting = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < EventsPerTurn && _events.Reader.TryRead(out var e); i++)
                    Handle(e);
                Turn();
                if (_events.Reader.TryPeek(out _))
                    continue;
                waiting ??= _events.Reader.WaitToReadAsync(stop).AsTask();
                if (NextWake() is { } wake)
                    await Task.WhenAny(waiting, Delay(wake, stop)).ConfigureAwait(false);
                else
                    await waiting.ConfigureAwait(false);
                if (waiting.IsCompleted)
                    waiting = null;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            FailEverything(new ProducerRecordException(ProducerRecordException.ClosedErrorCode, $"The producer's pipeline stopped: {e.Message}", 0, e));
            throw;
        }
        FailEverything(new ProducerRecordException(ProducerRecordException.ClosedErrorCode, "The producer was closed before the record was sent.", 0));
    }

    /// <summary>
    /// A timer that fires within <paramref name="wake"/>: the one already running when it fires soon enough, else a new
    /// one. The loop waits many times per linger; a timer each time would cost more than the records it waits for.
    /// </summary>
    private Task Delay(TimeSpan wake, CancellationToken stop)
    {
        long dueAt = _clock.GetTimestamp() + (long)(wake.TotalSeconds * _clock.TimestampFrequency);
        if (_timer is null || _timer.IsCompleted || _timerDueAt > dueAt)
        {
            _timer = Task.Delay(wake, _clock, stop);
            _timerDueAt = dueAt;
        }
        return _timer;
    }

    /// <summary>What the loop does after handling events: map refresh, lingers, sends, flush completions.</summary>
    private void Turn()
    {
        if (!_refreshing && _clock.GetTimestamp() >= _refreshDueAt)
            StartRefresh();
        if (_topology is not null)
        {
            if (_flushWaiters.Count > 0)
                FlushAllAggregates();
            else
            {
                foreach (var shardId in _linger.Due())
                    FlushAggregate(shardId);
                if (_gate.Full)
                    FlushIdleAggregates();
            }
        }
        Dispatch();
        if (_flushWaiters.Count > 0 && _gate.Records == 0)
        {
            foreach (var waiter in _flushWaiters)
                waiter.TrySetResult();
            _flushWaiters.Clear();
        }
    }

    private void Handle(object e)
    {
        switch (e)
        {
            case PendingRecord record:
                Accept(record);
                break;
            case RequestDone done:
                Completed(done);
                break;
            case MapLoaded loaded:
                Loaded(loaded.Topology);
                break;
            case MapFailed failed:
                LoadFailed(failed.Error);
                break;
            case FlushRequested flush:
                _flushWaiters.Add(flush.Done);
                break;
        }
    }

    /// <summary>The soonest the loop has something to do without a new event; null when only events can wake it.</summary>
    private TimeSpan? NextWake()
    {
        TimeSpan? wake = _linger.NextDue();
        long now = _clock.GetTimestamp();
        foreach (var lane in _lanes.Values)
            if (lane.Count > 0 && !lane.InFlight && lane.NotBefore > now)
                wake = Min(wake, _clock.GetElapsedTime(now, lane.NotBefore));
        wake = Min(wake, _limiterWake);
        if (!_refreshing)
            wake = Min(wake, _refreshDueAt > now ? _clock.GetElapsedTime(now, _refreshDueAt) : TimeSpan.Zero);
        _limiterWake = null;
        return wake is { } w && w < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wake;
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    /// <summary>A new record (or one put again after landing on a shard that does not hold it) joins its shard's aggregate.</summary>
    private void Accept(PendingRecord record)
    {
        if (_topology is null)
        {
            _awaitingMap.Add(record);
            return;
        }
        var map = _topology.Open;
        if (!map.TryFindIndex(_hashKeys.Of(record), out int index))
        {
            // No open shard holds its hash key (a map read mid-reshard): sent alone, Kinesis routes it.
            Enqueue(new ProducerEntry(ShardLane.Unpredicted, new PutRecordsEntry(record.PartitionKey, record.ExplicitHashKey, record.Data), record));
            return;
        }
        if (!_options.AggregationEnabled)
        {
            Enqueue(new ProducerEntry(map.Shards[index].ShardId, new PutRecordsEntry(record.PartitionKey, record.ExplicitHashKey, record.Data), record));
            return;
        }
        var open = _open[index] ??= new OpenAggregate(map.Shards[index].ShardId, new RecordAggregator(_options.AggregationMaxBytes));
        if (!open.Aggregator.TryAddValidated(record.PartitionKey, record.ExplicitHashKey, record.Data, record.KeyBytes))
        {
            CompleteAggregate(open);
            open.Aggregator.TryAddValidated(record.PartitionKey, record.ExplicitHashKey, record.Data, record.KeyBytes); // an empty aggregator takes any record the producer accepted
        }
        open.Records.Enqueue(record);
        if (open.Records.Count == 1)
            _linger.Started(open.ShardId, record.AcceptedAt);
    }

    /// <summary>A shard's aggregate, completed, leaves for the shard's lane with the records it holds.</summary>
    private void CompleteAggregate(OpenAggregate open)
    {
        var aggregator = open.Aggregator;
        var records = new PendingRecord[aggregator.Count];
        for (int i = 0; i < records.Length; i++)
            records[i] = open.Records.Dequeue();
        if (records.Length == 1)
        {
            Enqueue(new ProducerEntry(open.ShardId, aggregator.ToEntry(), records[0]));
            aggregator.Clear();
        }
        else
        {
            // Encoded by the task that sends it; its builder comes back through the pool for the next aggregates.
            var next = _builders.TryTake(out var builder) ? builder : new AggregatedRecordBuilder();
            Enqueue(new ProducerEntry(open.ShardId, aggregator.Seal(next, _recycleBuilder), records));
        }
        _linger.Sent(open.ShardId);
    }

    private void FlushAggregate(string shardId)
    {
        foreach (var open in _open)
            if (open is not null && open.ShardId == shardId && open.Aggregator.Count > 0)
                CompleteAggregate(open);
        _linger.Sent(shardId);
    }

    /// <summary>
    /// With the buffer full no record joins an aggregate until some are stored, so an aggregate whose shard has nothing
    /// in flight or waiting goes now rather than at the end of its linger (else a buffer smaller than the aggregates
    /// being filled would send only at each linger's end).
    /// </summary>
    private void FlushIdleAggregates()
    {
        foreach (var open in _open)
            if (open is { Aggregator.Count: > 0 } && (!_lanes.TryGetValue(open.ShardId, out var lane) || (lane.Count == 0 && !lane.InFlight)))
                CompleteAggregate(open);
    }

    private void FlushAllAggregates()
    {
        foreach (var open in _open)
            if (open is { Aggregator.Count: > 0 })
                CompleteAggregate(open);
    }

    /// <summary>An open shard's aggregate being filled, and its records in order.</summary>
    private sealed class OpenAggregate(string shardId, RecordAggregator aggregator)
    {
        public string ShardId { get; } = shardId;

        public RecordAggregator Aggregator { get; } = aggregator;

        public Queue<PendingRecord> Records { get; } = new();
    }

    private void Enqueue(ProducerEntry entry) => Lane(entry.Lane).Enqueue(entry);

    private ShardLane Lane(string shardId)
    {
        if (!_lanes.TryGetValue(shardId, out var lane))
        {
            var limiter = _options.RateLimitEnabled && shardId != ShardLane.Unpredicted
                ? new ShardRateLimiter(_options.ShardMaxBytesPerSecond, _options.ShardMaxRecordsPerSecond, _clock)
                : null;
            _lanes[shardId] = lane = new ShardLane(shardId, limiter);
        }
        return lane;
    }

    private void StartRefresh()
    {
        _refreshing = true;
        _ = Task.Run(async () =>
        {
            try
            {
                Post(new MapLoaded(await ShardTopology.LoadAsync(_client, _options.StreamName, CancellationToken.None).ConfigureAwait(false)));
            }
            catch (Exception e)
            {
                Post(new MapFailed(e));
            }
        });
    }

    /// <summary>Reads the shards again at the next turn (a record landed on another shard than predicted).</summary>
    private void RefreshSoon()
    {
        if (!_refreshing)
            _refreshDueAt = _clock.GetTimestamp();
    }

    private void Loaded(ShardTopology topology)
    {
        _refreshing = false;
        _refreshDueAt = _clock.GetTimestamp() + (long)(_options.ShardMapRefreshInterval.TotalSeconds * _clock.TimestampFrequency);
        if (_topology is not null && !_topology.SameOpenShards(topology))
        {
            // Aggregates of the old map go as they are, to the shards they were made for: Kinesis routes each by its
            // first record's hash key, and records the shard it lands on does not hold are put again (Landed).
            FlushAllAggregates();
            _open = new OpenAggregate?[topology.Open.Shards.Count];
        }
        else if (_topology is null)
            _open = new OpenAggregate?[topology.Open.Shards.Count];
        _topology = topology;
        var waiting = _awaitingMap;
        _awaitingMap = [];
        foreach (var record in waiting)
            Accept(record);
        var parked = _awaitingRanges;
        _awaitingRanges = [];
        foreach (var (entry, result) in parked)
            Landed(entry, result);
    }

    private void LoadFailed(Exception error)
    {
        _refreshing = false;
        var delay = _topology is null ? NoMapRetryDelay : _options.ShardMapRefreshInterval;
        _refreshDueAt = _clock.GetTimestamp() + (long)(delay.TotalSeconds * _clock.TimestampFrequency);
        if (_topology is not null || error is AwsServiceException { IsRetryable: true })
            return;
        // Without a map nothing can be sent: the records waiting for one fail with the reason (a missing stream, say).
        var waiting = _awaitingMap;
        _awaitingMap = [];
        foreach (var record in waiting)
            Fail(record, Failure(error, record.Attempts));
    }

    private void FailEverything(ProducerRecordException error)
    {
        foreach (var lane in _lanes.Values)
            foreach (var entry in lane.TakeAll())
            {
                foreach (var record in entry.Records)
                    Fail(record, error);
                entry.Release();
            }
        foreach (var open in _open)
            while (open is not null && open.Records.TryDequeue(out var record))
                Fail(record, error);
        foreach (var record in _awaitingMap)
            Fail(record, error);
        _awaitingMap.Clear();
        while (_events.Reader.TryRead(out var e))
            if (e is PendingRecord record)
                Fail(record, error);
        foreach (var waiter in _flushWaiters)
            waiter.TrySetResult();
    }
}
