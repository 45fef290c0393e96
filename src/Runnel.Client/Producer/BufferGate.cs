namespace Runnel.Client.Producer;

/// <summary>
/// The producer's bounded buffer: counts the records and bytes accepted and not yet durable or failed, and makes
/// callers wait, first come first served, while one more would pass <see cref="ProducerOptions.MaxBufferedRecords"/>
/// or <see cref="ProducerOptions.MaxBufferedBytes"/> (an empty buffer takes any record, so a large one never waits
/// forever). Thread-safe.
/// </summary>
internal sealed class BufferGate(int maxRecords, long maxBytes)
{
    private readonly Lock _lock = new();
    private readonly Queue<(long Bytes, TaskCompletionSource Granted)> _waiters = new();
    private int _records;
    private long _bytes;

    public int Records { get { lock (_lock) return _records; } }

    public long Bytes { get { lock (_lock) return _bytes; } }

    /// <summary>Whether callers wait for room, or the buffer is at a limit: no more records come until some leave.</summary>
    public bool Full
    {
        get
        {
            lock (_lock)
                return _waiters.Count > 0 || _records >= maxRecords || _bytes >= maxBytes;
        }
    }

    /// <summary>Takes room for a record of <paramref name="bytes"/> when there is some and nobody waits; false otherwise.</summary>
    public bool TryEnter(long bytes)
    {
        lock (_lock)
        {
            if (_waiters.Count > 0 || !Fits(bytes))
                return false;
            Take(bytes);
            return true;
        }
    }

    /// <summary>Takes room for a record of <paramref name="bytes"/>, waiting behind earlier callers until there is some.</summary>
    public ValueTask EnterAsync(long bytes, CancellationToken cancellationToken)
    {
        TaskCompletionSource granted;
        lock (_lock)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                Take(bytes);
                return ValueTask.CompletedTask;
            }
            granted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue((bytes, granted));
        }
        if (cancellationToken.CanBeCanceled)
        {
            // A cancelled waiter stays queued, completed: Exit skips it. Room is taken only by a successful grant.
            var registration = cancellationToken.Register(() => granted.TrySetCanceled(cancellationToken));
            _ = granted.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return new ValueTask(granted.Task);
    }

    /// <summary>Gives back the room of <paramref name="records"/> records of <paramref name="bytes"/> in all and lets waiters in, in order, while they fit.</summary>
    public void Exit(int records, long bytes)
    {
        lock (_lock)
        {
            _records -= records;
            _bytes -= bytes;
            while (_waiters.TryPeek(out var waiter))
            {
                if (waiter.Granted.Task.IsCompleted)
                {
                    _waiters.Dequeue();
                    continue;
                }
                if (!Fits(waiter.Bytes))
                    break;
                _waiters.Dequeue();
                if (waiter.Granted.TrySetResult())
                    Take(waiter.Bytes);
            }
        }
    }

    private bool Fits(long bytes) => _records == 0 || (_records < maxRecords && _bytes + bytes <= maxBytes);

    private void Take(long bytes)
    {
        _records++;
        _bytes += bytes;
    }
}
