using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// The record distribution strategy: with AUTO (on-demand streams only) the partition key is optional and
/// ignored, the server deals the records out over the least loaded shards; USER_PARTITION_KEY is the default.
/// </summary>
public class RecordDistributionTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Account = "000000000000";

    private static string Arn(string stream) => $"arn:aws:kinesis:us-east-1:{Account}:stream/{stream}";

    private async Task<string> OnDemandAsync(string prefix, string strategy = "")
    {
        string name = ServerFixture.UniqueName(prefix);
        string extra = strategy.Length == 0 ? "" : $",\"RecordDistributionStrategy\":\"{strategy}\"";
        await server.OkAsync("CreateStream", $$"""{"StreamName":"{{name}}","StreamModeDetails":{"StreamMode":"ON_DEMAND"}{{extra}}}""");
        return name;
    }

    private async Task<JsonElement> SummaryAsync(string stream) =>
        (await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary");

    private async Task<List<JsonElement>> ReadAsync(string stream, string shard)
    {
        string iterator = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"{{shard}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        return (await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records").EnumerateArray().ToList();
    }

    [Fact(Timeout = 30000)]
    public async Task AUTO_takes_records_without_keys_and_deals_them_out_over_the_shards()
    {
        string stream = await OnDemandAsync("auto", "AUTO");
        Assert.Equal("AUTO", (await SummaryAsync(stream)).GetProperty("RecordDistributionStrategy").GetString());
        string batch = string.Join(",", Enumerable.Range(0, 400).Select(i => i % 2 == 0
            ? $$"""{"Data":"{{ServerFixture.B64("r" + i)}}"}"""
            : $$"""{"Data":"{{ServerFixture.B64("r" + i)}}","PartitionKey":"same","ExplicitHashKey":"0"}"""));
        var put = await server.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{{batch}}]}""");
        Assert.Equal(0, put.GetProperty("FailedRecordCount").GetInt32());
        var one = await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","Data":"{{ServerFixture.B64("single")}}"}""");
        Assert.StartsWith("shardId-", one.GetProperty("ShardId").GetString(), StringComparison.Ordinal);

        // The same key and hash key on every other record did not pin them to one shard: each shard got a fair share.
        var perShard = new List<List<JsonElement>>();
        for (int i = 0; i < 4; i++)
            perShard.Add(await ReadAsync(stream, $"shardId-00000000000{i}"));
        Assert.Equal(401, perShard.Sum(s => s.Count));
        Assert.All(perShard, s => Assert.InRange(s.Count, 80, 121)); // balanced by load (bytes), so counts vary a little
        var records = perShard.SelectMany(s => s).ToList();
        Assert.Equal(200, records.Count(r => r.TryGetProperty("PartitionKey", out var k) && k.GetString() == "same")); // a key given is returned
        Assert.Equal(201, records.Count(r => !r.TryGetProperty("PartitionKey", out _))); // none given, none returned

        Assert.Equal($"SequenceNumberForOrdering is not supported on stream {stream} under account {Account} because it uses the AUTO record distribution strategy.",
            await server.ErrorMessageAsync("PutRecord", $$"""{"StreamName":"{{stream}}","Data":"","SequenceNumberForOrdering":"1"}""", "InvalidArgumentException"));
    }

    [Fact(Timeout = 30000)]
    public async Task Without_AUTO_a_partition_key_is_required_as_before()
    {
        string stream = await OnDemandAsync("userkey");
        Assert.Equal("USER_PARTITION_KEY", (await SummaryAsync(stream)).GetProperty("RecordDistributionStrategy").GetString());
        Assert.Equal("1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null",
            await server.ErrorMessageAsync("PutRecord", $$"""{"StreamName":"{{stream}}","Data":""}""", "ValidationException"));
        Assert.Equal("1 validation error detected: Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null",
            await server.ErrorMessageAsync("PutRecords", $$"""{"StreamARN":"{{Arn(stream)}}","Records":[{"Data":""}]}""", "ValidationException"));
        // A stream that does not exist is still reported as such, after the key.
        Assert.Equal("1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null",
            await server.ErrorMessageAsync("PutRecord", """{"StreamName":"no-such-stream","Data":""}""", "ValidationException"));
    }

    [Fact(Timeout = 30000)]
    public async Task The_strategy_changes_at_once_on_demand_only()
    {
        string stream = await OnDemandAsync("switch");
        await server.OkAsync("UpdateStreamRecordDistributionStrategy", $$"""{"StreamARN":"{{Arn(stream)}}","RecordDistributionStrategy":"AUTO"}""");
        var summary = await SummaryAsync(stream);
        Assert.Equal(("AUTO", "ACTIVE"), (summary.GetProperty("RecordDistributionStrategy").GetString(), summary.GetProperty("StreamStatus").GetString()));
        await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","Data":""}""");
        Assert.Contains("uses the AUTO record distribution strategy",
            await server.ErrorMessageAsync("UpdateStreamMode", $$$"""{"StreamARN":"{{{Arn(stream)}}}","StreamModeDetails":{"StreamMode":"PROVISIONED"}}""", "InvalidArgumentException"), StringComparison.Ordinal);
        await server.OkAsync("UpdateStreamRecordDistributionStrategy", $$"""{"StreamARN":"{{Arn(stream)}}","RecordDistributionStrategy":"USER_PARTITION_KEY"}""");
        await server.ErrorMessageAsync("PutRecord", $$"""{"StreamName":"{{stream}}","Data":""}""", "ValidationException");

        string provisioned = await server.CreateStreamAsync("prov", 1);
        Assert.False((await SummaryAsync(provisioned)).TryGetProperty("RecordDistributionStrategy", out _));
        Assert.Equal($"The AUTO record distribution strategy is only supported for streams in ON_DEMAND mode. Stream {provisioned} under account {Account} is in PROVISIONED mode.",
            await server.ErrorMessageAsync("UpdateStreamRecordDistributionStrategy", $$"""{"StreamARN":"{{Arn(provisioned)}}","RecordDistributionStrategy":"AUTO"}""", "InvalidArgumentException"));
        string name = ServerFixture.UniqueName("provauto");
        Assert.Contains("only supported for streams in ON_DEMAND mode",
            await server.ErrorMessageAsync("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":1,"RecordDistributionStrategy":"AUTO"}""", "InvalidArgumentException"), StringComparison.Ordinal);
        Assert.Equal("1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null",
            await server.ErrorMessageAsync("UpdateStreamRecordDistributionStrategy", """{"RecordDistributionStrategy":"AUTO"}""", "ValidationException"));
    }
}
