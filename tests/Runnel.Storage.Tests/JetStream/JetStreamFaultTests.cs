using System.Collections.Concurrent;
using System.Text.Json;
using NATS.Client.Core;
using Xunit.Abstractions;
using NATS.Client.JetStream;
using Runnel.Storage.JetStream;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>
/// A nats-server killed with SIGKILL under appends at R3: appends go on once JetStream has a leader again, and
/// every acknowledged record is in the log, once, at the offset it was acknowledged with, with its bytes. A cluster
/// of its own (nodes are killed here). Bounded in appends and in time; RUNNEL_FAULT_APPENDS sets the size.
/// </summary>
public sealed class JetStreamFaultTests(ITestOutputHelper output)
{
    private static int Appends => int.TryParse(Environment.GetEnvironmentVariable("RUNNEL_FAULT_APPENDS"), out int n) && n > 0 ? n : 300;

    [Fact(Timeout = 180000)]
    public async Task Killing_the_shards_stream_leader_under_appends_loses_nothing_acknowledged()
    {
        await using var cluster = await NatsCluster.StartAsync(3);
        await using var connection = new NatsConnection(new NatsOpts { Url = cluster.Urls, Name = "runnel-fault-writer", RequestTimeout = TimeSpan.FromSeconds(10) });
        await connection.ConnectAsync();
        var js = new NatsJSContext(connection);
        await WaitForMetaLeaderAsync(js);
        using var store = new JetStreamShardStore(js, new JetStreamSettings { Replicas = 3 });
        var log = store.Open(1, 0);
        string streamName = JetStreamShardStore.StreamNameOf(1, 0);

        var acknowledged = new ConcurrentDictionary<string, ulong>(StringComparer.Ordinal);
        int failures = 0, next = -1, killedAt = Appends / 3;
        var killed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        Exception? lastFailure = null;
        var failureKinds = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);

        async Task WriteAsync()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next);
                if (i >= Appends)
                    return;
                if (i == killedAt)
                {
                    int leader = await LeaderIndexAsync(js, streamName, cluster);
                    cluster.Kill(leader);
                    killed.SetResult(leader);
                }
                string value = $"record-{i}";
                // As a client would: retry a failed append (a new attempt, so perhaps a second copy) until it is acknowledged.
                while (true)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"appends did not resume after the kill; the last failure: {Volatile.Read(ref lastFailure)}");
                    try
                    {
                        var result = await AppendAsync(log, value);
                        acknowledged[value] = result.FirstOffset;
                        break;
                    }
                    catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                    {
                        // Whatever the failure (a timeout, no responders, a replica behind), the client tries again:
                        // what is checked is that nothing acknowledged is lost, and that appends resume.
                        Volatile.Write(ref lastFailure, e);
                        failureKinds.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
                        Interlocked.Increment(ref failures);
                        await Task.Delay(100);
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(WriteAsync)));
        int killedNode = await killed.Task;
        await cluster.RestartAsync(killedNode);

        // A node that was never part of the writing reads it all back.
        await using var reader = new NatsConnection(new NatsOpts { Url = cluster.Urls, Name = "runnel-fault-reader", RequestTimeout = TimeSpan.FromSeconds(10) });
        await reader.ConnectAsync();
        using var readStore = new JetStreamShardStore(new NatsJSContext(reader), new JetStreamSettings { Replicas = 3 });
        var records = ReadAll(readStore.Open(1, 0));
        AssertInOrder(records);
        Assert.Equal(Appends, acknowledged.Count);
        foreach (var (value, offset) in acknowledged)
            Assert.Equal(value, records[(int)offset].Text);
        // Copies beyond the acknowledged ones come only from attempts that failed (at-least-once on retries).
        Assert.InRange(records.Count, Appends, Appends + Volatile.Read(ref failures));
        Assert.All(records, r => Assert.StartsWith("record-", r.Text, StringComparison.Ordinal));
        output.WriteLine($"{Appends} appends acknowledged, node n{killedNode + 1} (the stream's leader) killed at append {killedAt}; " +
            $"{failures} attempts failed meanwhile and were retried ({string.Join(", ", failureKinds.Select(k => $"{k.Key} x{k.Value}"))}); {records.Count - Appends} extra copies in the log.");
    }

    private static async Task<int> LeaderIndexAsync(INatsJSContext js, string stream, NatsCluster cluster)
    {
        var info = await js.GetStreamAsync(stream);
        string? leader = info.Info.Cluster?.Leader;
        return leader is { Length: > 1 } && int.TryParse(leader.AsSpan(1), out int n) && n >= 1 && n <= cluster.Size ? n - 1 : 0;
    }

    private static async Task WaitForMetaLeaderAsync(INatsJSContext js)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await js.CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig("RUNNEL_PROBE", ["runnel.probe"]) { NumReplicas = 3 });
                await js.DeleteStreamAsync("RUNNEL_PROBE");
                return;
            }
            catch (Exception e) when ((e is NatsJSException or NatsException or JsonException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
