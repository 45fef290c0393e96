using Runnel.Core.Throughput;
using Runnel.Storage;
using Runnel.Storage.Records;

namespace Runnel.Server.Streams;

/// <summary>
/// One shard as the server serves it: its log (opened through the <see cref="IShardStore"/> on first use), its
/// throughput budget and counters, and the signal that wakes readers waiting for records. Every append and
/// every reshard's close of the shard goes through here, so a waiting reader hears of each. One instance per
/// shard for the life of its stream (<see cref="ShardRegistry"/>).
/// <para>Thread-safety: any number of appenders, readers and waiters at once.</para>
/// </summary>
public sealed class Shard
{
    private readonly IShardStore _store;
    private IShardLog? _log;
    // Created by the first waiter, completed and cleared by the next append: no cost to appends nobody waits for.
    private TaskCompletionSource? _appended;

    internal Shard(IShardStore store, long streamId, int index, ShardThroughput throughput)
    {
        _store = store;
        StreamId = streamId;
        Index = index;
        Throughput = throughput;
    }

    public long StreamId { get; }

    public int Index { get; }

    /// <summary>The shard's write and read budgets (AWS's per-shard limits) and its traffic counters.</summary>
    public ShardThroughput Throughput { get; }

    /// <summary>How far behind the newest record each GetRecords call of this shard read (its shard-level IteratorAgeMilliseconds).</summary>
    public Runnel.Core.Metrics.MetricCell IteratorAge { get; } = new();

    /// <summary>The offset the next record gets; every offset below it can be read.</summary>
    public ulong NextOffset => Log.NextOffset;

    /// <summary>
    /// The offset the next record gets, or null when the shard has no log (never written, read or opened anywhere) or
    /// its stream was deleted: a look that never makes a log, for those that look at every shard (the readers' lag).
    /// </summary>
    public ulong? NextOffsetIfLogExists()
    {
        if (IsRetired)
            return null;
        var log = Volatile.Read(ref _log) ?? (_store.OpenIfPresent(StreamId, Index) is { } present ? Adopt(present) : null);
        return log?.NextOffset;
    }

    /// <summary>True once a reshard closed the shard to appends.</summary>
    public bool IsClosed => Log.IsClosed;

    /// <summary>The log, opened on first use. Opening can fail with an <see cref="IOException"/> (the disk); the next use tries again.</summary>
    private IShardLog Log => Volatile.Read(ref _log) ?? OpenLog();

    private IShardLog OpenLog() => IsRetired ? throw DeletedStream.Error(StreamId) : Adopt(_store.Open(StreamId, Index));

    /// <summary>The log, opened without blocking a thread when it lives across a network (the async members use this).</summary>
    private ValueTask<IShardLog> LogAsync()
    {
        if (Volatile.Read(ref _log) is { } log)
            return ValueTask.FromResult(log);
        if (IsRetired)
            return ValueTask.FromException<IShardLog>(DeletedStream.Error(StreamId));
        var opening = _store.OpenAsync(StreamId, Index);
        return opening.IsCompletedSuccessfully ? ValueTask.FromResult(Adopt(opening.Result)) : AdoptAsync(opening);
    }

    /// <summary>Opens the log now, without blocking a thread (on a cluster, creating its JetStream stream when it has none).</summary>
    public async ValueTask OpenAsync() => await LogAsync().ConfigureAwait(false);

    private async ValueTask<IShardLog> AdoptAsync(ValueTask<IShardLog> opening) => Adopt(await opening.ConfigureAwait(false));

    private IShardLog Adopt(IShardLog log)
    {
        // The store hands out one instance per shard. Readers here wake for appends through other nodes too (a
        // cluster's log tells of them; the embedded one has none).
        if (Interlocked.CompareExchange(ref _log, log, null) is null)
            log.AppendedElsewhere += NotifyAppended;
        return Volatile.Read(ref _log)!;
    }

