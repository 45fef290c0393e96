namespace Runnel.Client.Producer;

/// <summary>
/// A shard's write budget as two token buckets, bytes and records, each holding at most one second's worth and
/// refilled continuously at its rate from the clock it is given: the producer asks <see cref="WaitFor"/> before it
/// sends an entry and <see cref="Take"/>s what it sent. An entry larger than a full bucket goes when the bucket is full
/// and leaves it in debt, so no entry waits forever. Not thread-safe (the producer's pipeline owns it).
/// </summary>
internal sealed class ShardRateLimiter
{
    private readonly TimeProvider _clock;
    private readonly double _bytesPerSecond;
    private readonly double _recordsPerSecond;
    private double _bytes; // tokens now; may be negative (debt)
    private double _records;
    private long _refilledAt;

    public ShardRateLimiter(long bytesPerSecond, int recordsPerSecond, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(recordsPerSecond, 1);
        _clock = clock;
        _bytesPerSecond = bytesPerSecond;
        _recordsPerSecond = recordsPerSecond;
        _bytes = bytesPerSecond;
        _records = recordsPerSecond;
        _refilledAt = clock.GetTimestamp();
    }

    /// <summary>How long until <paramref name="bytes"/> and <paramref name="records"/> may be sent; zero when they may now.</summary>
    public TimeSpan WaitFor(long bytes, int records)
    {
        Refill();
        double bytesWait = Shortfall(_bytes, Math.Min(bytes, _bytesPerSecond)) / _bytesPerSecond;
        double recordsWait = Shortfall(_records, Math.Min(records, _recordsPerSecond)) / _recordsPerSecond;
        double seconds = Math.Max(bytesWait, recordsWait);
        return seconds <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling(seconds * TimeSpan.TicksPerSecond)));
    }

    /// <summary>Spends <paramref name="bytes"/> and <paramref name="records"/> (after <see cref="WaitFor"/> said zero).</summary>
    public void Take(long bytes, int records)
    {
        Refill();
        _bytes -= bytes;
        _records -= records;
    }

    private static double Shortfall(double tokens, double needed) => Math.Max(0, needed - tokens);

    private void Refill()
    {
        long now = _clock.GetTimestamp();
        double seconds = (now - _refilledAt) / (double)_clock.TimestampFrequency;
        _refilledAt = now;
        if (seconds <= 0)
            return;
        _bytes = Math.Min(_bytesPerSecond, _bytes + seconds * _bytesPerSecond);
        _records = Math.Min(_recordsPerSecond, _records + seconds * _recordsPerSecond);
    }
}
