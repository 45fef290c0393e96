using System.Text.Json;
using Runnel.Storage.Tests.JetStream;
using Xunit.Abstractions;

namespace Runnel.Server.Tests;

/// <summary>
/// Runnel nodes killed with SIGKILL under PutRecords load, as real processes (<c>runnel serve --nats … --replicas 3</c>)
/// on a real three-node JetStream cluster: the clients go on through the node that is left, and every record that
/// was acknowledged is read back once, where it was acknowledged, with its bytes, in order (<see cref="ClusterLoad"/>).
/// The load runs <c>RUNNEL_FAULT_SECONDS</c> after the fault (3 in CI; the figures in docs/reliability.md are by hand).
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class ClusterFaultTests(NatsClusterFixture nats, ITestOutputHelper output)
{
    private static readonly TimeSpan AfterFault = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("RUNNEL_FAULT_SECONDS"), out int seconds) && seconds > 0 ? seconds : 3);

    private const int Writers = 4;
    private const int MaxRecordsPerWriter = 2_000_000;

    private Task<ServerProcess> NodeAsync(params string[] extra) =>
        ServerProcess.StartAsync(Path.Combine(Path.GetTempPath(), "runnel-fault-node-" + Guid.NewGuid().ToString("N")),
            ["--nats", nats.Cluster.Urls, "--replicas", "3", "--limits", "off", .. extra]);

    /// <summary>What a node's <c>/health</c> says, or null when it does not answer.</summary>
    private static async Task<JsonElement?> HealthAsync(ServerProcess node)
    {
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement.Clone();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The one node whose <c>/health</c> says it is the elected node.</summary>
    private static async Task<ServerProcess> ElectedAsync(params ServerProcess[] nodes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var elected = new List<ServerProcess>();
            foreach (var node in nodes)
            {
                if (await HealthAsync(node) is { } health && health.GetProperty("elected").GetBoolean())
                    elected.Add(node);
            }
            if (elected.Count == 1)
                return elected[0];
            Assert.True(DateTime.UtcNow < deadline, $"{elected.Count} of {nodes.Length} nodes say they are elected");
            await Task.Delay(100);
        }
    }

    private static async Task EventuallyAsync(Func<Task<bool>> check, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await check())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await Task.Delay(100);
        }
    }

    /// <summary>Lets the load run <see cref="AfterFault"/> and until it has 500 more acknowledgements than at the fault
    /// (a loaded machine may need longer; at most 60 s more): writes must go on after it.</summary>
    private static async Task LoadOnAsync(ClusterLoad load, Task running, int atFault)
    {
        await Task.Delay(AfterFault);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (load.Acknowledged < atFault + 500 && !running.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, $"writes went on after the fault: {atFault} then, {load.Acknowledged} 60 s later");
            await Task.Delay(100);
        }
    }

    private static async Task<JsonElement> SummaryAsync(TestClient client, string stream) =>
        (await client.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary");

    [Fact(Timeout = 180000)]
    public async Task Health_names_each_node_and_exactly_one_is_elected()
    {
        using var a = await NodeAsync();
        using var b = await NodeAsync();
        var elected = await ElectedAsync(a, b);
        var names = new List<string>();
        foreach (var node in new[] { a, b })
        {
            var health = (await HealthAsync(node))!.Value;
            Assert.Equal("ok", health.GetProperty("status").GetString());
            names.Add(health.GetProperty("node").GetString()!);
        }
        Assert.NotEqual(names[0], names[1]);
        // The log line and /health come from one change of state but reach the test by different ways (the process's
        // output is read as it comes): the line may arrive a moment after the answer.
        await EventuallyAsync(() => Task.FromResult(elected.Output.Contains("is now the elected node", StringComparison.Ordinal)),
            "the elected node logs that it is");
    }

    [Fact(Timeout = 300000)]
    public async Task A_node_killed_under_PutRecords_load_loses_nothing_acknowledged_and_a_replacement_serves_it_all()
    {
        using var a = await NodeAsync();
        using var b = await NodeAsync();
        using var aClient = new TestClient(a.Url);
        using var bClient = new TestClient(b.Url);
        string stream = ServerFixture.UniqueName("kill-node");
        await aClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":4}""");
        await EventuallyAsync(async () => (await SummaryAsync(bClient, stream)).GetProperty("StreamStatus").GetString() == "ACTIVE", "the stream becomes ACTIVE");

        var load = new ClusterLoad(stream, [aClient, bClient]);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(Writers, MaxRecordsPerWriter, stop.Token);
        await EventuallyAsync(() => Task.FromResult(load.Acknowledged >= 1000 || running.IsCompleted), "the load gets going");
        int beforeKill = load.Acknowledged;
        await a.KillAsync();
        await LoadOnAsync(load, running, beforeKill);
        stop.Cancel();
        await running;

        using var c = await NodeAsync(); // the replacement, started after the kill, reads everything
        using var cClient = new TestClient(c.Url);
        var verdict = await load.VerifyAsync(cClient);
        output.WriteLine($"node killed after {beforeKill} acknowledged; {verdict.Acknowledged} acknowledged in all, {verdict.Stored} stored, " +
            $"{verdict.ExtraCopies} extra copies, {load.UnansweredRecords} records unanswered, {load.Failovers} calls sent again through the other node, {load.RefusedRecords} refused one by one");
        await cClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
    }

    [Fact(Timeout = 300000)]
    public async Task The_elected_node_killed_during_a_reshard_under_load_is_taken_over_and_loses_nothing_acknowledged()
    {
        // The reshard stays UPDATING for 2 s (as on AWS it takes a while), so the kill comes after it was asked for and
        // before the elected node switched it: the survivor must take the lease (5 s after the last renewal) and finish it.
        string[] delayed = ["--update-stream-delay", "2000"];
        using var a = await NodeAsync(delayed);
        using var b = await NodeAsync(delayed);
        var elected = await ElectedAsync(a, b);
        var survivor = elected == a ? b : a;
        using var electedClient = new TestClient(elected.Url);
        using var survivorClient = new TestClient(survivor.Url);
        string stream = ServerFixture.UniqueName("kill-elected");
        await survivorClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":2}""");
        await EventuallyAsync(async () => (await SummaryAsync(survivorClient, stream)).GetProperty("StreamStatus").GetString() == "ACTIVE", "the stream becomes ACTIVE");

        var load = new ClusterLoad(stream, [electedClient, survivorClient]);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(Writers, MaxRecordsPerWriter, stop.Token);
        await EventuallyAsync(() => Task.FromResult(load.Acknowledged >= 1000 || running.IsCompleted), "the load gets going");
        await electedClient.OkAsync("UpdateShardCount", $$"""{"StreamName":"{{stream}}","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}""");
        int beforeKill = load.Acknowledged;
        await elected.KillAsync();
        Assert.Equal("UPDATING", (await SummaryAsync(survivorClient, stream)).GetProperty("StreamStatus").GetString());

        var killed = DateTime.UtcNow;
        await EventuallyAsync(async () =>
        {
            var summary = await SummaryAsync(survivorClient, stream);
            return summary.GetProperty("StreamStatus").GetString() == "ACTIVE" && summary.GetProperty("OpenShardCount").GetInt32() == 4;
        }, "the survivor takes over and finishes the reshard", seconds: 60);
        var takenOver = DateTime.UtcNow - killed;
        Assert.True((await HealthAsync(survivor))!.Value.GetProperty("elected").GetBoolean(), "the survivor is the elected node");
        int atSwitch = load.Acknowledged;
        await LoadOnAsync(load, running, atSwitch);
        stop.Cancel();
        await running;

        var verdict = await load.VerifyAsync(survivorClient);
        Assert.Equal(6, verdict.Shards);
        var shards = (await survivorClient.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Shards").EnumerateArray().ToList();
        foreach (var parent in shards.Take(2))
            Assert.True(parent.GetProperty("SequenceNumberRange").TryGetProperty("EndingSequenceNumber", out _), $"{parent.GetProperty("ShardId")} is closed");
        output.WriteLine($"elected node killed {beforeKill} records in, the reshard finished by the survivor {takenOver.TotalSeconds:0.0} s after the kill; " +
            $"{verdict.Acknowledged} acknowledged in all, {verdict.Stored} stored, {verdict.ExtraCopies} extra copies, {load.UnansweredRecords} records unanswered, " +
            $"{load.Failovers} calls sent again through the other node, {load.RefusedRecords} refused one by one");
        await survivorClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
    }
}
