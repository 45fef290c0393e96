using Runnel.Client.Aggregation;

namespace Runnel.Client.Producer;

/// <summary>
/// A user record accepted by the producer and not yet durable or failed: its keys and its data (the producer's copy,
/// in a <see cref="DataSlabs"/> slab),
/// when it was accepted (a timestamp of the producer's clock, for the linger, the TTL and the latency), the puts it
/// had, and who waits for it (a <see cref="PutResult"/> task, or nobody for a fire-and-forget record). One object per
/// record, with no <see cref="UserRecord"/> beside it: a full buffer holds 100,000 of them, and every collection
/// walks them. Owned by the producer's pipeline.
/// </summary>
internal sealed class PendingRecord(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, DataSlabs.Slab? slab, long acceptedAt, long bufferedBytes, TaskCompletionSource<PutResult>? completion)
{
    private DataSlabs.Slab? _slab = slab;

    public string PartitionKey { get; } = partitionKey;

    public string? ExplicitHashKey { get; } = explicitHashKey;

    /// <summary>The producer's copy of the data, in a shared slab: not to be read after <see cref="ReleaseData"/>.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    public long AcceptedAt { get; } = acceptedAt;

    /// <summary>What the record holds of the buffer (data and partition key).</summary>
    public long BufferedBytes { get; } = bufferedBytes;

    /// <summary>The partition key's UTF-8 length.</summary>
    public int KeyBytes => (int)(BufferedBytes - Data.Length);

    /// <summary>The caller of <see cref="KinesisProducer.PutAsync"/>; null for a fire-and-forget record.</summary>
    public TaskCompletionSource<PutResult>? Completion { get; } = completion;

    public int Attempts { get; set; }

    /// <summary>The record as the application gave it, its data copied out of the slab (for a failure's report).</summary>
    public UserRecord ToUserRecord() => new(PartitionKey, ExplicitHashKey, Data.ToArray());

    /// <summary>Lets the slab holding the data go: the record is stored or failed, and nothing reads its data again. Once only.</summary>
    public void ReleaseData() => TakeSlab()?.Release();

    /// <summary>The slab holding the data, for the caller to release (once, maybe together with other records'); null after.</summary>
    public DataSlabs.Slab? TakeSlab()
    {
        var slab = _slab;
        _slab = null;
        return slab;
    }
}

/// <summary>
/// A Kinesis record the producer puts: a KPL aggregate or a lone record, the pending user records it carries in order
/// (their sub-sequence numbers), and the lane (predicted shard) it waits in. An aggregate is encoded by the task that
/// first sends it (<see cref="Encoded"/>), into an array rented from the shared pool that <see cref="Release"/> gives
/// back once the entry is stored or failed for good. Owned by the producer's pipeline, but for <see cref="Encoded"/>.
/// </summary>
internal sealed class ProducerEntry
{
    private readonly SealedAggregate? _aggregate;
    private PutRecordsEntry? _entry;
    private string[]? _keys;
    private byte[]? _rented;

    /// <summary>A record sent as it is.</summary>
    public ProducerEntry(string lane, PutRecordsEntry entry, PendingRecord record)
        : this(lane, entry, [record])
    {
    }

    /// <summary>An entry made already, carrying <paramref name="records"/>.</summary>
    public ProducerEntry(string lane, PutRecordsEntry entry, PendingRecord[] records)
    {
        Lane = lane;
        _entry = entry;
        Records = records;
        RequestBytes = entry.RequestBytes;
    }

    /// <summary>An aggregate of <paramref name="records"/>, encoded when first sent.</summary>
    public ProducerEntry(string lane, SealedAggregate aggregate, PendingRecord[] records)
    {
        Lane = lane;
        _aggregate = aggregate;
        _keys = aggregate.PartitionKeys;
        Records = records;
        RequestBytes = aggregate.RequestBytes;
    }

    /// <summary>The shard it was aggregated for; <see cref="ShardLane.Unpredicted"/> for a record no shard of the map held.</summary>
    public string Lane { get; }

    public PendingRecord[] Records { get; }

    /// <summary>What the entry counts against Kinesis's limits (data and partition key).</summary>
    public long RequestBytes { get; }

    public int Attempts { get; set; }

    /// <summary>When the oldest of its records was accepted: its TTL runs from there.</summary>
    public long OldestAcceptedAt => Records.Min(r => r.AcceptedAt);

    /// <summary>The distinct partition keys of its records: two entries sharing one are never in flight together (order per key).</summary>
    public string[] PartitionKeys => _keys ??= Records.Select(r => r.PartitionKey).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// What is sent, encoded at the first call (by the sending task, off the pipeline's loop; an entry is in one
    /// request at a time, so never by two threads at once); not to be read after <see cref="Release"/>.
    /// </summary>
    public PutRecordsEntry Encoded()
    {
        if (_entry is null)
        {
            _entry = _aggregate!.Encode(out byte[] rented);
            _rented = rented;
        }
        return _entry;
    }

    /// <summary>Gives the aggregate's rented array back to the pool, once nothing will send the entry again.</summary>
    public void Release()
    {
        if (_rented is { } rented)
        {
            _rented = null;
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
