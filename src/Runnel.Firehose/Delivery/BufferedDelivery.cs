using Runnel.Firehose.Destinations;
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
    private readonly Transform.TransformStage? _transform;

    /// <summary>The buffer of records the transformation failed (partitions of failures start with NUL, then their error output type).</summary>
    protected const string ProcessingFailed = "\0processing-failed";

    /// <summary>The buffer of records the Decompression or CloudWatchLogProcessing processor could not take.</summary>
    private const string DecompressionFailed = "\0" + RecordSplitter.DecompressionFailed;

    private readonly List<SplitFailure> _failures = [];

    /// <param name="splitter">How records are split before they are buffered (KPL aggregates, sub-records); null: never.</param>
    /// <param name="transform">The Lambda processor records go through before the destination's buffers; null: none.</param>
    protected BufferedDelivery(IRecordSource source, BufferingHints hints, DeliveryPosition position, RecordSplitter? splitter = null, Transform.TransformStage? transform = null)
    {
        _source = source;
        _transform = transform;
        _splitter = splitter is { Splits: true } ? splitter : null;
        Buffers = new DeliveryBuffers(hints);
        _position = position;
    }

    protected DeliveryBuffers Buffers { get; }

    /// <summary>Where this delivery's metrics go (its delivery stream's, named after its destination); null for nowhere.</summary>
    public Runnel.Core.Metrics.DeliveryStreamMetrics? Metrics
    {
        get => _metrics;
        set
        {
            _metrics = value;
            if (_transform is not null)
                _transform.Metrics = value;
        }
    }

    private Runnel.Core.Metrics.DeliveryStreamMetrics? _metrics;

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
                if (_source is KinesisStreamSource)
                    Metrics?.ReadFromStream(read.Count, read.PayloadBytes, part.MillisBehindLatest);
                bool described = _transform is not null && part.Shard is not null; // the transformation event's kinesisRecordMetadata
                foreach (ref readonly var record in read.Records)
                {
                    if (_splitter is null)
                    {
                        if (Take(new SourceRecord(part.Source, record.Offset, record.ArrivalMillis, read.Data(record)), nowMillis,
                            described ? Described(part, record, null) : null) is { } filled)
                            full.Add(filled);
                        continue;
                    }
                    _failures.Clear();
                    var pieces = _splitter.Split(read.Data(record), _failures);
                    for (int i = 0; i < pieces.Count; i++) // every piece holds the record's position
                        if (Take(new SourceRecord(part.Source, record.Offset, record.ArrivalMillis, pieces[i].Span), nowMillis,
                            described ? Described(part, record, pieces.Count > 1 ? i : null) : null) is { } filled)
                            full.Add(filled);
                    foreach (var failure in _failures)
                        if (Buffers.Add(DecompressionFailed, new SourceRecord(part.Source, record.Offset, record.ArrivalMillis,
                            ErrorRecord(failure.Raw.Span, record.ArrivalMillis, nowMillis, failure.ErrorCode, failure.ErrorMessage)), nowMillis) is { } filled)
                            full.Add(filled);
                }
            }
            foreach (var batch in full)
                await DeliverAsync(batch, 0, nowMillis, cancellationToken).ConfigureAwait(false);
            Buffered();
        }
        if (_source is KinesisStreamSource { StreamName: { } streamName })
            Metrics?.ReadSource(streamName, _source.ReadTo); // for the delivery stream's lag behind the stream (the server measures it)
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
        if (Metrics is not null || ReportsFreshness)
        {
            long oldest = Buffers.Filling.Concat(Retrying).Select(b => b.OldestArrivalMillis).DefaultIfEmpty(long.MaxValue).Min();
            Waiting(oldest == long.MaxValue ? 0 : Math.Max(0, (nowMillis - oldest) / 1000));
        }
        long? retry = _failed.Count == 0 ? null : _failed.Min(f => f.RetryAt);
        return new[] { Buffers.NextDueMillis, StageDueMillis, retry }.Where(t => t is not null).Min();
    }

    /// <summary>Whether <see cref="Waiting"/> is wanted without <see cref="Metrics"/> (a channel's own metrics).</summary>
    protected virtual bool ReportsFreshness => false;

    /// <summary>How long the oldest record not yet delivered has waited, seconds, at each step.</summary>
    protected virtual void Waiting(long freshnessSeconds) => Metrics?.Waiting(freshnessSeconds);

    /// <summary>Takes one record: into the transformation's buffer when there is one (with where it came from in a
    /// Kinesis stream), else into the destination's.</summary>
    private DeliveryBatch? Take(SourceRecord record, long nowMillis, Transform.KinesisRecordMetadata? kinesis)
    {
        if (_transform is null)
            return Add(record, nowMillis, null);
        _transform.Add(record, nowMillis, kinesis);
        return null;
    }

    private static Transform.KinesisRecordMetadata Described(SourceRead part, in Runnel.Storage.Records.RecordView record, int? subsequence) => new(
        part.Shard!.ShardId, System.Text.Encoding.UTF8.GetString(part.Read.PartitionKey(record)),
        part.Shard.SequenceOf(record.Offset, record.ArrivalMillis).ToString(), record.ArrivalMillis, subsequence);

    /// <summary>
    /// Buffers one record for the destination (in its partition, processed as the destination asks), with the
    /// partition keys a transformation gave it; returns a buffer it filled.
    /// </summary>
    protected abstract DeliveryBatch? Add(SourceRecord record, long nowMillis, IReadOnlyDictionary<string, string>? lambdaKeys);

    /// <summary>The transformation's buffers that are due, invoked; what they gave buffered for the destination, failures
    /// in the <see cref="ProcessingFailed"/> buffer.</summary>
    private async Task<IReadOnlyList<DeliveryBatch>> FlushStagesAsync(long nowMillis, CancellationToken cancellationToken)
    {
        if (_transform is null)
            return [];
        var full = new List<DeliveryBatch>();
        foreach (var result in await _transform.FlushAsync(nowMillis, cancellationToken).ConfigureAwait(false))
        {
            DeliveryBatch? filled = result.Result switch
            {
                Transform.TransformResult.Ok => Add(new SourceRecord(result.Source, result.Position, result.ArrivalMillis, result.Data.Span), nowMillis, result.PartitionKeys),
                Transform.TransformResult.ProcessingFailed => Buffers.Add(ProcessingFailed, new SourceRecord(result.Source, result.Position, result.ArrivalMillis,
                    ErrorRecord(result.Data.Span, result.ArrivalMillis, nowMillis, result.ErrorCode ?? "", result.ErrorMessage ?? "", result.AttemptsMade, _transform.Settings.FunctionArn)), nowMillis),
                _ => null, // Dropped: on purpose, and leaves no trace
            };
            if (filled is not null)
                full.Add(filled);
        }
        return full;
    }

    private long? StageDueMillis => _transform?.NextDueMillis;

    private IReadOnlyDictionary<int, ulong>? StageHeldFrom() => _transform?.HeldFrom();

    /// <summary>A failed record as an error output holds it: one JSON document per line (docs/formats/firehose.md).</summary>
    protected static byte[] ErrorRecord(ReadOnlySpan<byte> data, long arrivalMillis, long nowMillis, string code, string message, int attemptsMade = 1, string? lambdaArn = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(data.Length * 4 / 3 + 256);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBase64String("rawData", data);
            json.WriteString("errorCode", code);
            json.WriteString("errorMessage", message);
            json.WriteNumber("attemptsMade", attemptsMade);
            json.WriteNumber("arrivalTimestamp", arrivalMillis);
            json.WriteNumber("attemptEndingTimestamp", nowMillis);
            if (lambdaArn is not null)
                json.WriteString("lambdaARN", lambdaArn); // as AWS spells it in the objects it writes (the docs say lambdaArn)
            json.WriteEndObject();
        }
        System.Buffers.BuffersExtensions.Write(buffer, "\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A buffer of failed records (its partition NUL and the error output type) written as one object under
    /// <paramref name="errorPrefix"/>; null once written.</summary>
    protected static async Task<Exception?> WriteErrorsAsync(IObjectStore store, Naming.S3Prefix errorPrefix, ObjectCompression compression, string name, long version,
        DeliveryBatch batch, CancellationToken cancellationToken)
    {
        string prefix = errorPrefix.Evaluate(At(batch), errorOutputType: batch.Partition[1..]);
        return await WriteObjectAsync(store, prefix, batch.Payload, compression, name, version, batch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="payload"/> as one object under <paramref name="prefix"/>, named as Firehose names
    /// objects at the batch's oldest arrival; null once written, else why not (the caller retries or gives up).</summary>
    protected static async Task<Exception?> WriteObjectAsync(IObjectStore store, string prefix, ReadOnlyMemory<byte> payload, ObjectCompression compression,
        string name, long version, DeliveryBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await store.WriteAsync(prefix + Naming.ObjectName.Suffix(name, version, At(batch), Guid.NewGuid(), compression.Extension), payload, compression, cancellationToken)
                .ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e;
        }
    }

    /// <summary>The instant a batch's prefixes and object names are evaluated at: its oldest record's arrival.</summary>
    protected static DateTimeOffset At(DeliveryBatch batch) => DateTimeOffset.FromUnixTimeMilliseconds(batch.OldestArrivalMillis);

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
        if (!batch.Partition.StartsWith('\0')) // error outputs are not the destination's deliveries
            Metrics?.Delivered(failure is null, batch.Count, batch.Bytes);
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
