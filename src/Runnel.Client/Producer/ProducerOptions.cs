using Runnel.Client.Aggregation;

namespace Runnel.Client.Producer;

/// <summary>
/// Settings of a <see cref="KinesisProducer"/>. Every setting but <see cref="StreamName"/> has a default; the defaults
/// follow the KPL's where it has one (linger 100 ms, record TTL 30 s, 24 concurrent requests) and AWS's per-shard
/// write limits (1 MiB/s and 1,000 records/s). Immutable once given to a producer.
/// </summary>
public sealed record ProducerOptions
{
    /// <summary>The stream every record of the producer goes to (one producer per stream).</summary>
    public required string StreamName { get; init; }

    /// <summary>Whether user records bound for one shard are packed into KPL aggregates (default true); false sends each as its own Kinesis record.</summary>
    public bool AggregationEnabled { get; init; } = true;

    /// <summary>
    /// The most an aggregate may count (data and partition key). Default the Kinesis record limit, 1 MiB: a shard has
    /// one request in flight at a time, so a large aggregate carries a shard's whole second of budget in one go (the
    /// KPL's default is 50 KiB).
    /// </summary>
    public int AggregationMaxBytes { get; init; } = RecordAggregator.DefaultMaxRecordBytes;

    /// <summary>How long a record may wait for others to join its aggregate (the KPL's <c>RecordMaxBufferedTime</c>). Default 100 ms.</summary>
    public TimeSpan RecordMaxBufferedTime { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The most bytes (data and partition keys) of records accepted and not yet durable or failed; more wait (backpressure). Default 64 MiB.</summary>
    public long MaxBufferedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>The most records accepted and not yet durable or failed; more wait (backpressure). Default 100,000.</summary>
    public int MaxBufferedRecords { get; init; } = 100_000;

    /// <summary>Whether the producer keeps each shard within <see cref="ShardMaxBytesPerSecond"/> and <see cref="ShardMaxRecordsPerSecond"/> itself (default true).</summary>
    public bool RateLimitEnabled { get; init; } = true;

    /// <summary>The bytes (data and partition keys) per second the producer sends to one shard. Default 1 MiB, AWS's limit.</summary>
    public long ShardMaxBytesPerSecond { get; init; } = 1024 * 1024;

    /// <summary>The Kinesis records (aggregates count once) per second the producer sends to one shard. Default 1,000, AWS's limit.</summary>
    public int ShardMaxRecordsPerSecond { get; init; } = 1000;

    /// <summary>The most PutRecords calls in flight at once. Default 24, as the KPL's <c>MaxConnections</c>.</summary>
    public int MaxConcurrentRequests { get; init; } = 24;

    /// <summary>How long after it was accepted a record that is still not durable fails (the KPL's <c>RecordTtl</c>). Default 30 s.</summary>
    public TimeSpan RecordTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the shard map is read again from ListShards (it is also read again when a record lands on another shard than predicted). Default 60 s.</summary>
    public TimeSpan ShardMapRefreshInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The backoff of a shard after its first failed put; it doubles with each failure in a row. Default 100 ms.</summary>
    public TimeSpan MinRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest backoff of a shard. Default 5 s.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of lingers, rate limits, backoffs and TTLs. Default the system's.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(StreamName);
        ArgumentOutOfRangeException.ThrowIfLessThan(AggregationMaxBytes, KplFormat.Overhead + 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(AggregationMaxBytes, RecordAggregator.DefaultMaxRecordBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(RecordMaxBufferedTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedRecords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ShardMaxBytesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ShardMaxRecordsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentRequests, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RecordTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ShardMapRefreshInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinRetryDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, MinRetryDelay);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
