using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Runnel.Client.Leases;
using Runnel.Client.Models;
using Runnel.Client.Processing;
using Xunit.Abstractions;

namespace Runnel.Client.Tests.Fleet;

/// <summary>
/// The consumer as a fleet: three worker processes (tests/Runnel.Client.FleetWorker) of one application share a
/// six-shard stream on a real server while a producer writes and the stream is resharded; one worker is SIGKILLed
/// mid-run and the others take its leases after the failover time. From the workers' journals: every record produced was
/// processed; per shard, records were given in increasing order within each hold of a lease; no child shard started
/// before its parents ended; a record was given twice only where the first holder could not have checkpointed it: the
/// killed worker after its last journaled checkpoint of that shard (or a worker that lost a lease to a steal, likewise).
/// </summary>
[Collection(FleetCollection.Name)]
public sealed class FleetTests(ITestOutputHelper output)
{
    private const int Workers = 3;
    private static readonly TimeSpan Failover = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ProduceFor = TimeSpan.FromSeconds(14);
    private static readonly TimeSpan ReshardAfter = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan KillAfter = TimeSpan.FromSeconds(8);

    [Theory(Timeout = 150_000)]
    [InlineData(RetrievalMode.Polling)]
    [InlineData(RetrievalMode.FanOut)]
    public async Task Three_worker_processes_share_a_stream_across_a_reshard_and_a_kill_and_every_record_is_processed(RetrievalMode mode)
    {
        var started = Stopwatch.StartNew();
        await using var host = await RunnelHost.StartAsync();
        using var kinesis = host.Kinesis();
        string stream = RunnelHost.UniqueName("fleet"), app = RunnelHost.UniqueName("fleet-app");
        string dir = Path.Combine(Path.GetTempPath(), "runnel-fleet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 6 });
        await kinesis.WaitForStreamActiveAsync(new DescribeStreamSummaryRequest { StreamName = stream }, TimeSpan.FromMilliseconds(100));

        var workers = new List<WorkerProcess>();
        using var stopProducer = new CancellationTokenSource();
        Task<HashSet<string>>? producer = null;
        string? killed = null;
        try
        {
            for (int w = 0; w < Workers; w++)
                workers.Add(WorkerProcess.Start(host.Url, stream, app, $"worker-{w}", mode, Path.Combine(dir, $"worker-{w}.journal")));
            await WaitUntilAsync(workers, () => ReadAll(workers).Select(t => t.Shard).Distinct().Count() == 6, "the six shards are held", 30);

            var producing = Stopwatch.StartNew();
            producer = ProduceAsync(kinesis, stream, stopProducer.Token);
            await Task.Delay(ReshardAfter);
            await host.UpdateShardCountAsync(stream, 12);
            await Task.Delay(KillAfter - ReshardAfter);

            // Kill the worker holding the most shards right now, mid-batch as likely as not.
            var victim = workers.MaxBy(w => FleetJournalReader.Read(w.Journal).Count(t => t.EndedTicks is null && !t.Lost && !t.ShutDown))!;
            victim.Kill();
            killed = victim.Id;
            output.WriteLine($"killed {killed} at {producing.Elapsed.TotalSeconds:F1} s");

            await Task.Delay(ProduceFor - producing.Elapsed);
            await stopProducer.CancelAsync();
            var produced = await producer;
            await WaitUntilAsync(workers, () => produced.IsSubsetOf(ReadAll(workers).SelectMany(t => t.Given).Select(g => g.Data)), "every record produced is journaled", 60);

            foreach (var worker in workers.Where(w => w.Id != killed))
                worker.StopGracefully();
            foreach (var worker in workers.Where(w => w.Id != killed))
                Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"{worker.Id} did not stop:\n{worker.Tail()}");

            var shards = await kinesis.ListAllShardsAsync(new ListShardsRequest { StreamName = stream }).ToListAsync();
            Check(ReadAll(workers), produced, shards, killed, started.Elapsed);
        }
        finally
        {
            await stopProducer.CancelAsync();
            if (producer is not null)
                await producer.ContinueWith(_ => { }, TaskScheduler.Default);
            foreach (var worker in workers)
                worker.Dispose();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private void Check(List<Tenure> tenures, HashSet<string> produced, List<Shard> shards, string killed, TimeSpan elapsed)
    {
        var given = tenures.SelectMany(t => t.Given.Select(g => (Tenure: t, g.Position, g.Data, g.Ticks))).ToList();

        // Every record produced, and nothing else.
        Assert.Empty(produced.Except(given.Select(g => g.Data)));
        Assert.Empty(given.Select(g => g.Data).Distinct().Except(produced));

        // In increasing order within each hold of a shard's lease.
        foreach (var tenure in tenures)
        {
            var positions = tenure.Given.Select(g => g.Position).ToList();
            var backwards = positions.Zip(positions.Skip(1)).FirstOrDefault(p => p.First >= p.Second);
            Assert.True(backwards == default, $"{tenure.Worker} was given {tenure.Shard} out of order: {backwards.First} then {backwards.Second}");
        }

        // Parents before children: no child began before every parent had journaled its end (the line comes before the
        // SHARD_END checkpoint that lets the children's leases be taken). The killed worker may have stored that
        // checkpoint and died before journaling it: its last `end` line counts then.
        long? Ended(Tenure t) => t.EndedTicks ?? (t.Worker == killed ? t.EndingTicks : null);
        var children = shards.Where(s => s.ParentShardId is not null).ToList();
        Assert.NotEmpty(children);
        foreach (var child in children)
        {
            var parents = new[] { child.ParentShardId, child.AdjacentParentShardId }.OfType<string>().ToList();
            var parentEnds = parents.Select(p => tenures.Where(t => t.Shard == p).Select(Ended).OfType<long>().DefaultIfEmpty(long.MaxValue).Min()).ToList();
            foreach (var tenure in tenures.Where(t => t.Shard == child.ShardId))
                Assert.True(tenure.StartTicks > parentEnds.Max(), $"{child.ShardId} began in {tenure.Worker} before its parents {string.Join(", ", parents)} ended");
        }
        Assert.All(shards.Where(s => s.SequenceNumberRange.EndingSequenceNumber is not null), parent =>
            Assert.Contains(tenures, t => t.Shard == parent.ShardId && Ended(t) is not null));

        // Twice only where it may be: given after the last journaled checkpoint of a hold that ended by the kill (or by a
        // lease lost to a steal); everywhere else at most once.
        var twice = given.Where(g => !g.Tenure.MayRepeat((g.Position, g.Data, g.Ticks), g.Tenure.Worker == killed)).GroupBy(g => g.Data).Where(g => g.Count() > 1).ToList();
        Assert.True(twice.Count == 0, $"given twice outside a killed or lost hold: {string.Join("; ", twice.Take(5).Select(g => $"{g.Key} by {string.Join(", ", g.Select(x => $"{x.Tenure.Worker}/{x.Tenure.Shard}@{x.Position}"))}"))}");
        int duplicates = given.Count - given.Select(g => g.Data).Distinct().Count();
        var copies = given.CountBy(g => g.Data).ToDictionary();
        int afterKill = given.Count(g => g.Tenure.Worker == killed && g.Tenure.MayRepeat((g.Position, g.Data, g.Ticks), killed: true) && copies[g.Data] > 1);
        output.WriteLine($"records {produced.Count}, given {given.Count}, duplicates {duplicates} ({afterKill} after the killed worker's last checkpoints, " +
            $"{tenures.Count(t => t.Lost)} leases lost to steals), shards {shards.Count} ({children.Count} children), holds {tenures.Count}, {elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Numbered records under many partition keys, in batches, until stopped; returns the acknowledged ones.</summary>
    private static Task<HashSet<string>> ProduceAsync(KinesisClient kinesis, string stream, CancellationToken stop) => Task.Run(async () =>
    {
        var acknowledged = new HashSet<string>();
        for (int next = 0; !stop.IsCancellationRequested; next += 50)
        {
            var pending = Enumerable.Range(next, 50).Select(i => new PutRecordsRequestEntry { PartitionKey = $"customer-{i % 997}", Data = Encoding.UTF8.GetBytes($"fleet-{i}") }).ToList();
            while (pending.Count > 0)
            {
                var answer = await kinesis.PutRecordsAsync(new PutRecordsRequest { StreamName = stream, Records = pending });
                var failed = new List<PutRecordsRequestEntry>();
                for (int i = 0; i < pending.Count; i++)
                {
                    if (answer.Records[i].ErrorCode is null)
                        acknowledged.Add(Encoding.UTF8.GetString(pending[i].Data.Span));
                    else
                        failed.Add(pending[i]);
                }
                pending = failed;
            }
            await Task.Delay(25, CancellationToken.None);
        }
        return acknowledged;
    });

    private static List<Tenure> ReadAll(List<WorkerProcess> workers) => workers.SelectMany(w => FleetJournalReader.Read(w.Journal)).ToList();

    private static async Task WaitUntilAsync(List<WorkerProcess> workers, Func<bool> done, string what, int seconds)
    {
        for (var until = DateTime.UtcNow.AddSeconds(seconds); !done(); await Task.Delay(250))
            Assert.True(DateTime.UtcNow < until, $"timed out waiting until {what}; the workers said:\n{string.Join("\n", workers.Select(w => w.Tail()))}");
    }
}
