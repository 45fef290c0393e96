using System.Net;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

public class ReshardTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static string B64(string s) => ServerFixture.B64(s);

    private Task<string> CreateAsync(int shards) => server.CreateStreamAsync("rs", shards);

    private async Task<List<JsonElement>> ShardsAsync(string stream, string filter = "") =>
        (await server.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"{{filter}}}""")).GetProperty("Shards").EnumerateArray().ToList();

    private async Task PutAsync(string stream, string key, string value) =>
        await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"{{key}}","Data":"{{B64(value)}}"}""");

    /// <summary>Reads a shard to its end (closed) or its tip (open); returns the values and the ChildShards seen.</summary>
    private async Task<(List<string> Values, List<string> Children)> ReadShardAsync(string stream, string shardId)
    {
        string? iterator = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"{{shardId}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString();
        var values = new List<string>();
        var children = new List<string>();
        for (int i = 0; i < 20 && iterator is not null; i++)
        {
            var page = await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
            foreach (var rec in page.GetProperty("Records").EnumerateArray())
                values.Add(Encoding.UTF8.GetString(rec.GetProperty("Data").GetBytesFromBase64()));
            if (page.TryGetProperty("ChildShards", out var childShards))
                children.AddRange(childShards.EnumerateArray().Select(c => c.GetProperty("ShardId").GetString()!));
            iterator = page.TryGetProperty("NextShardIterator", out var next) ? next.GetString() : null;
            if (iterator is not null && page.GetProperty("Records").GetArrayLength() == 0 && page.GetProperty("MillisBehindLatest").GetInt64() == 0)
                break;
        }
        return (values, children);
    }

    [Fact(Timeout = 30000)]
    public async Task Split_closes_the_parent_and_children_continue_the_key_order()
    {
        string stream = await CreateAsync(1);
        for (int i = 0; i < 5; i++)
            await PutAsync(stream, "k", $"before-{i}");
        string middle = (BigInteger.One << 127).ToString();
        await server.OkAsync("SplitShard", $$"""{"StreamName":"{{stream}}","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"{{middle}}"}""");
        for (int i = 0; i < 5; i++)
            await PutAsync(stream, "k", $"after-{i}");

        var shards = await ShardsAsync(stream);
        Assert.Equal(3, shards.Count);
        var parent = shards[0];
        Assert.True(parent.GetProperty("SequenceNumberRange").TryGetProperty("EndingSequenceNumber", out var ending));
        var children = shards.Skip(1).ToList();
        Assert.All(children, c => Assert.Equal("shardId-000000000000", c.GetProperty("ParentShardId").GetString()));
        Assert.Equal(middle, children[1].GetProperty("HashKeyRange").GetProperty("StartingHashKey").GetString());
        Assert.Equal((BigInteger.Parse(middle) - 1).ToString(), children[0].GetProperty("HashKeyRange").GetProperty("EndingHashKey").GetString());
        foreach (var child in children)
            Assert.True(BigInteger.Parse(child.GetProperty("SequenceNumberRange").GetProperty("StartingSequenceNumber").GetString()!) > BigInteger.Parse(ending.GetString()!));

        var (parentValues, childIds) = await ReadShardAsync(stream, "shardId-000000000000");
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"before-{i}"), parentValues);
        Assert.Equal(children.Select(c => c.GetProperty("ShardId").GetString()), childIds);
        var afterValues = new List<string>();
        foreach (var child in childIds)
            afterValues.AddRange((await ReadShardAsync(stream, child)).Values);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"after-{i}"), afterValues);

        var (status, again) = await server.CallAsync("SplitShard", $$"""{"StreamName":"{{stream}}","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"{{middle}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidArgumentException", again.GetProperty("__type").GetString());
        Assert.Contains("has already been merged or split", again.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Merge_needs_adjacent_shards_and_records_one_child_with_two_parents()
    {
        string stream = await CreateAsync(3);
        var (status, error) = await server.CallAsync("MergeShards", $$"""{"StreamName":"{{stream}}","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000002"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal($"Shards shardId-000000000000 and shardId-000000000002 in stream {stream} under account 000000000000 are not an adjacent pair of shards eligible for merging", error.GetProperty("message").GetString());
        await server.OkAsync("MergeShards", $$"""{"StreamName":"{{stream}}","ShardToMerge":"shardId-000000000001","AdjacentShardToMerge":"shardId-000000000002"}""");
        var open = await ShardsAsync(stream, ""","ShardFilter":{"Type":"AT_LATEST"}""");
        Assert.Equal(["shardId-000000000000", "shardId-000000000003"], open.Select(s => s.GetProperty("ShardId").GetString()));
        var child = open[1];
        Assert.Equal("shardId-000000000001", child.GetProperty("ParentShardId").GetString());
        Assert.Equal("shardId-000000000002", child.GetProperty("AdjacentParentShardId").GetString());
        Assert.Equal("340282366920938463463374607431768211455", child.GetProperty("HashKeyRange").GetProperty("EndingHashKey").GetString());
        var (missing, notFound) = await server.CallAsync("MergeShards", $$"""{"StreamName":"{{stream}}","ShardToMerge":"shardId-000000000009","AdjacentShardToMerge":"shardId-000000000003"}""");
        Assert.Equal($"Could not find shard shardId-000000000009 in stream {stream} under account 000000000000.", notFound.GetProperty("message").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task Scaling_2_to_4_to_2_keeps_every_record_in_key_order()
    {
        string stream = await CreateAsync(2);
        var expected = new List<string>();
        async Task PutRoundAsync(string round)
        {
            for (int i = 0; i < 10; i++)
            {
                await PutAsync(stream, "one-key", $"{round}-{i}");
                expected.Add($"{round}-{i}");
            }
        }
        await PutRoundAsync("a");
        var up = await server.OkAsync("UpdateShardCount", $$"""{"StreamName":"{{stream}}","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}""");
        Assert.Equal(2, up.GetProperty("CurrentShardCount").GetInt32());
        Assert.Equal(4, up.GetProperty("TargetShardCount").GetInt32());
        await PutRoundAsync("b");
        Assert.Equal(4, (await ShardsAsync(stream, ""","ShardFilter":{"Type":"AT_LATEST"}""")).Count);
        await server.OkAsync("UpdateShardCount", $$"""{"StreamName":"{{stream}}","TargetShardCount":2,"ScalingType":"UNIFORM_SCALING"}""");
        await PutRoundAsync("c");
        var open = await ShardsAsync(stream, ""","ShardFilter":{"Type":"AT_LATEST"}""");
        Assert.Equal(2, open.Count);
        Assert.All(open, s => Assert.True(s.TryGetProperty("AdjacentParentShardId", out _)));

        // Follow the lineage from the roots, parents before children, as a KCL worker does.
        var all = await ShardsAsync(stream);
        var done = new HashSet<string>();
        var seen = new List<string>();
        var ready = new Queue<string>(all.Where(s => !s.TryGetProperty("ParentShardId", out _)).Select(s => s.GetProperty("ShardId").GetString()!));
        while (ready.Count > 0)
        {
            string shard = ready.Dequeue();
            if (!done.Add(shard))
                continue;
            var (values, children) = await ReadShardAsync(stream, shard);
            seen.AddRange(values);
            foreach (string child in children)
            {
                var info = all.Single(s => s.GetProperty("ShardId").GetString() == child);
                bool parentsDone = new[] { "ParentShardId", "AdjacentParentShardId" }
                    .All(p => !info.TryGetProperty(p, out var id) || done.Contains(id.GetString()!));
                if (parentsDone)
                    ready.Enqueue(child);
            }
        }
        Assert.Equal(expected, seen); // one key: one total order, nothing lost, nothing twice
        var (limited, tooMuch) = await server.CallAsync("UpdateShardCount", $$"""{"StreamName":"{{stream}}","TargetShardCount":5,"ScalingType":"UNIFORM_SCALING"}""");
        Assert.Equal("LimitExceededException", tooMuch.GetProperty("__type").GetString());
        Assert.Equal("UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2, Target shard count: 5", tooMuch.GetProperty("message").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task Writers_racing_a_split_lose_and_duplicate_nothing()
    {
        string stream = await CreateAsync(1);
        int written = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            int n = 0;
            while (!stop.IsCancellationRequested && n < 200)
            {
                await PutAsync(stream, $"w{w}", $"w{w}-{n++}");
                Interlocked.Increment(ref written);
            }
        })).ToList();
        while (Volatile.Read(ref written) < 50)
            await Task.Delay(5);
        await server.OkAsync("SplitShard", $$"""{"StreamName":"{{stream}}","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"{{BigInteger.One << 127}}"}""");
        await Task.Delay(50);
        stop.Cancel();
        await Task.WhenAll(writers);

        var values = new List<string>();
        foreach (var shard in await ShardsAsync(stream))
            values.AddRange((await ReadShardAsync(stream, shard.GetProperty("ShardId").GetString()!)).Values);
        Assert.Equal(written, values.Count);
        Assert.Equal(values.Count, values.Distinct().Count());
    }

    [Fact(Timeout = 30000)]
    public async Task On_demand_streams_refuse_manual_resharding()
    {
        string name = ServerFixture.UniqueName("od");
        await server.OkAsync("CreateStream", $$$"""{"StreamName":"{{{name}}}","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}""");
        var (status, error) = await server.CallAsync("UpdateShardCount", $$"""{"StreamName":"{{name}}","TargetShardCount":8,"ScalingType":"UNIFORM_SCALING"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("ValidationException", error.GetProperty("__type").GetString());
        string arn = $"arn:aws:kinesis:us-east-1:000000000000:stream/{name}";
        await server.OkAsync("UpdateStreamMode", $$$"""{"StreamARN":"{{{arn}}}","StreamModeDetails":{"StreamMode":"PROVISIONED"}}""");
        var summary = (await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{name}}"}""")).GetProperty("StreamDescriptionSummary");
        Assert.Equal("PROVISIONED", summary.GetProperty("StreamModeDetails").GetProperty("StreamMode").GetString());
        await server.OkAsync("UpdateShardCount", $$"""{"StreamName":"{{name}}","TargetShardCount":8,"ScalingType":"UNIFORM_SCALING"}""");
    }
}