    /// <summary>
    /// Appends a batch framed by the caller; completes once the log holds it, then wakes waiting readers.
    /// Fails with <see cref="ShardClosedException"/> when a reshard closed the shard (route again),
    /// <see cref="ObjectDisposedException"/> when its stream was deleted, or an I/O error from the disk.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(RecordBatch batch)
    {
        if (Volatile.Read(ref _log) is null)
            return OpenThenAppendAsync(batch);
        var append = Log.AppendAsync(batch);
        if (!append.IsCompletedSuccessfully)
            return Awaited(append);
        // Written already (the appender found the writer idle and wrote it itself): wake readers now, no hop.
        NotifyAppended();
        return append;
    }

    private async ValueTask<AppendResult> OpenThenAppendAsync(RecordBatch batch)
    {
        var result = await (await LogAsync().ConfigureAwait(false)).AppendAsync(batch).ConfigureAwait(false);
        NotifyAppended();
        return result;
    }

    private async ValueTask<AppendResult> Awaited(ValueTask<AppendResult> append)
    {
        var result = await append;
        NotifyAppended();
        return result;
    }

    /// <summary>Reads records from <paramref name="fromOffset"/> on; see <see cref="IShardLog.ReadAsync"/>.</summary>
    public ValueTask<ReadResult> ReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _log) is { } log
            ? log.ReadAsync(fromOffset, maxRecords, maxBytes, minArrivalMillis, cancellationToken)
            : OpenThenReadAsync(fromOffset, maxRecords, maxBytes, minArrivalMillis, cancellationToken);

    private async ValueTask<ReadResult> OpenThenReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken) =>
        await (await LogAsync().ConfigureAwait(false)).ReadAsync(fromOffset, maxRecords, maxBytes, minArrivalMillis, cancellationToken).ConfigureAwait(false);

    /// <summary>The offset of the first record that arrived at or after <paramref name="arrivalMillis"/>.</summary>
    public async ValueTask<ulong> FirstOffsetAtOrAfterAsync(long arrivalMillis) =>
        await (await LogAsync().ConfigureAwait(false)).FirstOffsetAtOrAfterAsync(arrivalMillis).ConfigureAwait(false);

    /// <summary>Removes expired records; a shard without a log yet (never written anywhere) has none, and none is made for it.</summary>
    public void EnforceRetention(long cutoffMillis)
    {
        if (IsRetired)
            return;
        var log = Volatile.Read(ref _log) ?? (_store.OpenIfPresent(StreamId, Index) is { } present ? Adopt(present) : null);
        log?.EnforceRetention(cutoffMillis);
    }

    /// <summary>Closes the shard to appends (a reshard) and returns the offset one past its last record; wakes waiters.</summary>
    public ulong Close()
    {
        ulong end = Log.Close();
        NotifyAppended();
        return end;
    }

    /// <summary>
    /// Completes once the shard holds a record at <paramref name="offset"/> or beyond, or is closed, or its
    /// stream is gone: the reader then reads again. Never completes early for nothing but cancellation.
    /// </summary>
    public Task WaitForRecordsAsync(ulong offset, CancellationToken cancel)
    {
        var signal = Volatile.Read(ref _appended);
        if (signal is null)
        {
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = Interlocked.CompareExchange(ref _appended, created, null) ?? created;
        }
        // Checked after the signal is in place: an append that lands now either shows here or completes the signal.
        if (IsRetired)
            return Task.CompletedTask;
        var log = Log;
        if (log.NextOffset > offset || log.IsClosed)
            return Task.CompletedTask;
        return signal.Task.WaitAsync(cancel);
    }

    /// <summary>Wakes every waiter (after an append, a close, or the stream's deletion).</summary>
    internal void NotifyAppended() => Interlocked.Exchange(ref _appended, null)?.TrySetResult();

    /// <summary>True once its stream was deleted: the component is no longer the registry's, and its log is gone.</summary>
    public bool IsRetired => Volatile.Read(ref _retired);

    private bool _retired;

    /// <summary>Marks the shard's stream deleted and wakes its waiters, who must not use it again.</summary>
    internal void Retire()
    {
        Volatile.Write(ref _retired, true);
        NotifyAppended();
    }
}
