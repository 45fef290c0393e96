using System.Text;
using Runnel.Client.Processing;

namespace Runnel.Client.FleetWorker;

/// <summary>
/// A record processor that journals every record it is given and then checkpoints after each batch. A checkpoint line
/// is written only after the checkpoint was stored, so the last checkpoint line of a shard is never ahead of the lease
/// table: a worker killed between the two leaves an older line, and the next holder re-gives from the table's (newer or
/// equal) checkpoint — duplicates fall only after the last journaled checkpoint.
/// </summary>
internal sealed class JournalingProcessor(FleetJournal journal, string worker, string shard) : IRecordProcessor
{
    public Task InitializeAsync(InitializationInput input, CancellationToken cancellationToken)
    {
        journal.Write(worker, "init", shard, durable: false, input.Checkpoint.ToString());
        return Task.CompletedTask;
    }

    public async Task ProcessRecordsAsync(ProcessRecordsInput input, CancellationToken cancellationToken)
    {
        if (input.Records.Count == 0)
            return;
        foreach (var record in input.Records)
            journal.Write(worker, "record", shard, durable: false, record.SequenceNumber, record.SubSequenceNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(record.Data.Span));
        await input.Checkpointer.CheckpointAsync(cancellationToken);
        var last = input.Records[^1];
        journal.Write(worker, "checkpoint", shard, durable: true, last.SequenceNumber, last.SubSequenceNumber.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task ShardEndedAsync(ShardEndedInput input, CancellationToken cancellationToken)
    {
        // Journaled before the SHARD_END checkpoint: the children's leases can be taken (by another process) as soon as
        // it is stored, so a line written after it could come later than a child's first record.
        journal.Write(worker, "end", shard, durable: true, string.Join(',', input.ChildShardIds));
        await input.Checkpointer.CheckpointAsync(cancellationToken);
        journal.Write(worker, "checkpoint", shard, durable: true, "SHARD_END", "0");
    }

    public Task LeaseLostAsync(LeaseLostInput input, CancellationToken cancellationToken)
    {
        journal.Write(worker, "lost", shard, durable: true);
        return Task.CompletedTask;
    }

    public async Task ShutdownRequestedAsync(ShutdownRequestedInput input, CancellationToken cancellationToken)
    {
        await input.Checkpointer.CheckpointAsync(cancellationToken);
        journal.Write(worker, "shutdown", shard, durable: true);
    }
}

/// <summary>Makes a <see cref="JournalingProcessor"/> per shard.</summary>
internal sealed class JournalingProcessorFactory(FleetJournal journal, string worker) : IRecordProcessorFactory
{
    public IRecordProcessor Create(string shardId) => new JournalingProcessor(journal, worker, shardId);
}
