namespace Runnel.Core.Throughput;

/// <summary>
/// Per-shard throughput limits, AWS's by default: 1 MiB/s and 1,000 records/s in, 2 MiB/s and 5
/// GetRecords calls/s out, 5 GetShardIterator calls/s. A self-hosted shard can be made bigger.
/// </summary>
public sealed record ThroughputLimits
{
    /// <summary>False turns every throughput and control-plane limit off.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Bytes of data and partition keys a shard accepts per second.</summary>
    public double WriteBytesPerSecond { get; init; } = 1024 * 1024;

    /// <summary>Records a shard accepts per second.</summary>
    public double WriteRecordsPerSecond { get; init; } = 1000;

    /// <summary>Bytes a shard's GetRecords calls may return per second, shared by all readers.</summary>
    public double ReadBytesPerSecond { get; init; } = 2 * 1024 * 1024;

    /// <summary>GetRecords calls a shard answers per second, shared by all readers.</summary>
    public double ReadsPerSecond { get; init; } = 5;

    /// <summary>GetShardIterator calls a shard answers per second.</summary>
    public double IteratorsPerSecond { get; init; } = 5;

    /// <summary>Bytes per second each registered consumer may receive from one shard by SubscribeToShard,
    /// apart from the shard's GetRecords readers (AWS: 2 MiB/s per consumer per shard).</summary>
    public double ConsumerReadBytesPerSecond { get; init; } = 2 * 1024 * 1024;

    public static readonly ThroughputLimits Off = new() { Enabled = false };
}
