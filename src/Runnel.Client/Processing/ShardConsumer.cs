using Runnel.Client.Aggregation;
using Runnel.Client.Leases;
using Runnel.Client.Models;

namespace Runnel.Client.Processing;

/// <summary>
/// Reads one leased shard and drives its record processor: from the lease's checkpoint (at the checkpointed record,
/// skipping it and the user records of its aggregate up to its sub-sequence number), by GetRecords polling or by
/// SubscribeToShard, deaggregating KPL records and dropping user records outside the shard's hash-key range as the KCL
/// does; at the shard's end it makes its children's leases and has the processor checkpoint SHARD_END. Runs until the
/// shard ends, the lease is lost, or it is stopped.
/// </summary>
internal sealed class ShardConsumer(KinesisClient kinesis, LeaseTable table, HeldLease lease, IRecordProcessor processor, WorkerOptions options,
    Func<CancellationToken, Task<string>>? consumerArn)
{
    private readonly RecordCheckpointer _checkpointer = new(lease, null);
    private readonly List<Deaggregator.User> _users = []; // reused from record to record
    private readonly List<KplFormat.DecodedRecord> _decoded = [];

    public string ShardId => lease.Key;

    /// <summary>Whether the shard was processed to its end (its lease checkpointed at SHARD_END).</summary>
    public bool Finished { get; private set; }

    public async Task RunAsync(CancellationToken stopping)
    {
        var start = lease.Current.Checkpoint;
        await processor.InitializeAsync(new InitializationInput(ShardId, start), stopping).ConfigureAwait(false);
        var checkpointer = _checkpointer;
        var range = lease.Current is { StartingHashKey: { } from, EndingHashKey: { } to } ? HashRange.Parse(from, to) : (HashRange?)null;
        ExtendedSequenceNumber position = start; // the last record given, or the lease's starting sentinel
        IReadOnlyList<ChildShard>? children = null;
        try
        {
            while (children is null && !lease.IsLost && !stopping.IsCancellationRequested)
            {
                try
                {
                    children = options.Retrieval == RetrievalMode.Polling
                        ? await PollAsync(position, range, checkpointer, p => position = p, stopping).ConfigureAwait(false)
                        : await SubscribeAsync(position, range, checkpointer, p => position = p, stopping).ConfigureAwait(false);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested && e is not OperationCanceledException and not LeaseLostException)
                {
                    options.Log?.Invoke($"{options.WorkerId}: reading {ShardId} failed, trying again: {e.Message}");
                    await Task.Delay(options.RetryDelay, stopping).ConfigureAwait(false);
                }
            }
            if (children is not null && !lease.IsLost)
                await EndShardAsync(children, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LeaseLostException || (e is OperationCanceledException && stopping.IsCancellationRequested))
        {
            // lost (the processor hears it below) or stopped (a graceful shutdown asks the processor itself)
        }
        if (lease.IsLost && !Finished)
            await processor.LeaseLostAsync(new LeaseLostInput(ShardId), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Asks the processor for a last checkpoint before a graceful shutdown.</summary>
    public Task ShutdownRequestedAsync(CancellationToken cancellationToken) =>
        processor.ShutdownRequestedAsync(new ShutdownRequestedInput(ShardId, _checkpointer), cancellationToken);

    private async Task<IReadOnlyList<ChildShard>?> PollAsync(ExtendedSequenceNumber from, HashRange? range, RecordCheckpointer checkpointer,
        Action<ExtendedSequenceNumber> gave, CancellationToken stopping)
    {
        var (type, sequence) = Where(from);
        string? iterator = (await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = options.StreamName,
            ShardId = ShardId,
            ShardIteratorType = type,
            StartingSequenceNumber = sequence,
            Timestamp = type == ShardIteratorType.AtTimestamp ? options.InitialTimestamp : null,
        }, stopping).ConfigureAwait(false)).ShardIterator;
        while (!lease.IsLost)
        {
            var page = await kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator!, Limit = options.MaxRecords }, stopping).ConfigureAwait(false);
            from = await GiveAsync(page.Records, from, range, page.MillisBehindLatest ?? 0, checkpointer, stopping).ConfigureAwait(false);
            gave(from);
            if (page.NextShardIterator is null)
                return page.ChildShards;
            iterator = page.NextShardIterator;
            if (page.Records.Count == 0)
                await Task.Delay(options.IdleTimeBetweenReads, stopping).ConfigureAwait(false);
        }
        return null;
    }

    private async Task<IReadOnlyList<ChildShard>?> SubscribeAsync(ExtendedSequenceNumber from, HashRange? range, RecordCheckpointer checkpointer,
        Action<ExtendedSequenceNumber> gave, CancellationToken stopping)
    {
        string arn = await consumerArn!(stopping).ConfigureAwait(false);
        string? continuation = null;
        while (!lease.IsLost)
        {
            var (type, sequence) = continuation is null ? Where(from) : (ShardIteratorType.AfterSequenceNumber, continuation);
            await using var subscription = await kinesis.SubscribeToShardAsync(new SubscribeToShardRequest
            {
                ConsumerARN = arn,
                ShardId = ShardId,
                StartingPosition = new StartingPosition
                {
                    Type = type,
                    SequenceNumber = sequence,
                    Timestamp = type == ShardIteratorType.AtTimestamp ? options.InitialTimestamp : null,
                },
            }, stopping).ConfigureAwait(false);
            await foreach (var e in subscription.WithCancellation(stopping).ConfigureAwait(false))
            {
                from = await GiveAsync(e.Records, from, range, e.MillisBehindLatest, checkpointer, stopping).ConfigureAwait(false);
                gave(from);
                if (e.ContinuationSequenceNumber is null)
                    return e.ChildShards;
                continuation = e.ContinuationSequenceNumber;
                if (lease.IsLost)
                    return null;
            }
            // A subscription lasts five minutes: subscribe again after the last event's continuation.
        }
        return null;
    }

    /// <summary>Where reading starts for a position: a sentinel's own type, else at the record (it and the user records
    /// of its aggregate up to its sub-sequence number are skipped when given).</summary>
    private static (ShardIteratorType Type, string? Sequence) Where(ExtendedSequenceNumber position) => position.SequenceNumber switch
    {
        "TRIM_HORIZON" => (ShardIteratorType.TrimHorizon, null),
        "LATEST" => (ShardIteratorType.Latest, null),
        "AT_TIMESTAMP" => (ShardIteratorType.AtTimestamp, null),
        _ => (ShardIteratorType.AtSequenceNumber, position.SequenceNumber),
    };

    private async Task<ExtendedSequenceNumber> GiveAsync(IReadOnlyList<Record> records, ExtendedSequenceNumber after, HashRange? range, long behind,
        RecordCheckpointer checkpointer, CancellationToken stopping)
    {
        if (records.Count == 0)
            return after;
        var given = new List<ConsumerRecord>(records.Count);
        foreach (var record in records)
        {
            _users.Clear();
            Deaggregator.Deaggregate(record.Data, record.PartitionKey ?? "", _users, _decoded, range);
            // Where the record stands to the position given last: before it (nothing to give), holding it (its user
            // records after that sub-sequence number), or after it (all); compared once per Kinesis record.
            int order = after.IsSentinel ? 1 : new ExtendedSequenceNumber(record.SequenceNumber).CompareTo(new ExtendedSequenceNumber(after.SequenceNumber));
            if (order < 0)
                continue;
            foreach (var user in _users)
            {
                if (order == 0 && user.SubSequenceNumber <= after.SubSequenceNumber)
                    continue;
                given.Add(new ConsumerRecord(user.Data, user.PartitionKey, user.ExplicitHashKey, record.SequenceNumber, user.SubSequenceNumber,
                    record.ApproximateArrivalTimestamp, user.IsAggregated));
            }
        }
        if (given.Count == 0)
            return after;
        var last = given[^1].Position;
        checkpointer.Given(last);
        await processor.ProcessRecordsAsync(new ProcessRecordsInput(ShardId, given, behind, checkpointer), stopping).ConfigureAwait(false);
        return last;
    }

    /// <summary>The shard ended: its children's leases are made, then the processor checkpoints SHARD_END (asked again until it does).</summary>
    private async Task EndShardAsync(IReadOnlyList<ChildShard> children, CancellationToken stopping)
    {
        foreach (var child in children)
            await table.CreateAsync(new Lease
            {
                LeaseKey = child.ShardId,
                ParentShardIds = child.ParentShards,
                StartingHashKey = child.HashKeyRange.StartingHashKey,
                EndingHashKey = child.HashKeyRange.EndingHashKey,
                Checkpoint = ExtendedSequenceNumber.TrimHorizon,
            }, stopping).ConfigureAwait(false);
        var ids = children.Select(c => c.ShardId).ToList();
        while (!lease.IsLost && !stopping.IsCancellationRequested)
        {
            var checkpointer = new RecordCheckpointer(lease, null, atShardEnd: true, ids);
            try
            {
                await processor.ShardEndedAsync(new ShardEndedInput(ShardId, ids, checkpointer), stopping).ConfigureAwait(false);
            }
            catch (LeaseLostException)
            {
                return;
            }
            if (lease.Current.IsFinished)
            {
                Finished = true;
                options.Log?.Invoke($"{options.WorkerId}: {ShardId} processed to its end; children {string.Join(", ", ids)}");
                return;
            }
            options.Log?.Invoke($"{options.WorkerId}: the processor of {ShardId} did not checkpoint at its end; asking again");
            await Task.Delay(options.RetryDelay, stopping).ConfigureAwait(false);
        }
    }
}
