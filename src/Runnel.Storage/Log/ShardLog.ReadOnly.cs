namespace Runnel.Storage.Log;

public sealed partial class ShardLog
{
    /// <summary>How often appends to a read-only log check whether the file system can be written again.</summary>
    private const long ReadOnlyRecheckMillis = 5000;

    // Owned by whoever holds _writer (and by Open before the log is shared).
    private bool _readOnly;
    private long _readOnlyCheckedTicks;

    /// <summary>
    /// True when the log could not be opened for writing (the data directory's file system is read-only, or
    /// its files are not writable by this process). Such a log reads what is intact on disk and changes
    /// nothing there; appends fail with an <see cref="IOException"/> saying so, and once the file system
    /// can be written again an append recovers the log for writing.
    /// </summary>
    public bool IsReadOnly => _readOnly;

    private void Recover()
    {
        try
        {
            RecoverFiles(readOnly: false);
        }
        catch (Exception e) when (StorageFault.IsNotWritable(e))
        {
            // Recovery needs to write only to repair or to reserve; nothing it did before failing is
            // needed by the read-only view, which is rebuilt from the files as they are.
            RecoverReadOnly(e);
        }
    }

    private void RecoverReadOnly(Exception cause)
    {
        ResetState();
        RecoverFiles(readOnly: true);
        _readOnly = true;
        _readOnlyCheckedTicks = ElapsedMillis;
        _warn($"{_directory} cannot be written ({cause.Message}): the shard is open read-only. Its records can be read; appends fail until the data directory is writable again (remount its file system read-write or fix its permissions; appends then resume by themselves, or restart Runnel).");
    }

    private void ResetState()
    {
        _active?.Handle?.Dispose();
        _active = null;
        _sealed.Clear();
        _nextOffset = 0;
        _lastArrival = 0;
        _hwm = null;
    }

    /// <summary>
    /// Called by the writer before an append to a read-only log: at most every
    /// <see cref="ReadOnlyRecheckMillis"/>, checks whether the files can be written now and, if so,
    /// recovers the log again, for writing (the read-only recovery repaired nothing on disk).
    /// </summary>
    private bool TryLeaveReadOnly()
    {
        long now = ElapsedMillis;
        if (now - _readOnlyCheckedTicks < ReadOnlyRecheckMillis)
            return false;
        _readOnlyCheckedTicks = now;
        try
        {
            // A cheap probe first, so that a read-only log is not rescanned at every check.
            string? newest = _active?.Path ?? (_sealed.Count > 0 ? _sealed[^1].Path : null);
            if (newest is null)
                System.IO.Directory.CreateDirectory(_directory);
            else
                File.OpenHandle(newest, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        ResetState();
        _readOnly = false;
        try
        {
            Recover();
        }
        catch (Exception e)
        {
            // Whatever went wrong, the log stays read-only (its published view is untouched until a
            // recovery completes) rather than half recovered.
            _warn($"Recovering {_directory} for writing failed ({e.Message}); it stays read-only.");
            try
            {
                RecoverReadOnly(e);
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                _readOnly = true;
            }
        }
        if (_readOnly)
            return false;
        _warn($"{_directory} can be written again: appends resume.");
        return true;
    }

    private ReadOnlyStorageException ReadOnlyAppendException(Exception? cause) => new(
        $"Cannot append to the shard log in {_directory}: the data directory is read-only (its file system is mounted read-only or its files are not writable by Runnel). "
        + "Records already stored can still be read. Make the data directory writable again (remount it read-write, free or repair the disk, fix permissions); appends then resume.",
        cause);

    /// <summary>
    /// At a clean close, brings the high-water mark down to the next offset, so that a clean restart
    /// continues without a gap in offsets. Best effort: a mark left high only leaves a gap.
    /// </summary>
    private void LowerHighWaterMark()
    {
        if (_hwm is not { } mark || mark.Value <= _nextOffset)
            return;
        try
        {
            mark.Set(_nextOffset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn($"Could not lower the offset high-water mark of {_directory} to {_nextOffset} ({e.Message}); the next open skips the offsets up to {mark.Value}.");
        }
    }
}
