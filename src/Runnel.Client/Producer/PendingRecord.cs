using Runnel.Client.Aggregation;

namespace Runnel.Client.Producer;

/// <summary>
/// A user record accepted by the producer and not yet durable or failed: the record, when it was accepted (a
/// timestamp of the producer's clock, for the linger, the TTL and the latency), the puts it had, and who waits for it
/// (a <see cref="PutResult"/> task, or nobody for a fire-and-forget record). Owned by the producer's pipeline.
/// </summary>
internal sealed class PendingRecord(UserRecord record, long acceptedAt, long bufferedBytes, TaskCompletionSource<PutResult>? completion)
{
    public UserRecord Record { get; } = record;

    public long AcceptedAt { get; } = acceptedAt;

    /// <summary>What the record holds of the buffer (data and partition key).</summary>
    public long BufferedBytes { get; } = bufferedBytes;

    /// <summary>The caller of <see cref="KinesisProducer.PutAsync"/>; null for a fire-and-forget record.</summary>
    public TaskCompletionSource<PutResult>? Completion { get; } = completion;

    public int Attempts { get; set; }
}

/// <summary>
/// A Kinesis record the producer puts: a KPL aggregate or a lone record, the pending user records it carries in order
/// (their sub-sequence numbers), and the lane (predicted shard) it waits in. Owned by the producer's pipeline.
/// </summary>
internal sealed class ProducerEntry(string lane, PutRecordsEntry entry, PendingRecord[] records)
{
    private HashSet<string>? _keys;

    /// <summary>The shard it was aggregated for; <see cref="ShardLane.Unpredicted"/> for a record no shard of the map held.</summary>
    public string Lane { get; } = lane;

    public PutRecordsEntry Entry { get; } = entry;

    public PendingRecord[] Records { get; } = records;

    public int Attempts { get; set; }

    /// <summary>When the oldest of its records was accepted: its TTL runs from there.</summary>
    public long OldestAcceptedAt => Records.Min(r => r.AcceptedAt);

    /// <summary>The partition keys of its records: two entries sharing one are never in flight together (order per key).</summary>
    public HashSet<string> PartitionKeys => _keys ??= new HashSet<string>(Records.Select(r => r.Record.PartitionKey), StringComparer.Ordinal);
}
