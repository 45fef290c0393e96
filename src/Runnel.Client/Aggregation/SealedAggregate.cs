using System.Buffers;

namespace Runnel.Client.Aggregation;

/// <summary>
/// An aggregate taken out of a <see cref="RecordAggregator"/> (<see cref="RecordAggregator.Seal"/>) to be encoded
/// later, on another thread: the producer's loop gathers records while the aggregate's protobuf, its MD5 and the
/// request's base64 are made by the task that sends it. <see cref="Encode"/> is called once; it writes the aggregate
/// into an array rented from the shared pool and gives its builder back to be reused.
/// </summary>
internal sealed class SealedAggregate
{
    private AggregatedRecordBuilder? _builder;
    private readonly Action<AggregatedRecordBuilder> _recycle;

    public SealedAggregate(AggregatedRecordBuilder builder, long requestBytes, Action<AggregatedRecordBuilder> recycle)
    {
        _builder = builder;
        _recycle = recycle;
        RequestBytes = requestBytes;
        PartitionKeys = builder.DistinctPartitionKeys();
    }

    /// <summary>What the entry will count against Kinesis's limits (data and partition key), known before encoding.</summary>
    public long RequestBytes { get; }

    /// <summary>The distinct partition keys of its records.</summary>
    public string[] PartitionKeys { get; }

    /// <summary>
    /// The entry to put (as <see cref="RecordAggregator.ToEntry"/> makes it), its data in <paramref name="rented"/>,
    /// an array of the shared pool for the caller to return once nothing sends the entry again.
    /// </summary>
    /// <exception cref="InvalidOperationException">Encoded already.</exception>
    public PutRecordsEntry Encode(out byte[] rented)
    {
        var builder = Interlocked.Exchange(ref _builder, null) ?? throw new InvalidOperationException("The aggregate was encoded already.");
        var first = builder[0];
        rented = ArrayPool<byte>.Shared.Rent(KplFormat.EncodedLength(builder));
        int length = KplFormat.EncodeBuilt(builder, rented);
        var entry = new PutRecordsEntry(first.PartitionKey, HashKeys.Format(first.EffectiveHashKey()), rented.AsMemory(0, length));
        builder.Clear();
        _recycle(builder);
        return entry;
    }
}
