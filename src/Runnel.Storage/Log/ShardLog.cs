using Runnel.Storage.Records;
using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace Runnel.Storage.Log;

/// <summary>
/// The embedded log of one shard: a directory of append-only segment files.
/// <para>Thread-safety: any number of threads may append and read at once. Appends are queued and
/// written by whichever appender finds the writer idle (group commit: everything queued meanwhile goes
/// out in one vectored write and shares one fsync). Readers work from the immutable <see cref="LogView"/>
/// published after each commit and never take the writer's lock.</para>
/// </summary>
public sealed partial class ShardLog : IShardLog
{
    private readonly string _directory;
    private readonly LogOptions _options;

    /// <summary>The calls that change the files (<see cref="LogOptions.Io"/>).</summary>
    private DiskIo Io => _options.Io;
    private readonly Action<string> _warn;
    private readonly ConcurrentQueue<PendingAppend> _pending = new();
    private readonly SemaphoreSlim _writer = new(1, 1);
    private volatile LogView _view = LogView.Empty;

    // Owned by whoever holds _writer.
    private readonly List<SegmentView> _sealed = [];
    private ActiveSegment? _active;
    private HighWaterMark? _hwm;
    private ulong _nextOffset;
    private long _lastArrival;
    private bool _dirty;
    private long _lastWriteTicks;
    private bool _disposed;
    private volatile bool _closed;

    private ShardLog(string directory, LogOptions options, Action<string>? warn)
    {
        _directory = directory;
        _options = options;
        _warn = warn ?? (_ => { });
    }

    public ulong NextOffset => _view.NextOffset;

    /// <summary>Now, from the one clock (<see cref="LogOptions.Clock"/>), in Unix milliseconds: a record's arrival time.</summary>
    private long NowMillis => _options.Clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A monotonic millisecond count from the same clock, for idle and recheck intervals.</summary>
    private long ElapsedMillis => (long)(_options.Clock.GetTimestamp() * 1000.0 / _options.Clock.TimestampFrequency);

    public long LastArrivalMillis { get; private set; }

    internal LogView View => _view;

    public string Directory => _directory;

    /// <summary>
    /// Opens (and if needed recovers) the log in <paramref name="directory"/>, creating it if absent. On a
    /// file system that cannot be written (mounted read-only, or files not writable by this process) the
    /// log opens read-only instead of failing: see <see cref="IsReadOnly"/>.
    /// </summary>
    public static ShardLog Open(string directory, LogOptions options, Action<string>? warn = null)
    {
        var log = new ShardLog(directory, options, warn);
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (StorageFault.IsNotWritable(e))
        {
            log.RecoverReadOnly(e);
            return log;
        }
        log.Recover();
        return log;
    }

    public bool IsClosed => _closed;

    /// <summary>
    /// Closes the log to appends (a reshard closed its shard) and returns the offset one past its last
    /// record. Appends already queued are written first; later ones fail with <see cref="ShardClosedException"/>.
    /// Idempotent. The closed state lives in the stream's metadata, not in the files: a reopened log
    /// accepts appends again, and the caller must not route any to it.
    /// </summary>
    /// <summary>Never raised: the embedded log has one writer, this instance.</summary>
    public event Action? AppendedElsewhere
    {
        add { }
        remove { }
    }

    public ulong Close()
    {
        ulong end;
        _writer.Wait();
        try
        {
            while (!_pending.IsEmpty && !_disposed)
                DrainQueued(); // what was queued before the close is written
            _closed = true;
            FlushLocked();
            end = _nextOffset;
        }
        finally
        {
            _writer.Release();
        }
        DrainWhileIdle(); // anything that slipped in meanwhile is failed, not left waiting
        return end;
    }

