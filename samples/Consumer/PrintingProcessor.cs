using System.Text;
using Runnel.Client.Processing;

/// <summary>Prints each record and checkpoints after each batch; at a shard's end, checkpoints so its children start.</summary>
internal sealed class PrintingProcessor(PrintingProcessorFactory factory, string shardId) : IRecordProcessor
{
    public Task InitializeAsync(InitializationInput input, CancellationToken cancellationToken)
    {
        Console.WriteLine($"{shardId}: from {input.Checkpoint}");
        return Task.CompletedTask;
    }

    public async Task ProcessRecordsAsync(ProcessRecordsInput input, CancellationToken cancellationToken)
    {
        foreach (var record in input.Records)
            Console.WriteLine($"{shardId} {record.SequenceNumber} [{record.PartitionKey}]: {Encoding.UTF8.GetString(record.Data.Span)}");
        // A checkpoint says "everything given so far is done": after a restart or a failover, reading resumes after it.
        await input.Checkpointer.CheckpointAsync(cancellationToken);
        factory.Done(input.Records.Count);
    }

    public Task ShardEndedAsync(ShardEndedInput input, CancellationToken cancellationToken) =>
        input.Checkpointer.CheckpointAsync(cancellationToken);

    public Task LeaseLostAsync(LeaseLostInput input, CancellationToken cancellationToken)
    {
        Console.WriteLine($"{shardId}: lease lost to another worker");
        return Task.CompletedTask;
    }

    public Task ShutdownRequestedAsync(ShutdownRequestedInput input, CancellationToken cancellationToken) =>
        input.Checkpointer.CheckpointAsync(cancellationToken);
}

/// <summary>Makes a <see cref="PrintingProcessor"/> per shard and stops the worker once the expected records are done.</summary>
internal sealed class PrintingProcessorFactory(int? expect, CancellationTokenSource stop) : IRecordProcessorFactory
{
    private int _processed;

    public int Processed => Volatile.Read(ref _processed);

    public IRecordProcessor Create(string shardId) => new PrintingProcessor(this, shardId);

    public void Done(int records)
    {
        if (Interlocked.Add(ref _processed, records) >= expect)
            stop.Cancel();
    }
}
