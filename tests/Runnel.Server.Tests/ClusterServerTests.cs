using System.Text.Json;
using Runnel.Server.Storage;
using Runnel.Storage.Tests.JetStream;

namespace Runnel.Server.Tests;

/// <summary>
/// <c>runnel serve --nats</c>: Runnel nodes that keep everything in a real three-node JetStream cluster (R3) and
/// nothing on their own disk, so that a node started later serves what an earlier one wrote, records written
/// through one node are read through another, and one node at a time does the once-only work.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed partial class ClusterServerTests(NatsClusterFixture nats)
{
    private static string B64(string s) => ServerFixture.B64(s);

    /// <summary>A node on the shared cluster, started; its data directory is a path nothing may create.</summary>
    private async Task<(RunnelServer Server, TestClient Client, string DataDir)> NodeAsync(Func<RunnelOptions, RunnelOptions>? configure = null, TimeProvider? clock = null)
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "runnel-cluster-node-" + Guid.NewGuid().ToString("N"));
        var options = new RunnelOptions { Port = 0, DataDir = dataDir, Nats = nats.Cluster.Urls, Replicas = 3, Limits = Runnel.Core.Throughput.ThroughputLimits.Off };
        var server = RunnelServer.Create(configure?.Invoke(options) ?? options, logging: Environment.GetEnvironmentVariable("RUNNEL_TEST_LOG") == "1" ? null : _ => { }, clock: clock);
        await server.StartAsync();
        return (server, new TestClient(server.Url), dataDir);
    }

    /// <summary>Two running nodes on the shared cluster; disposing stops both.</summary>
    private sealed class TwoNodes(RunnelServer a, TestClient aClient, RunnelServer b, TestClient bClient) : IAsyncDisposable
    {
        public TestClient A => aClient;

        public TestClient B => bClient;

        public async ValueTask DisposeAsync()
        {
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    private async Task<TwoNodes> TwoNodesAsync()
    {
        var (a, aClient, _) = await NodeAsync();
        var (b, bClient, _) = await NodeAsync();
        return new TwoNodes(a, aClient, b, bClient);
    }

    private static async Task<List<string>> ReadAllAsync(TestClient client, string stream)
    {
        string iterator = (await client.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString()!;
        var data = new List<string>();
        for (int page = 0; page < 20; page++)
        {
            var result = await client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
            data.AddRange(result.GetProperty("Records").EnumerateArray().Select(r => System.Text.Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64())));
            if (result.GetProperty("MillisBehindLatest").GetInt64() == 0)
                break;
            iterator = result.GetProperty("NextShardIterator").GetString()!;
        }
        return data;
    }

    [Fact(Timeout = 120000)]
    public async Task A_node_started_later_serves_what_another_wrote_and_each_reads_the_others_records()
    {
        var (first, firstClient, firstDir) = await NodeAsync();
        string stream = ServerFixture.UniqueName("cluster");
        try
        {
            await firstClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            for (int i = 0; i < 5; i++)
                await firstClient.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("first-" + i)}}"}""");

            var (second, secondClient, secondDir) = await NodeAsync();
            try
            {
                var described = await secondClient.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""");
                Assert.Equal("ACTIVE", described.GetProperty("StreamDescriptionSummary").GetProperty("StreamStatus").GetString());
                Assert.Equal(Enumerable.Range(0, 5).Select(i => "first-" + i), await ReadAllAsync(secondClient, stream));

                // Written through the second node, read through the first (whose log learns of it from the tip notice).
                var put = await secondClient.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{"PartitionKey":"k","Data":"{{B64("second-0")}}"},{"PartitionKey":"k","Data":"{{B64("second-1")}}"}]}""");
                Assert.Equal(0, put.GetProperty("FailedRecordCount").GetInt32());
                var all = await ReadAllAsync(firstClient, stream);
                Assert.Equal([.. Enumerable.Range(0, 5).Select(i => "first-" + i), "second-0", "second-1"], all);

                // Sequence numbers keep rising across the nodes' writes.
                var third = await firstClient.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("first-5")}}"}""");
                var last = put.GetProperty("Records")[1].GetProperty("SequenceNumber").GetString()!;
                Assert.True(System.Numerics.BigInteger.Parse(third.GetProperty("SequenceNumber").GetString()!) > System.Numerics.BigInteger.Parse(last));

                Assert.False(Directory.Exists(firstDir), "a cluster node keeps nothing in its data directory");
                Assert.False(Directory.Exists(secondDir), "a cluster node keeps nothing in its data directory");
            }
            finally
            {
                secondClient.Dispose();
                await second.DisposeAsync();
            }
            await firstClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
        }
        finally
        {
            firstClient.Dispose();
            await first.DisposeAsync();
        }
    }

    [Fact(Timeout = 120000)]
    public async Task A_restarted_node_keeps_every_acknowledged_record_and_iterators_stay_valid()
    {
        string stream = ServerFixture.UniqueName("cluster-restart");
        string iterator;
        var (node, client, _) = await NodeAsync();
        try
        {
            await client.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":2}""");
            for (int i = 0; i < 10; i++)
                await client.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","ExplicitHashKey":"0","Data":"{{B64("r" + i)}}"}""");
            iterator = (await client.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
                .GetProperty("ShardIterator").GetString()!;
        }
        finally
        {
            client.Dispose();
            await node.DisposeAsync();
        }

        var (again, againClient, _) = await NodeAsync();
        try
        {
            // The shard-iterator key is the cluster's: an iterator from the node before is good on this one.
            var page = await againClient.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
            Assert.Equal(Enumerable.Range(0, 10).Select(i => "r" + i), page.GetProperty("Records").EnumerateArray().Select(r => System.Text.Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64())));
            var listed = await againClient.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""");
            Assert.Equal(2, listed.GetProperty("Shards").GetArrayLength());
            await againClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
        }
        finally
        {
            againClient.Dispose();
            await again.DisposeAsync();
        }
    }

    /// <summary>Polls <paramref name="check"/> until it holds (another node's change reaches this one through the
    /// metadata bucket's watch: milliseconds, bounded here at 15 s for a loaded machine).</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> check, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await check())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await Task.Delay(50);
        }
    }

    [Fact(Timeout = 120000)]
    public async Task Nodes_that_are_running_see_each_others_streams_consumers_and_settings_change()
    {
        await using var nodes = await TwoNodesAsync();
        var (aClient, bClient) = (nodes.A, nodes.B);
        string stream = ServerFixture.UniqueName("follow");
        await aClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
        await EventuallyAsync(async () => (await bClient.CallAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).Status == System.Net.HttpStatusCode.OK,
            "a stream created through one node is served by the other");
        await bClient.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("via-b")}}"}""");
        Assert.Equal(["via-b"], await ReadAllAsync(aClient, stream));

        await aClient.OkAsync("IncreaseStreamRetentionPeriod", $$"""{"StreamName":"{{stream}}","RetentionPeriodHours":48}""");
        await EventuallyAsync(async () => (await bClient.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}"""))
            .GetProperty("StreamDescriptionSummary").GetProperty("RetentionPeriodHours").GetInt32() == 48, "a change through one node reaches the other");

        string arn = (await aClient.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
        await aClient.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"reader"}""");
        await EventuallyAsync(async () => (await bClient.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{arn}}"}""")).GetProperty("Consumers").GetArrayLength() == 1,
            "a consumer registered through one node is listed by the other");
        var (status, body) = await bClient.CallAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"reader"}""");
        Assert.Equal("ResourceInUseException", body.GetProperty("__type").GetString());
        await bClient.OkAsync("DeregisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"reader"}""");
        await EventuallyAsync(async () => (await aClient.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{arn}}"}""")).GetProperty("Consumers").GetArrayLength() == 0,
            "a consumer deregistered through one node is gone from the other");

        await aClient.OkAsync("UpdateAccountSettings", """{"MinimumThroughputBillingCommitment":{"Status":"ENABLED"}}""");
        await EventuallyAsync(async () => (await bClient.OkAsync("DescribeAccountSettings", "{}")).GetProperty("MinimumThroughputBillingCommitment").GetProperty("Status").GetString() == "ENABLED",
            "the account's settings changed through one node reach the other");

        await bClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
        await EventuallyAsync(async () => (await aClient.CallAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).Status == System.Net.HttpStatusCode.BadRequest,
            "a stream deleted through one node is gone from the other");
        var (_, notFound) = await aClient.CallAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("late")}}"}""");
        Assert.Equal("ResourceNotFoundException", notFound.GetProperty("__type").GetString());
    }

    [Fact(Timeout = 120000)]
    public async Task Two_nodes_changing_one_stream_at_once_both_keep_their_change()
    {
        await using var nodes = await TwoNodesAsync();
        var (aClient, bClient) = (nodes.A, nodes.B);
        string stream = ServerFixture.UniqueName("contend");
        await aClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
        await EventuallyAsync(async () => (await bClient.CallAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).Status == System.Net.HttpStatusCode.OK,
            "the stream reaches the second node");
        // Each pair of tags goes in at once through the two nodes: one of each pair is decided from a copy the
        // other node's change has made stale, and must be decided again rather than overwrite it.
        for (int i = 0; i < 8; i++)
        {
            await Task.WhenAll(
                aClient.OkAsync("AddTagsToStream", $$$"""{"StreamName":"{{{stream}}}","Tags":{"a{{{i}}}":"x"}}"""),
                bClient.OkAsync("AddTagsToStream", $$$"""{"StreamName":"{{{stream}}}","Tags":{"b{{{i}}}":"y"}}"""));
        }
        var expected = Enumerable.Range(0, 8).SelectMany(i => new[] { $"a{i}", $"b{i}" }).Order(StringComparer.Ordinal).ToList();
        foreach (var client in new[] { aClient, bClient })
        {
            await EventuallyAsync(async () =>
            {
                var tags = (await client.OkAsync("ListTagsForStream", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Tags").EnumerateArray()
                    .Select(t => t.GetProperty("Key").GetString()!).Order(StringComparer.Ordinal).ToList();
                return tags.SequenceEqual(expected);
            }, "every tag added through either node is kept, on both nodes");
        }
        await aClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
    }

    [Fact(Timeout = 120000)]
    public async Task One_node_leads_at_a_time_and_another_takes_over_when_it_stops()
    {
        var (a, aClient, _) = await NodeAsync();
        var (b, bClient, _) = await NodeAsync();
        RunnelServer? survivor = null;
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!(a.Leads ^ b.Leads) && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            Assert.True(a.Leads ^ b.Leads, $"exactly one node leads (a: {a.Leads}, b: {b.Leads})");
            var (leader, follower) = a.Leads ? (a, b) : (b, a);
            survivor = follower;
            await leader.DisposeAsync(); // a clean stop releases the lease: the other takes it without waiting it out
            deadline = DateTime.UtcNow + ClusterStorage.LeaseLength * 3;
            while (!follower.Leads && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            Assert.True(follower.Leads, "the remaining node took over the lease");
        }
        finally
        {
            aClient.Dispose();
            bClient.Dispose();
            if (survivor is not null)
                await survivor.DisposeAsync();
            else
            {
                await a.DisposeAsync();
                await b.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_node_that_cannot_reach_nats_refuses_to_start_and_says_what_to_fix()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var options = new RunnelOptions { Port = 0, DataDir = Path.Combine(Path.GetTempPath(), "runnel-unused-" + Guid.NewGuid().ToString("N")), Nats = $"nats://127.0.0.1:{port}" };
        var e = await Assert.ThrowsAsync<IOException>(() => Task.Run(() => RunnelServer.Create(options, logging: _ => { })));
        Assert.Contains($"cannot connect to NATS at nats://127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("nats-server -js", e.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    /// <summary>The system's clock moved ahead: on such a node every timed status looks due long before it is.</summary>
    private sealed class AheadClock(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + by;
    }

    private static async Task<RunnelServer> LeaderOfAsync(params RunnelServer[] nodes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (nodes.Count(n => n.Leads) != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "exactly one node leads");
            await Task.Delay(50);
        }
        return nodes.Single(n => n.Leads);
    }

    private static async Task<(string Status, int Shards, string? ConsumerStatus)> StateAsync(TestClient client, string stream, string arn)
    {
        var described = (await client.OkAsync("DescribeStream", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescription");
        var consumers = (await client.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{arn}}"}""")).GetProperty("Consumers");
        return (described.GetProperty("StreamStatus").GetString()!, described.GetProperty("Shards").GetArrayLength(),
            consumers.GetArrayLength() == 1 ? consumers[0].GetProperty("ConsumerStatus").GetString() : null);
    }

    [Fact(Timeout = 120000)]
    public async Task Only_the_leading_node_makes_the_timed_transitions()
    {
        // The follower's clock is an hour ahead, so to it the reshard and the consumer are due at once: were it to make
        // transitions, it would switch them at once. It must wait for the leader, whose clock says 3 s.
        static RunnelOptions Delayed(RunnelOptions o) => o with { UpdateStreamDelay = TimeSpan.FromSeconds(3), ConsumerCreateDelay = TimeSpan.FromSeconds(3) };
        var (leader, leaderClient, _) = await NodeAsync(Delayed);
        (RunnelServer Server, TestClient Client, string) follower = default;
        try
        {
            Assert.Same(leader, await LeaderOfAsync(leader));
            follower = await NodeAsync(Delayed, new AheadClock(TimeSpan.FromHours(1)));
            string stream = ServerFixture.UniqueName("leads");
            await leaderClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            string arn = (await leaderClient.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
            // Both transitions fall due 3 s (on the leader's clock) after their calls, so at least 3 s after this instant;
            // measured from before the first call, a slow call under load cannot push the window past either.
            var started = DateTime.UtcNow;
            await leaderClient.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"reader"}""");
            await leaderClient.OkAsync("SplitShard", $$"""{"StreamName":"{{stream}}","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"{{System.Numerics.BigInteger.Pow(2, 127)}}"}""");

            var followerClient = follower.Client;
            await EventuallyAsync(async () => (await followerClient.CallAsync("ListStreamConsumers", $$"""{"StreamARN":"{{arn}}"}""")).Body.TryGetProperty("Consumers", out var c) && c.GetArrayLength() == 1
                && (await StateAsync(followerClient, stream, arn)).Status == "UPDATING", "the follower hears of the split and the consumer");
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(1.5))
            {
                Assert.Equal(("UPDATING", 1, "CREATING"), await StateAsync(followerClient, stream, arn));
                await Task.Delay(100);
            }
            foreach (var client in new[] { leaderClient, followerClient })
                await EventuallyAsync(async () => await StateAsync(client, stream, arn) == ("ACTIVE", 3, "ACTIVE"), "the leader makes the switch, and the follower hears of it");
            await leaderClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}","EnforceConsumerDeletion":true}""");
        }
        finally
        {
            leaderClient.Dispose();
            follower.Client?.Dispose();
            await leader.DisposeAsync();
            if (follower.Server is not null)
                await follower.Server.DisposeAsync();
        }
    }

    [Fact(Timeout = 120000)]
    public async Task The_node_that_takes_over_finishes_the_transitions_its_leader_left()
    {
        static RunnelOptions Delayed(RunnelOptions o) => o with { UpdateStreamDelay = TimeSpan.FromSeconds(2), ConsumerCreateDelay = TimeSpan.FromSeconds(2) };
        var (a, aClient, _) = await NodeAsync(Delayed);
        var (b, bClient, _) = await NodeAsync(Delayed);
        RunnelServer? survivor = null;
        try
        {
            var leader = await LeaderOfAsync(a, b);
            var (follower, followerClient) = leader == a ? (b, bClient) : (a, aClient);
            survivor = follower;
            string stream = ServerFixture.UniqueName("takeover");
            await followerClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":2}""");
            string arn = (await followerClient.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
            await followerClient.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","ExplicitHashKey":"0","Data":"{{B64("before")}}"}""");
            await followerClient.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"reader"}""");
            await followerClient.OkAsync("MergeShards", $$"""{"StreamName":"{{stream}}","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}""");
            await leader.DisposeAsync(); // before the switch is due; the lease is released, the follower takes it
            await EventuallyAsync(async () => await StateAsync(followerClient, stream, arn) == ("ACTIVE", 3, "ACTIVE"), "the new leader makes the switch and activates the consumer");
            Assert.True(follower.Leads);
            var shards = (await followerClient.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Shards").EnumerateArray().ToList();
            Assert.True(shards[0].GetProperty("SequenceNumberRange").TryGetProperty("EndingSequenceNumber", out _), "the parents are closed");
            Assert.Equal("shardId-000000000000", shards[2].GetProperty("ParentShardId").GetString());
            var put = await followerClient.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("after")}}"}""");
            Assert.Equal("shardId-000000000002", put.GetProperty("ShardId").GetString());
            Assert.Equal(["before"], await ReadAllAsync(followerClient, stream));
            await followerClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}","EnforceConsumerDeletion":true}""");
        }
        finally
        {
            aClient.Dispose();
            bClient.Dispose();
            if (survivor is not null)
                await survivor.DisposeAsync();
            else
            {
                await a.DisposeAsync();
                await b.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 120000)]
    public async Task The_leader_deletes_the_logs_of_a_stream_whose_deletion_a_node_did_not_finish()
    {
        var (node, client, _) = await NodeAsync();
        await using var connection = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = nats.Cluster.Urls });
        var js = new NATS.Client.JetStream.NatsJSContext(connection);
        try
        {
            await LeaderOfAsync(node);
            string stream = ServerFixture.UniqueName("orphan");
            await client.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            await client.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("x")}}"}""");
            long id = node.Streams.Find(stream)!.Id;
            string log = Runnel.Storage.JetStream.JetStreamShardStore.StreamNameOf(id, 0);
            await js.GetStreamAsync(log); // the shard's log exists

            // A node that died after deleting the stream's metadata, before deleting its logs: the metadata goes, the log stays.
            using (var metadata = await Runnel.Storage.JetStream.JetStreamMetadataStore.OpenAsync(js, ClusterStorage.MetadataBucket, 3))
                metadata.Delete(id);
            await EventuallyAsync(async () => (await client.CallAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).Status == System.Net.HttpStatusCode.BadRequest,
                "the node hears of the deletion");
            await js.GetStreamAsync(log); // only forgotten by the node that heard of it

            Assert.Contains(id, node.SweepOrphans());
            var gone = await Assert.ThrowsAsync<NATS.Client.JetStream.NatsJSApiException>(async () => await js.GetStreamAsync(log));
            Assert.Equal(404, gone.Error.Code);

            // A stream that is stored keeps its logs.
            string kept = ServerFixture.UniqueName("kept");
            await client.OkAsync("CreateStream", $$"""{"StreamName":"{{kept}}","ShardCount":1}""");
            await client.OkAsync("PutRecord", $$"""{"StreamName":"{{kept}}","PartitionKey":"k","Data":"{{B64("y")}}"}""");
            Assert.DoesNotContain(node.Streams.Find(kept)!.Id, node.SweepOrphans());
            Assert.Equal(["y"], await ReadAllAsync(client, kept));
            await client.OkAsync("DeleteStream", $$"""{"StreamName":"{{kept}}"}""");
        }
        finally
        {
            client.Dispose();
            await node.DisposeAsync();
        }
    }

    [Fact(Timeout = 120000)]
    public async Task Two_nodes_resharding_one_stream_at_once_leave_every_open_shard_writable()
    {
        await using var nodes = await TwoNodesAsync();
        var (aClient, bClient) = (nodes.A, nodes.B);
        var half = System.Numerics.BigInteger.Pow(2, 127);
        string[] keys = ["0", (half - 1).ToString(), half.ToString(), (System.Numerics.BigInteger.Pow(2, 128) - 1).ToString()];
        for (int round = 0; round < 4; round++)
        {
            string stream = ServerFixture.UniqueName("reshard-race");
            await aClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":2}""");
            await EventuallyAsync(async () => (await bClient.CallAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).Status == System.Net.HttpStatusCode.OK,
                "the stream reaches the second node");
            // A splits the first shard while B merges it with the second: one plan is stored first; the other is
            // decided again on it (and refused, its shard being closed) or applied after it. A parent closed by the
            // losing plan would leave the stream with a shard that takes no writes.
            var results = await Task.WhenAll(
                aClient.CallAsync("SplitShard", $$"""{"StreamName":"{{stream}}","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"{{half / 2}}"}"""),
                bClient.CallAsync("MergeShards", $$"""{"StreamName":"{{stream}}","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}"""));
            Assert.Contains(results, r => r.Status == System.Net.HttpStatusCode.OK);
            foreach (var (status, body) in results.Where(r => r.Status != System.Net.HttpStatusCode.OK))
                Assert.True(body.GetProperty("__type").GetString() is "ResourceInUseException" or "InvalidArgumentException" or "LimitExceededException", $"round {round}: {body}");
            foreach (var client in new[] { aClient, bClient })
            {
                await EventuallyAsync(async () => (await client.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}"""))
                    .GetProperty("StreamDescriptionSummary").GetProperty("StreamStatus").GetString() == "ACTIVE", "the stream returns to ACTIVE");
                foreach (string key in keys)
                {
                    var (status, body) = await client.CallAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","ExplicitHashKey":"{{key}}","Data":"{{B64("r" + round)}}"}""");
                    Assert.True(status == System.Net.HttpStatusCode.OK, $"round {round}: a put at hash key {key} failed: {body}");
                }
            }
            await aClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
        }
    }
}
