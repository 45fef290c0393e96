using Runnel.Client.Leases;

namespace Runnel.Client.Processing;

/// <summary>
/// The application's code for one shard, made by the worker for each lease it takes (KCL semantics): initialized once,
/// given the shard's records in order, told when the shard ended (after which it must checkpoint, so that the shard's
/// children may be processed), or that the lease was lost (another worker has it: it may not checkpoint any more).
/// Calls for one shard never overlap.
/// </summary>
public interface IRecordProcessor
{
    /// <summary>Called once before any records, with where processing resumes.</summary>
    Task InitializeAsync(InitializationInput input, CancellationToken cancellationToken);

    /// <summary>Called with each batch of records, in the shard's order (user records of KPL aggregates one by one).</summary>
    Task ProcessRecordsAsync(ProcessRecordsInput input, CancellationToken cancellationToken);

    /// <summary>Called when every record of the (closed) shard was given; the processor must checkpoint with
    /// <see cref="ShardEndedInput.Checkpointer"/> (at SHARD_END), or it is called again.</summary>
    Task ShardEndedAsync(ShardEndedInput input, CancellationToken cancellationToken);

    /// <summary>Called when the worker lost the lease: another worker may already be processing the shard.</summary>
    Task LeaseLostAsync(LeaseLostInput input, CancellationToken cancellationToken);

    /// <summary>Called when the worker is shutting down gracefully, before it lets the lease go: a last chance to
    /// checkpoint. Does nothing unless implemented.</summary>
    Task ShutdownRequestedAsync(ShutdownRequestedInput input, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Makes the record processor of a shard.</summary>
public interface IRecordProcessorFactory
{
    /// <summary>A new processor for <paramref name="shardId"/>.</summary>
    IRecordProcessor Create(string shardId);
}

/// <summary>A user record as the processor gets it: one Kinesis record, or one user record of a KPL aggregate.</summary>
/// <param name="Data">The user record's bytes.</param>
/// <param name="PartitionKey">Its partition key.</param>
/// <param name="ExplicitHashKey">Its explicit hash key, when it was put with one (aggregated records only).</param>
/// <param name="SequenceNumber">The Kinesis record's sequence number.</param>
/// <param name="SubSequenceNumber">Its index in the aggregate (0 when not aggregated).</param>
/// <param name="ApproximateArrivalTimestamp">When the Kinesis record was stored.</param>
/// <param name="IsAggregated">Whether it came out of a KPL aggregate.</param>
public sealed record ConsumerRecord(ReadOnlyMemory<byte> Data, string PartitionKey, string? ExplicitHashKey, string SequenceNumber, long SubSequenceNumber,
    DateTimeOffset? ApproximateArrivalTimestamp, bool IsAggregated)
{
    /// <summary>The record's position as a checkpoint names it.</summary>
    public ExtendedSequenceNumber Position => new(SequenceNumber, SubSequenceNumber);
}

/// <summary>What <see cref="IRecordProcessor.InitializeAsync"/> gets.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="Checkpoint">Where processing resumes: after this position, or at a sentinel.</param>
public sealed record InitializationInput(string ShardId, ExtendedSequenceNumber Checkpoint);

/// <summary>What <see cref="IRecordProcessor.ProcessRecordsAsync"/> gets.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="Records">The records, in order.</param>
/// <param name="MillisBehindLatest">How far behind the shard's newest record the batch is.</param>
/// <param name="Checkpointer">Checkpoints this lease (by default at the batch's last record).</param>
public sealed record ProcessRecordsInput(string ShardId, IReadOnlyList<ConsumerRecord> Records, long MillisBehindLatest, RecordCheckpointer Checkpointer);

/// <summary>What <see cref="IRecordProcessor.ShardEndedAsync"/> gets.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="ChildShardIds">The shards made from it.</param>
/// <param name="Checkpointer">Checkpoints SHARD_END (call <see cref="RecordCheckpointer.CheckpointAsync(CancellationToken)"/>).</param>
public sealed record ShardEndedInput(string ShardId, IReadOnlyList<string> ChildShardIds, RecordCheckpointer Checkpointer);

/// <summary>What <see cref="IRecordProcessor.LeaseLostAsync"/> gets.</summary>
/// <param name="ShardId">The shard.</param>
public sealed record LeaseLostInput(string ShardId);

/// <summary>What <see cref="IRecordProcessor.ShutdownRequestedAsync"/> gets.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="Checkpointer">Checkpoints this lease (at the last record given).</param>
public sealed record ShutdownRequestedInput(string ShardId, RecordCheckpointer Checkpointer);
