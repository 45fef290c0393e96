namespace Runnel.Core.Throughput;

/// <summary>
/// A token bucket: <see cref="Rate"/> tokens a second flow in, up to <see cref="Capacity"/>. Thread-safe
/// (a lock per bucket; the buckets of different shards never contend). Time is passed in by the caller,
/// in Unix milliseconds with a fraction (calls a fraction of a millisecond apart must refill too), so tests
/// control it.
/// </summary>
public sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private double _tokens;
    private double _lastMillis;

    public TokenBucket(double rate, double capacity, double nowMillis)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        Rate = rate;
        Capacity = capacity;
        _tokens = capacity;
        _lastMillis = nowMillis;
    }

    public double Rate { get; }

    public double Capacity { get; }

    public double Available(double nowMillis)
    {
        lock (_lock)
        {
            Refill(nowMillis);
            return _tokens;
        }
    }

    /// <summary>Takes <paramref name="amount"/> tokens if that many are there; otherwise takes none.</summary>
    public bool TryTake(double amount, double nowMillis)
    {
        lock (_lock)
        {
            Refill(nowMillis);
            if (_tokens < amount)
                return false;
            _tokens -= amount;
            return true;
        }
    }

    /// <summary>True when the bucket is not in debt (see <see cref="Charge"/>).</summary>
    public bool HasCredit(double nowMillis)
    {
        lock (_lock)
        {
            Refill(nowMillis);
            return _tokens >= -0.001; // tolerate rounding in the refill arithmetic
        }
    }

    /// <summary>
    /// Takes <paramref name="amount"/> tokens even if the bucket goes into debt: used where the cost is
    /// known only after the work (the bytes a GetRecords returned), so that a large read holds back the
    /// reads after it until the debt is repaid.
    /// </summary>
    public void Charge(double amount, double nowMillis)
    {
        lock (_lock)
        {
            Refill(nowMillis);
            _tokens -= amount;
        }
    }

    /// <summary>
    /// Takes from two buckets at once, or from neither (a record costs a record and its bytes). An amount
    /// larger than a bucket can ever hold (a 10 MiB record against 1 MiB/s) is taken from a full bucket,
    /// leaving it in debt, so such records pass at the bucket's rate instead of never.
    /// </summary>
    public static bool TryTakeBoth(TokenBucket first, double firstAmount, TokenBucket second, double secondAmount, double nowMillis)
    {
        lock (first._lock)
            lock (second._lock)
            {
                first.Refill(nowMillis);
                second.Refill(nowMillis);
                if (first._tokens < Math.Min(firstAmount, first.Capacity) || second._tokens < Math.Min(secondAmount, second.Capacity))
                    return false;
                first._tokens -= firstAmount;
                second._tokens -= secondAmount;
                return true;
            }
    }

    private void Refill(double nowMillis)
    {
        if (nowMillis <= _lastMillis)
            return;
        _tokens = Math.Min(Capacity, _tokens + (nowMillis - _lastMillis) * Rate / 1000.0);
        _lastMillis = nowMillis;
    }
}