    public ValueTask<AppendResult> AppendAsync(RecordBatch batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_closed)
            return ValueTask.FromException<AppendResult>(new ShardClosedException(_directory));
        if (batch.Count == 0)
            return ValueTask.FromResult(new AppendResult(NextOffset, LastArrivalMillis));
        var pending = new PendingAppend(batch);
        _pending.Enqueue(pending);
        DrainWhileIdle();
        return new ValueTask<AppendResult>(pending.Completion.Task);
    }

    /// <summary>
    /// Writes queued appends while the writer is free. Checking the queue again after releasing the
    /// writer closes the race where an append is queued just as the previous drainer finishes.
    /// </summary>
    private void DrainWhileIdle()
    {
        while (!_pending.IsEmpty && _writer.Wait(0))
        {
            try
            {
                DrainQueued();
            }
            finally
            {
                _writer.Release();
            }
        }
    }

    private void DrainQueued()
    {
        var group = new List<PendingAppend>();
        long groupBytes = 0;
        while (groupBytes < 16 * 1024 * 1024 && _pending.TryDequeue(out var next))
        {
            group.Add(next);
            groupBytes += next.Batch.Length;
        }
        if (group.Count == 0)
            return;
        if (_disposed)
        {
            foreach (var p in group)
                p.Completion.TrySetException(new ObjectDisposedException(nameof(ShardLog)));
            return;
        }
        if (_closed)
        {
            foreach (var p in group)
                p.Completion.TrySetException(new ShardClosedException(_directory));
            return;
        }

        if (_readOnly && !TryLeaveReadOnly())
        {
            foreach (var p in group)
                p.Completion.TrySetException(ReadOnlyAppendException(null));
            return;
        }

        long arrival = Math.Max(NowMillis, _lastArrival);
        ActiveSegment active;
        try
        {
            ulong records = 0;
            bool sealedRecords = false;
            foreach (var p in group)
            {
                records += (ulong)p.Batch.Count;
                sealedRecords |= p.Batch.HoldsSealed;
            }
            active = PrepareActiveSegment(arrival, sealedRecords);
            // No offset at or beyond the high-water mark is handed out before a raised mark is durable.
            if (_nextOffset + records > _hwm!.Value)
                _hwm.Set(_nextOffset + records + HighWaterMark.ReservationStep, _options.Fsync != FsyncPolicy.Never);
        }
        catch (Exception e)
        {
            Fail(group, e);
            return;
        }

        var buffers = new ReadOnlyMemory<byte>[group.Count];
        ulong offset = _nextOffset;
        for (int i = 0; i < group.Count; i++)
        {
            var batch = group[i].Batch;
            batch.Seal(offset, arrival);
            group[i].FirstOffset = offset;
            offset += (ulong)batch.Count;
            buffers[i] = batch.Frames;
        }

        long writeAt = active.Length;
        try
        {
            Io.Write(active.Handle!, buffers, writeAt);
            if (_options.Fsync == FsyncPolicy.Always)
                Io.FlushToDisk(active.Handle!);
            else
                _dirty = true;
        }
        catch (Exception e)
        {
            // Undo a partial write so the file ends on a frame boundary, and fail the whole group.
            try { Io.SetLength(active.Handle!, writeAt); } catch (IOException) { }
            Fail(group, e);
            return;
        }

        long position = writeAt;
        foreach (var p in group)
        {
            var batch = p.Batch;
            for (int i = 0; i < batch.Count; i++)
            {
                active.IndexIfDue(p.FirstOffset + (ulong)i, position + batch.FrameStart(i), arrival, _options.IndexIntervalBytes);
            }
            position += batch.Length;
        }
        if (active.NextOffset == active.BaseOffset)
            active.FirstArrival = arrival;
        active.Length = position;
        active.NextOffset = offset;
        active.LastArrival = arrival;
        _nextOffset = offset;
        _lastArrival = arrival;
        _lastWriteTicks = ElapsedMillis;
        Publish();

        foreach (var p in group)
            p.Completion.TrySetResult(new AppendResult(p.FirstOffset, arrival));
    }

    private void Fail(List<PendingAppend> group, Exception e)
    {
        if (StorageFault.IsNotWritable(e))
        {
            // The file system went read-only (or lost write permission) since the log was opened.
            _readOnly = true;
            _readOnlyCheckedTicks = ElapsedMillis;
            foreach (var p in group)
                p.Completion.TrySetException(ReadOnlyAppendException(e));
            return;
        }
        foreach (var p in group)
            p.Completion.TrySetException(new IOException($"Append failed: {e.Message}", e));
    }

    /// <summary>Returns the segment to append to: opens its handle, or seals it and starts a new one when it is full or
    /// old, or when <paramref name="sealedRecords"/> come to a segment whose header does not admit them.</summary>
    private ActiveSegment PrepareActiveSegment(long arrival, bool sealedRecords)
    {
        if (_active is { } behind && (behind.NextOffset != _nextOffset || (sealedRecords && !behind.MayHoldSealed && behind.NextOffset == behind.BaseOffset)))
            return StartSegmentAtNextOffset(arrival, sealedRecords); // above an unused reservation, or an empty segment of the wrong kind
        if (_active is { } current)
        {
            bool full = current.Length >= _options.SegmentBytes;
            bool old = current.NextOffset > current.BaseOffset
                && arrival - current.FirstArrival >= (long)_options.SegmentMaxAge.TotalMilliseconds;
            bool admits = current.MayHoldSealed || !sealedRecords;
            if (!full && !old && admits)
            {
                current.Handle ??= OpenForAppend(current.Path);
                return current;
            }
            SealActive();
        }
        _active = CreateSegment(_nextOffset, arrival, sealedRecords);
        return _active;
    }

    private SafeFileHandle OpenForAppend(string path) =>
        Io.Open(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);

    private ActiveSegment CreateSegment(ulong baseOffset, long createdMillis, bool mayHoldSealed = false)
    {
        string path = SegmentFile.DataPath(_directory, baseOffset);
        var handle = Io.Open(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        Io.Write(handle, SegmentFile.BuildHeader(baseOffset, createdMillis, mayHoldSealed), 0);
        if (_options.Fsync != FsyncPolicy.Never)
        {
            Io.FlushToDisk(handle);
            FlushDirectory();
        }
        return new ActiveSegment(path, baseOffset, createdMillis) { Handle = handle, MayHoldSealed = mayHoldSealed };
    }

    /// <summary>Makes the active segment immutable: flushes it, writes its index beside it, closes its handle.</summary>
    private void SealActive()
    {
        var active = _active!;
        WriteIndexFile(active);
        if (active.Handle is { } handle)
        {
            if (_options.Fsync != FsyncPolicy.Never)
                Io.FlushToDisk(handle);
            handle.Dispose();
            active.Handle = null;
        }
        _sealed.Add(active.ToSealedView(_options.IndexCache));
        _active = null;
    }

    private void WriteIndexFile(ActiveSegment segment)
    {
        string indexPath = SegmentFile.IndexPath(segment.Path);
        string temp = indexPath + ".tmp";
        int length = segment.Index.SerializedLength;
        byte[] bytes = BufferPool.Bytes.Rent(length); // a full segment's index is near 100 KB: pooled, not a large object per seal
        try
        {
            segment.Index.Serialize(bytes, segment.BaseOffset, segment.NextOffset, segment.LastArrival, segment.Length);
            using var handle = Io.Open(temp, FileMode.Create, FileAccess.Write, FileShare.Read);
            Io.Write(handle, bytes.AsSpan(0, length), 0);
            if (_options.Fsync != FsyncPolicy.Never)
                Io.FlushToDisk(handle);
        }
        finally
        {
            BufferPool.Bytes.Return(bytes);
        }
        Io.Move(temp, indexPath);
    }

    /// <summary>Makes a new file's directory entry durable; a failure fails the write that needed it.</summary>
    private void FlushDirectory() => Io.FlushDirectory(_directory);

    private void Publish()
    {
        var segments = new SegmentView[_sealed.Count + (_active is null ? 0 : 1)];
        _sealed.CopyTo(segments);
        if (_active is not null)
            segments[^1] = _active.ToView();
        _view = new LogView(segments, _nextOffset);
        LastArrivalMillis = _lastArrival;
    }

    public void Flush()
    {
        _writer.Wait();
        try
        {
            FlushLocked();
        }
        finally
        {
            _writer.Release();
        }
        DrainWhileIdle();
    }

    private void FlushLocked()
    {
        if (_dirty && _active?.Handle is { } handle)
            Io.FlushToDisk(handle);
        _dirty = false;
    }

    /// <summary>Flushes under the interval policy and closes the file handle of a shard that has been idle,
    /// so that thousands of quiet shards do not hold thousands of open files. Skips a busy shard.</summary>
    public void Maintain()
    {
        if (!_writer.Wait(0))
            return;
        try
        {
            if (_disposed)
                return;
            if (_options.Fsync == FsyncPolicy.Interval)
                FlushLocked();
            if (_active?.Handle is { } handle
                && ElapsedMillis - _lastWriteTicks >= (long)_options.IdleHandleTimeout.TotalMilliseconds)
            {
                handle.Dispose();
                _active.Handle = null;
            }
        }
        finally
        {
            _writer.Release();
        }
        DrainWhileIdle();
    }

    public void EnforceRetention(long cutoffMillis)
    {
        _writer.Wait();
        try
        {
            EnforceRetentionLocked(cutoffMillis);
        }
        finally
        {
            _writer.Release();
        }
        // Appends queued while retention held the writer found it busy and left their records to the
        // holder, as they do with any other holder: write them now, or they wait for the next append.
        DrainWhileIdle();
    }

    private void EnforceRetentionLocked(long cutoffMillis)
    {
        if (_disposed || _readOnly)
            return;
        // The active segment is sealed first when everything in it has expired, so that its space comes
        // back too; an empty segment always remains to carry the next offset across restarts.
        if (_active is { } active && active.NextOffset > active.BaseOffset && active.LastArrival < cutoffMillis)
        {
            SealActive();
            _active = CreateSegment(_nextOffset, Math.Max(NowMillis, _lastArrival));
        }
        int expired = 0;
        while (expired < _sealed.Count && (_sealed[expired].IsEmpty || _sealed[expired].LastArrivalMillis < cutoffMillis))
            expired++;
        if (expired == 0)
            return;
        var doomed = _sealed.GetRange(0, expired);
        _sealed.RemoveRange(0, expired);
        Publish();
        foreach (var segment in doomed)
        {
            _options.IndexCache.Remove(segment.Path);
            TryDelete(SegmentFile.IndexPath(segment.Path));
            TryDelete(segment.Path);
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            Io.Delete(path);
        }
        catch (IOException e)
        {
            _warn($"Could not delete {path}: {e.Message}. It will be retried at the next retention pass.");
        }
    }

    public void Dispose()
    {
        _writer.Wait();
        try
        {
            if (_disposed)
                return;
            _disposed = true;
            if (_readOnly)
            {
                // Nothing can be written: no index, no lowered mark (the next open finds the files as they are).
                _active?.Handle?.Dispose();
                _active?.Handle = null;
                return;
            }
            if (_active is { } active)
            {
                // A clean close leaves an index for the active segment too, so the next open scans only what
                // was appended after it.
                FlushLocked();
                if (active.Handle is not null || active.NextOffset > active.BaseOffset)
                    WriteIndexFile(active);
                active.Handle?.Dispose();
                active.Handle = null;
            }
            LowerHighWaterMark();
        }
        finally
        {
            _writer.Release();
        }
        while (_pending.TryDequeue(out var p))
            p.Completion.TrySetException(new ObjectDisposedException(nameof(ShardLog)));
    }

    private sealed class PendingAppend(RecordBatch batch)
    {
        public RecordBatch Batch { get; } = batch;
        public ulong FirstOffset { get; set; }
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The segment being appended to. Owned by the writer.</summary>
    private sealed class ActiveSegment(string path, ulong baseOffset, long createdMillis)
    {
        public string Path { get; } = path;
        public ulong BaseOffset { get; } = baseOffset;
        public long CreatedMillis { get; } = createdMillis;
        public SafeFileHandle? Handle { get; set; }
        public long Length { get; set; } = SegmentFile.HeaderSize;
        public ulong NextOffset { get; set; } = baseOffset;
        public long FirstArrival { get; set; }
        public long LastArrival { get; set; }
        public long LastIndexedPosition { get; set; }
        public SegmentIndex Index { get; init; } = new();

        /// <summary>Its header admits sealed records (<see cref="SegmentFile.FlagMayHoldSealed"/>).</summary>
        public bool MayHoldSealed { get; init; }

        /// <summary>An index entry for the frame at <paramref name="position"/> when it is the first, or
        /// <paramref name="interval"/> bytes or more past the last entry (appends and recovery alike).</summary>
        public void IndexIfDue(ulong offset, long position, long arrival, int interval)
        {
            if (Index.Count != 0 && position - LastIndexedPosition < interval)
                return;
            Index.Add(new IndexEntry(offset, position, arrival));
            LastIndexedPosition = position;
        }

        /// <summary>False when the segment's index file is missing or stale (recovery on a read-only disk could not write it).</summary>
        public bool IndexOnDisk { get; set; } = true;

        public SegmentView ToView() => new(Path, BaseOffset, NextOffset, Length, FirstArrival, LastArrival, Index.Published);

        /// <summary>The view of this segment once sealed: its index leaves memory for the bounded cache, when its file has it.</summary>
        public SegmentView ToSealedView(SealedIndexCache cache)
        {
            if (!IndexOnDisk)
                return ToView();
            cache.Put(Path, Length, Index.Published);
            return new(Path, BaseOffset, NextOffset, Length, FirstArrival, LastArrival, IndexSnapshot.Empty) { IndexOnDisk = true };
        }
    }
}
