using System.Text;
using Runnel.Client.Aggregation;

namespace Runnel.Client.Producer;

/// <summary>
/// Puts user records into one stream as the KPL does: aggregated in the KPL's format per predicted shard (so an
/// aggregate never holds records of two shards), held at most <see cref="ProducerOptions.RecordMaxBufferedTime"/>,
/// kept within each shard's write limits (a hot shard waits without holding back the others), packed into PutRecords
/// calls within Kinesis's limits, and retried on failure in order per partition key until
/// <see cref="ProducerOptions.RecordTtl"/>.
/// <para>
/// <see cref="PutAsync"/> completes when the Kinesis record holding the record was acknowledged, with its shard and
/// sequence number; <see cref="EnqueueAsync"/> and <see cref="TryEnqueue"/> are fire-and-forget, their failures
/// reported by <see cref="RecordFailed"/>. The buffer is bounded (<see cref="ProducerOptions.MaxBufferedRecords"/>,
/// <see cref="ProducerOptions.MaxBufferedBytes"/>): a full one makes <see cref="PutAsync"/> and
/// <see cref="EnqueueAsync"/> wait and <see cref="TryEnqueue"/> refuse. Order: records of one partition key that go to
/// one shard are stored in the order they were accepted, retries included (a shard has one call in flight at a
/// time, and no two records of a key travel in one call as separate entries); across a reshard, a record put again
/// to the child that holds its key may follow a later one of the same key.
/// </para>
/// Metrics are published in the meter <see cref="MeterName"/>. Thread-safe. Dispose it to send what is buffered and
/// stop; the <see cref="KinesisClient"/> stays the caller's.
/// </summary>
public sealed class KinesisProducer : IAsyncDisposable
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of the producer's metrics.</summary>
    public const string MeterName = ProducerMetrics.MeterName;

    private readonly BufferGate _gate;
    private readonly DataSlabs _slabs = new();
    private readonly ProducerMetrics _metrics;
    private readonly ProducerPipeline _pipeline;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TimeProvider _clock;
    private readonly int _maxRecordBytes;
    private long _failedRecords;
    private int _disposed;

    /// <summary>A producer putting into <see cref="ProducerOptions.StreamName"/> through <paramref name="client"/>; it reads the shards at once.</summary>
    /// <exception cref="ArgumentException">An option is out of its range.</exception>
    public KinesisProducer(KinesisClient client, ProducerOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _clock = options.TimeProvider;
        _maxRecordBytes = options.AggregationEnabled ? options.AggregationMaxBytes : RecordAggregator.DefaultMaxRecordBytes;
        _gate = new BufferGate(options.MaxBufferedRecords, options.MaxBufferedBytes);
        _metrics = new ProducerMetrics(options.StreamName, () => _gate.Bytes);
        _pipeline = new ProducerPipeline(client, options, _gate, _metrics, ReportFailure);
        _loop = Task.Run(() => _pipeline.RunAsync(_stop.Token));
    }

    /// <summary>The producer's settings.</summary>
    public ProducerOptions Options { get; }

    /// <summary>
    /// Raised for each record given to <see cref="EnqueueAsync"/> or <see cref="TryEnqueue"/> that failed (a record
    /// of <see cref="PutAsync"/> fails its task instead). Raised on the producer's pipeline: keep handlers short, and
    /// do not wait on the producer in them.
    /// </summary>
    public event EventHandler<RecordFailedEventArgs>? RecordFailed;

    /// <summary>The user records that failed so far, those of <see cref="PutAsync"/> included.</summary>
    public long FailedRecords => Interlocked.Read(ref _failedRecords);

    /// <summary>The user records accepted and not yet durable or failed.</summary>
    public int BufferedRecords => _gate.Records;

    /// <summary>The bytes (data and partition keys) of the user records accepted and not yet durable or failed.</summary>
    public long BufferedBytes => _gate.Bytes;

    /// <summary>
    /// Puts a record; completes when the Kinesis record holding it was acknowledged, with where it was stored. Waits
    /// first while the buffer is full; <paramref name="cancellationToken"/> cancels that wait only, not the put of a
    /// record already accepted. The data is copied.
    /// </summary>
    /// <exception cref="ArgumentException">The record is not one Kinesis takes (key length, explicit hash key, size).</exception>
    /// <exception cref="ProducerRecordException">The record failed (thrown by the task).</exception>
    public async Task<PutResult> PutAsync(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        long bytes = Validate(partitionKey, data, explicitHashKey);
        ThrowIfDisposed();
        await _gate.EnterAsync(bytes, cancellationToken).ConfigureAwait(false);
        var completion = new TaskCompletionSource<PutResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pipeline.Post(Pending(partitionKey, explicitHashKey, data, bytes, completion));
        return await completion.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Accepts a record to put, waiting while the buffer is full (backpressure); its failure, if any, is reported by
    /// <see cref="RecordFailed"/>. The data is copied.
    /// </summary>
    /// <exception cref="ArgumentException">The record is not one Kinesis takes.</exception>
    public async ValueTask EnqueueAsync(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        long bytes = Validate(partitionKey, data, explicitHashKey);
        ThrowIfDisposed();
        await _gate.EnterAsync(bytes, cancellationToken).ConfigureAwait(false);
        _pipeline.Post(Pending(partitionKey, explicitHashKey, data, bytes, null));
    }

    /// <summary>Accepts a record to put when the buffer has room; false, and nothing accepted, when it is full. The data is copied.</summary>
    /// <exception cref="ArgumentException">The record is not one Kinesis takes.</exception>
    public bool TryEnqueue(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey = null)
    {
        long bytes = Validate(partitionKey, data, explicitHashKey);
        ThrowIfDisposed();
        if (!_gate.TryEnter(bytes))
            return false;
        _pipeline.Post(Pending(partitionKey, explicitHashKey, data, bytes, null));
        return true;
    }

    /// <summary>Sends every buffered record without waiting out its linger; completes when nothing is buffered (every record durable or failed).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.FlushAsync().WaitAsync(cancellationToken);
    }

    /// <summary>Sends what is buffered (each record durable or failed), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            if (!_loop.IsCompleted)
                await _pipeline.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The loop failed every record it held with the reason; nothing more to tell here.
            }
            _stop.Dispose();
            _metrics.Dispose();
            _slabs.Dispose();
        }
    }

    private PendingRecord Pending(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, long bytes, TaskCompletionSource<PutResult>? completion)
    {
        var copy = _slabs.Copy(data.Span, out var slab);
        return new PendingRecord(partitionKey, explicitHashKey, copy, slab, _clock.GetTimestamp(), bytes, completion);
    }

    /// <summary>Checks a record as Kinesis would; returns what it holds of the buffer (data and partition key).</summary>
    private long Validate(string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        if (partitionKey.Length is 0 or > RecordAggregator.MaxPartitionKeyLength)
            throw new ArgumentException($"A partition key has 1 to {RecordAggregator.MaxPartitionKeyLength} characters; this one has {partitionKey.Length}.", nameof(partitionKey));
        if (explicitHashKey is not null && !HashKeys.TryParse(explicitHashKey, out _))
            throw new ArgumentException($"'{explicitHashKey}' is not an explicit hash key: decimal digits without leading zeros, from 0 to 2^128 - 1.", nameof(explicitHashKey));
        long bytes = data.Length + (long)Encoding.UTF8.GetByteCount(partitionKey);
        if (bytes > _maxRecordBytes)
            throw new ArgumentException($"A record of {bytes} bytes (data and partition key) is over the limit of {_maxRecordBytes} bytes.", nameof(data));
        return bytes;
    }

    private void ReportFailure(PendingRecord record, ProducerRecordException error)
    {
        Interlocked.Increment(ref _failedRecords);
        if (record.Completion is not null)
            return; // its task tells its caller
        try
        {
            RecordFailed?.Invoke(this, new RecordFailedEventArgs(record.ToUserRecord(), error));
        }
        catch (Exception)
        {
            // A handler's exception must not stop the pipeline; the failure is counted in FailedRecords either way.
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
