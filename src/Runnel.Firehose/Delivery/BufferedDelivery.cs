using Runnel.Storage;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// What every delivery does, one step at a time, whatever its destination: <see cref="PumpAsync"/> reads what the
/// source (<see cref="IRecordSource"/>: a DirectPut log, a Kinesis stream's shards) holds past the position, buffers
/// it, hands the batches that are full or due to the destination, and records the position below every record not
/// yet delivered. A failed attempt is retried, the position held, with exponential backoff and jitter (1 s doubling
/// to 60 s); how long, and what then, is the destination's to say. The caller (the elected node's
/// <see cref="DeliveryWorker"/>) pumps when records arrive and at the time it returns; tests pump at the instants
/// they choose. Not thread-safe: one pump at a time.
/// </summary>
public abstract class BufferedDelivery
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1), LongestRetry = TimeSpan.FromSeconds(60);

    private readonly IRecordSource _source;
    private readonly DeliveryPosition _position;
    private readonly List<(DeliveryBatch Batch, int Failures, long RetryAt)> _failed = [];
    private readonly RecordSplitter? _splitter;

    /// <param name="splitter">How records are split before they are buffered (KPL aggregates, sub-records); null: never.</param>
    protected BufferedDelivery(IRecordSource source, BufferingHints hints, DeliveryPosition position, RecordSplitter? splitter = null)
    {
        _source = source;
        _splitter = splitter is { Splits: true } ? splitter : null;
        Buffers = new DeliveryBuffers(hints);
        _position = position;
    }

    protected DeliveryBuffers Buffers { get; }

    /// <summary>The batches waiting to be tried again.</summary>
    protected IEnumerable<DeliveryBatch> Retrying => _failed.Select(f => f.Batch);

    /// <summary>The last attempt that failed, for the operator; null when the last attempt succeeded.</summary>
    public Exception? LastFailure { get; private set; }

    /// <summary>
    /// One step at <paramref name="nowMillis"/>: retries failed batches that are due, reads and buffers every record the
    /// source holds past what was read, delivers every batch that is full or due, records the position. Returns when
    /// the next step is due (a buffer's interval, a retry), Unix ms; null when nothing waits but new records.
    /// </summary>
    public async Task<long?> PumpAsync(long nowMillis, CancellationToken cancellationToken = default)
    {
        foreach (var failed in _failed.Where(f => f.RetryAt <= nowMillis).ToList())
        {
            _failed.Remove(failed);
            await DeliverAsync(failed.Batch, failed.Failures, nowMillis, cancellationToken).ConfigureAwait(false);
        }
        while (await _source.ReadAsync(cancellationToken).ConfigureAwait(false) is { } part)
        {
            var full = new List<DeliveryBatch>();
            using (part)
            {
                var read = part.Read;
                foreach (ref readonly var record in read.Records)
                {
                    if (_splitter is null)
                    {
                        if (Add(new SourceRecord(part.Source, record.Offset, record.ArrivalMillis, read.Data(record)), nowMillis) is { } filled)
                            full.Add(filled);
                        continue;
                    }
                    foreach (var piece in _splitter.Split(read.Data(record))) // every piece holds the record's position
                        if (Add(new SourceRecord(part.Source, record.Offset, record.ArrivalMillis, piece.Span), nowMillis) is { } filled)
                            full.Add(filled);
                }
            }
            foreach (var batch in full)
                await DeliverAsync(batch, 0, nowMillis, cancellationToken).ConfigureAwait(false);
            Buffered();
        }
        foreach (var batch in await FlushStagesAsync(nowMillis, cancellationToken).ConfigureAwait(false))
            await DeliverAsync(batch, 0, nowMillis, cancellationToken).ConfigureAwait(false);
        Buffered();
        foreach (var due in Buffers.TakeDue(nowMillis))
            await DeliverAsync(due, 0, nowMillis, cancellationToken).ConfigureAwait(false);
        Settled();
        var held = new Dictionary<int, ulong>(Buffers.HeldFrom());
        foreach (var (source, position) in StageHeldFrom() ?? new Dictionary<int, ulong>())
            held[source] = held.TryGetValue(source, out ulong h) ? Math.Min(h, position) : position;
        _position.AdvanceAll(_source.ReadTo.ToDictionary(p => p.Key, p => held.TryGetValue(p.Key, out ulong h) ? h : p.Value));
        long? retry = _failed.Count == 0 ? null : _failed.Min(f => f.RetryAt);
        return new[] { Buffers.NextDueMillis, StageDueMillis, retry }.Where(t => t is not null).Min();
    }

    /// <summary>Buffers one record (in its partition, processed as the destination asks); returns a buffer it filled.</summary>
    protected abstract DeliveryBatch? Add(SourceRecord record, long nowMillis);

    /// <summary>Stages before the destination's buffers (a transformation): runs what is due, returns the destination's buffers that filled.</summary>
    protected virtual Task<IReadOnlyList<DeliveryBatch>> FlushStagesAsync(long nowMillis, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DeliveryBatch>>([]);

    /// <summary>When a stage before the destination's buffers is next due; null when none waits.</summary>
    protected virtual long? StageDueMillis => null;

    /// <summary>Per source, the lowest position a stage before the destination's buffers holds.</summary>
    protected virtual IReadOnlyDictionary<int, ulong>? StageHeldFrom() => null;

    /// <summary>After records were buffered: work that is best done as they arrive.</summary>
    protected virtual void Buffered()
    {
    }

    /// <summary>After a step's deliveries, before the position is recorded: every batch taken out is delivered or waiting to be retried.</summary>
    protected virtual void Settled()
    {
    }

    /// <summary>
    /// One attempt to deliver <paramref name="batch"/> (<paramref name="failuresBefore"/> attempts failed before it):
    /// null when the batch is done with (delivered, or given up on as the destination's rules say), otherwise why it
    /// failed, and it is tried again after the backoff.
    /// </summary>
    protected abstract Task<Exception?> AttemptAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken);

    /// <summary>The batch is done with: drop what was kept for it.</summary>
    protected virtual void Forget(DeliveryBatch batch)
    {
    }

    private async Task DeliverAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        var failure = await AttemptAsync(batch, failuresBefore, nowMillis, cancellationToken).ConfigureAwait(false);
        LastFailure = failure;
        if (failure is null)
        {
            Buffers.Done(batch);
            Forget(batch);
            return;
        }
        int failures = failuresBefore + 1;
        double backoff = Math.Min(LongestRetry.TotalMilliseconds, FirstRetry.TotalMilliseconds * Math.Pow(2, failures - 1));
        _failed.Add((batch, failures, nowMillis + (long)(backoff / 2 + Random.Shared.NextDouble() * backoff / 2)));
    }
}
