namespace Runnel.Core.Throughput;

/// <summary>
/// The throughput state of one shard: its token buckets and its counters (records and bytes in and out,
/// throttled requests). The counters feed the on-demand scaler and, later, metrics. Thread-safe.
/// </summary>
public sealed class ShardThroughput
{
    private readonly ThroughputLimits _limits;
    private readonly TokenBucket _writeBytes;
    private readonly TokenBucket _writeRecords;
    private readonly TokenBucket _readBytes;
    private readonly TokenBucket _reads;
    private readonly TokenBucket _iterators;
    private long _recordsIn, _bytesIn, _recordsOut, _bytesOut, _writeThrottles, _readThrottles, _attemptedBytesIn, _attemptedRecordsIn;

    public ShardThroughput(ThroughputLimits limits, double nowMillis)
    {
        _limits = limits;
        // Buckets hold one second of traffic: a shard may burst to its per-second limit, no further.
        _writeBytes = new TokenBucket(limits.WriteBytesPerSecond, limits.WriteBytesPerSecond, nowMillis);
        _writeRecords = new TokenBucket(limits.WriteRecordsPerSecond, limits.WriteRecordsPerSecond, nowMillis);
        // Read bytes are charged after the read and must be repaid before the next: a 10 MiB answer at
        // 2 MiB/s makes the reads of the next 5 seconds fail, as AWS documents.
        _readBytes = new TokenBucket(limits.ReadBytesPerSecond, 0, nowMillis);
        _reads = new TokenBucket(limits.ReadsPerSecond, limits.ReadsPerSecond, nowMillis);
        _iterators = new TokenBucket(limits.IteratorsPerSecond, limits.IteratorsPerSecond, nowMillis);
    }

    public ThroughputLimits Limits => _limits;

    /// <summary>Admits one record of <paramref name="bytes"/> (data plus partition key), or refuses it.</summary>
    public bool TryWrite(long bytes, double nowMillis)
    {
        Interlocked.Increment(ref _attemptedRecordsIn);
        Interlocked.Add(ref _attemptedBytesIn, bytes);
        if (_limits.Enabled && !TokenBucket.TryTakeBoth(_writeRecords, 1, _writeBytes, bytes, nowMillis))
        {
            Interlocked.Increment(ref _writeThrottles);
            return false;
        }
        Interlocked.Increment(ref _recordsIn);
        Interlocked.Add(ref _bytesIn, bytes);
        return true;
    }

    /// <summary>
    /// How busy the shard's writes are, for the AUTO record distribution strategy's choice of the least loaded
    /// shard: with limits on, the used share of the fuller write bucket (0 idle, 1 full); with limits off, the
    /// bytes it has taken so far. Comparable between shards of one server.
    /// </summary>
    public double WriteLoad(double nowMillis) =>
        _limits.Enabled
            ? 1 - Math.Min(_writeBytes.Available(nowMillis) / _writeBytes.Capacity, _writeRecords.Available(nowMillis) / _writeRecords.Capacity)
            : Interlocked.Read(ref _attemptedBytesIn);

    /// <summary>Admits a GetRecords call: refused past the call rate, or while an earlier large read is being repaid.</summary>
    public bool TryRead(double nowMillis)
    {
        if (!_limits.Enabled)
            return true;
        if (_readBytes.HasCredit(nowMillis) && _reads.TryTake(1, nowMillis))
            return true;
        Interlocked.Increment(ref _readThrottles);
        return false;
    }

    /// <summary>Records what a GetRecords call returned; its bytes are charged to the read budget.</summary>
    public void Delivered(long records, long bytes, double nowMillis)
    {
        Interlocked.Add(ref _recordsOut, records);
        Interlocked.Add(ref _bytesOut, bytes);
        if (_limits.Enabled)
            _readBytes.Charge(bytes, nowMillis);
    }

    /// <summary>Counts records pushed to a SubscribeToShard consumer (their budget is the consumer's own, not the shard's readers').</summary>
    public void Pushed(long records, long bytes)
    {
        Interlocked.Add(ref _recordsOut, records);
        Interlocked.Add(ref _bytesOut, bytes);
    }

    public bool TryGetIterator(double nowMillis) => !_limits.Enabled || _iterators.TryTake(1, nowMillis);

    public ThroughputCounters Counters => new(
        Interlocked.Read(ref _recordsIn), Interlocked.Read(ref _bytesIn),
        Interlocked.Read(ref _attemptedRecordsIn), Interlocked.Read(ref _attemptedBytesIn),
        Interlocked.Read(ref _recordsOut), Interlocked.Read(ref _bytesOut),
        Interlocked.Read(ref _writeThrottles), Interlocked.Read(ref _readThrottles));
}

/// <summary>Cumulative counts of one shard since the server started. Attempted counts include throttled records.</summary>
public readonly record struct ThroughputCounters(
    long RecordsIn, long BytesIn, long AttemptedRecordsIn, long AttemptedBytesIn,
    long RecordsOut, long BytesOut, long WriteThrottles, long ReadThrottles);
