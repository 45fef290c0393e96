using System.Collections.Concurrent;
using System.Text;
using Runnel.Client.Aggregation;
using Runnel.Client.Leases;
using Runnel.Client.Models;
using Runnel.Client.Processing;

namespace Runnel.Client.Tests.Processing;

/// <summary>
/// Consumer workers against a real server, by polling and by fan-out: two workers of one application share a stream's
/// shards by leases; records put before and during a reshard are each processed, in order per shard, parents before
/// children; KPL aggregates arrive as their user records; a worker that shuts down lets its leases go and the other
/// takes them and resumes after the last checkpoints, so nothing is lost and nothing checkpointed is given twice.
/// </summary>
public sealed class KinesisWorkerTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    /// <summary>What processors were given, as (worker, shard, record) in the order given, and which shards ended when.</summary>
    private sealed class Journal
    {
        public readonly ConcurrentQueue<(string Worker, string Shard, ConsumerRecord Record)> Given = new();
        public readonly ConcurrentQueue<(string Shard, long At)> Started = new();
        public readonly ConcurrentQueue<(string Shard, long At)> Ended = new();
        public readonly ConcurrentQueue<string> Lost = new();
        private long _clock;

        public long Tick() => Interlocked.Increment(ref _clock);
    }

    private sealed class Processor(Journal journal, string worker, string shard) : IRecordProcessor
    {
        public Task InitializeAsync(InitializationInput input, CancellationToken cancellationToken)
        {
            journal.Started.Enqueue((shard, journal.Tick()));
            return Task.CompletedTask;
        }

        public async Task ProcessRecordsAsync(ProcessRecordsInput input, CancellationToken cancellationToken)
        {
            foreach (var record in input.Records)
                journal.Given.Enqueue((worker, shard, record));
            await input.Checkpointer.CheckpointAsync(cancellationToken);
        }

        public async Task ShardEndedAsync(ShardEndedInput input, CancellationToken cancellationToken)
        {
            // The tick is taken before the SHARD_END checkpoint is stored: another worker may see it stored and start a
            // child before this call returns, and that is no fault.
            long at = journal.Tick();
            await input.Checkpointer.CheckpointAsync(cancellationToken);
            journal.Ended.Enqueue((shard, at));
        }

        public Task LeaseLostAsync(LeaseLostInput input, CancellationToken cancellationToken)
        {
            journal.Lost.Enqueue(shard);
            return Task.CompletedTask;
        }

        public Task ShutdownRequestedAsync(ShutdownRequestedInput input, CancellationToken cancellationToken) => input.Checkpointer.CheckpointAsync(cancellationToken);
    }

    private sealed class Factory(Journal journal, string worker) : IRecordProcessorFactory
    {
        public IRecordProcessor Create(string shardId) => new Processor(journal, worker, shardId);
    }

    private readonly ConcurrentQueue<string> _log = new();
    private Journal? _journal;

    private WorkerOptions Options(string stream, string app, string worker, RetrievalMode mode) => new()
    {
        Log = _log.Enqueue,
        StreamName = stream,
        ApplicationName = app,
        WorkerId = worker,
        InitialPosition = InitialPosition.TrimHorizon,
        Retrieval = mode,
        FailoverTime = TimeSpan.FromSeconds(2),
        LeaseScanInterval = TimeSpan.FromMilliseconds(500),
        ShardSyncInterval = TimeSpan.FromSeconds(2),
        IdleTimeBetweenReads = TimeSpan.FromMilliseconds(50),
        RetryDelay = TimeSpan.FromMilliseconds(200),
    };

    private static async Task PutAsync(KinesisClient kinesis, string stream, int from, int count, bool aggregated = false)
    {
        // An aggregate's user records share its partition key, so they map to the shard the aggregate goes to (the
        // KPL makes sure of that; the consumer drops user records outside its shard's hash-key range, as the KCL does).
        var records = Enumerable.Range(from, count)
            .Select(i => new UserRecord(aggregated ? $"aggregate-{i / 10}" : $"key-{i % 37}", null, Encoding.UTF8.GetBytes($"record-{i}"))).ToList();
        var entries = aggregated
            ? records.Chunk(10).Select(chunk => new PutRecordsRequestEntry { PartitionKey = chunk[0].PartitionKey, Data = KplFormat.Encode(chunk) }).ToList()
            : records.Select(r => new PutRecordsRequestEntry { PartitionKey = r.PartitionKey, Data = r.Data }).ToList();
        foreach (var batch in entries.Chunk(100))
        {
            var answer = await kinesis.PutRecordsAsync(new PutRecordsRequest { StreamName = stream, Records = batch });
            Assert.Equal(0, answer.FailedRecordCount);
        }
    }

    private async Task WaitUntilAsync(Func<bool> done, string what, int seconds = 60)
    {
        for (var until = DateTime.UtcNow.AddSeconds(seconds); !done(); await Task.Delay(100))
            Assert.True(DateTime.UtcNow < until, $"timed out waiting until {what}; given by shard: {string.Join(", ", _journal?.Given.GroupBy(g => g.Shard).Select(g => $"{g.Key}={g.Count()} [{Encoding.UTF8.GetString(g.First().Record.Data.Span)}..{Encoding.UTF8.GetString(g.Last().Record.Data.Span)}]") ?? [])}; the workers said:\n{string.Join("\n", _log.TakeLast(40))}");
    }

    [Theory(Timeout = 180_000)]
    [InlineData(RetrievalMode.Polling)]
    [InlineData(RetrievalMode.FanOut)]
    public async Task Two_workers_share_the_shards_across_a_reshard_and_a_shutdown_losing_nothing(RetrievalMode mode)
    {
        var host = fixture.Host;
        using var kinesis = host.Kinesis();
        using var dynamo = host.DynamoDb();
        string stream = RunnelHost.UniqueName("workers"), app = RunnelHost.UniqueName("app");
        await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 2 });
        await PutAsync(kinesis, stream, 0, 200);
        await PutAsync(kinesis, stream, 200, 100, aggregated: true);

        var journal = _journal = new Journal();
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var a = new KinesisWorker(kinesis, dynamo, new Factory(journal, "a"), Options(stream, app, "a", mode));
        var b = new KinesisWorker(kinesis, dynamo, new Factory(journal, "b"), Options(stream, app, "b", mode));
        var runA = a.RunAsync(stopA.Token);
        await WaitUntilAsync(() => a.HeldShards.Count == 2, "worker a holds both shards");
        var runB = b.RunAsync(stopB.Token);
        await WaitUntilAsync(() => a.HeldShards.Count == 1 && b.HeldShards.Count == 1, "the workers hold one shard each");

        // A reshard to four shards: the two parents end, four children follow.
        await host.UpdateShardCountAsync(stream, 4);
        await PutAsync(kinesis, stream, 300, 200);
        await WaitUntilAsync(() => journal.Ended.Count == 2, "both parents ended");
        await WaitUntilAsync(() => journal.Given.Select(g => Encoding.UTF8.GetString(g.Record.Data.Span)).Distinct().Count() == 500,
            "every record given");

        // a shuts down: b takes its leases and processes what comes next.
        await stopA.CancelAsync();
        await runA;
        Assert.Empty(a.HeldShards);
        await PutAsync(kinesis, stream, 500, 100);
        await WaitUntilAsync(() => b.HeldShards.Count == 4, "worker b holds the four children");
        await WaitUntilAsync(() => journal.Given.Select(g => Encoding.UTF8.GetString(g.Record.Data.Span)).Distinct().Count() == 600, "every record given after the shutdown");
        await stopB.CancelAsync();
        await runB;

        var given = journal.Given.ToList();
        // Every record. Twice only where a lease changed hands under a processor (b taking a parent from a as it joined:
        // a's records after its last checkpoint are given again to b); the graceful handover at a's shutdown resumes
        // after the last checkpoints, so it gives nothing twice.
        string Text(ConsumerRecord r) => Encoding.UTF8.GetString(r.Data.Span);
        Assert.Equal(Enumerable.Range(0, 600).Select(i => $"record-{i}").Order(), given.Select(g => Text(g.Record)).Distinct().Order());
        var lost = Assert.Single(journal.Lost);
        Assert.All(given.GroupBy(g => Text(g.Record)).Where(g => g.Count() > 1), twice =>
        {
            Assert.Equal(2, twice.Count());
            Assert.All(twice, g => Assert.Equal(lost, g.Shard));
            Assert.Equal(["a", "b"], twice.Select(g => g.Worker));
        });
        // In order per shard, within each worker's hold of it (a lease that changed hands is given again from its last
        // checkpoint by the next holder).
        foreach (var hold in given.GroupBy(g => (g.Worker, g.Shard)))
        {
            var positions = hold.Select(g => g.Record.Position).ToList();
            Assert.True(positions.Zip(positions.Skip(1)).All(p => p.First < p.Second), $"{hold.Key} out of order");
        }
        // Aggregates arrive as their user records, numbered within the Kinesis record (counted once each: those the
        // stolen lease held after its last checkpoint are given again, by the next holder).
        Assert.Equal(100, given.Where(g => g.Record.IsAggregated).Select(g => g.Record.Position).Distinct().Count());
        Assert.All(given.Where(g => g.Record.IsAggregated).GroupBy(g => (g.Worker, g.Record.SequenceNumber)),
            g => Assert.Equal(Enumerable.Range(0, g.Count()).Select(i => (long)i), g.Select(r => r.Record.SubSequenceNumber)));
        // The lease table: the parents at SHARD_END with their children named, nobody holding anything.
        var leases = await new LeaseTable(dynamo, app).ListAsync();
        Assert.Equal(6, leases.Count);
        // Parents before children: no child started before its own parents ended (2 to 4 splits each parent, so a
        // child may start while the other parent is still being read).
        var ended = journal.Ended.ToList();
        Assert.Equal(2, ended.Count);
        var endedAt = ended.ToDictionary(e => e.Shard, e => e.At);
        var children = journal.Started.Where(s => s.Shard is not ("shardId-000000000000" or "shardId-000000000001")).ToList();
        Assert.NotEmpty(children);
        Assert.All(children, c =>
        {
            var parents = leases.Single(l => l.LeaseKey == c.Shard).ParentShardIds;
            Assert.NotEmpty(parents);
            Assert.All(parents, p => Assert.True(endedAt.TryGetValue(p, out long at) && c.At > at, $"{c.Shard} started before its parent {p} ended"));
        });
        Assert.All(leases, l => Assert.Null(l.LeaseOwner));
        Assert.All(leases.Where(l => l.LeaseKey is "shardId-000000000000" or "shardId-000000000001"), l => Assert.True(l.IsFinished));
        // One lease changed hands under a processor: the parent b took from a when it joined; a's processor heard so.
        Assert.Contains(lost, new[] { "shardId-000000000000", "shardId-000000000001" });
    }
}
