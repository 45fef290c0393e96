using Runnel.Storage.Records;
using Runnel.Storage.Log;

namespace Runnel.Storage;

/// <summary>Where an appended batch landed: its first record's offset and the arrival time of all of it.</summary>
public readonly record struct AppendResult(ulong FirstOffset, long ArrivalMillis);

/// <summary>
/// The log of one shard: records appended in order, each at the next offset, read back from any offset.
/// Implementations are thread-safe: many readers and many appenders at once, and readers never block
/// appenders. Every implementation must pass the storage test suite (tests/Runnel.Storage.Tests).
/// </summary>
public interface IShardLog : IDisposable
{
    /// <summary>The offset the next appended record gets; every offset below it is committed.</summary>
    ulong NextOffset { get; }

    /// <summary>The arrival time of the newest record, Unix ms; 0 when the log is empty.</summary>
    long LastArrivalMillis { get; }

    /// <summary>
    /// Appends the batch's records at consecutive offsets. Completes once the records are in the log
    /// (and on stable storage if the fsync policy says so); the caller keeps ownership of the batch.
    /// </summary>
    ValueTask<AppendResult> AppendAsync(RecordBatch batch);

    /// <summary>
    /// Reads records from <paramref name="fromOffset"/> on, skipping records that arrived before
    /// <paramref name="minArrivalMillis"/> (expired by retention). Returns at least one record when one is
    /// available, and stops at <paramref name="maxRecords"/> or before exceeding <paramref name="maxBytes"/>.
    /// Asynchronous because a log may live across a network (the embedded one completes at once).
    /// </summary>
    ValueTask<ReadResult> ReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken = default);

    /// <summary>The offset of the first record that arrived at or after <paramref name="arrivalMillis"/>
    /// (<see cref="NextOffset"/> when there is none).</summary>
    ValueTask<ulong> FirstOffsetAtOrAfterAsync(long arrivalMillis, CancellationToken cancellationToken = default);

    /// <summary>Frees the disk space of records that arrived before <paramref name="cutoffMillis"/>,
    /// whole segments at a time.</summary>
    void EnforceRetention(long cutoffMillis);

    /// <summary>Puts everything appended so far on stable storage.</summary>
    void Flush();

    /// <summary>
    /// Raised when records or a close reached the log through another writer (another node of a cluster); this
    /// instance's own appends and close do not raise it, their callers know. Readers waiting for records wait
    /// for it too. May be raised on any thread, and more than once for one change. A log with one writer (the
    /// embedded one) never raises it.
    /// </summary>
    event Action? AppendedElsewhere;

    /// <summary>True once <see cref="Close"/> was called.</summary>
    bool IsClosed { get; }

    /// <summary>
    /// Closes the log to appends, as a reshard does to its parent shards, and returns the offset one past
    /// the last record. Appends queued before the call are written; any later one fails with
    /// <see cref="ShardClosedException"/>. Idempotent.
    /// </summary>
    ulong Close();
}

/// <summary>An append reached a shard log that a reshard has closed: route the records again.</summary>
public sealed class ShardClosedException(string shard) : InvalidOperationException($"The shard log {shard} is closed to appends.");
