using System.Net;
using System.Text.Json;
using Runnel.Server;

namespace Runnel.Server.Tests;

/// <summary>AWS's throughput limits, on by default, against a server whose clock the test moves.</summary>
public sealed class LimitTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-limits-" + Guid.NewGuid().ToString("N"));
    private RunnelServer _server = null!;
    private TestClient _client = null!;

    public async Task InitializeAsync()
    {
        // The scaler's own timer is pushed out of the way: the tests call ScaleOnce themselves.
        _server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = _dir, OnDemand = new() { Interval = TimeSpan.FromHours(1) } }, _ => { }, _clock);
        await _server.StartAsync();
        _client = new TestClient(_server.Url);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(string operation, string body) => _client.CallAsync(operation, body);

    private Task<JsonElement> OkAsync(string operation, string body) => _client.OkAsync(operation, body);

    [Fact(Timeout = 30000)]
    public async Task Put_records_fails_only_the_records_over_1000_per_second()
    {
        await OkAsync("CreateStream", """{"StreamName":"busy","ShardCount":1}""");
        var batch = string.Join(",", Enumerable.Range(0, 500).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"AA=="}"""));
        string request = $$"""{"StreamName":"busy","Records":[{{batch}}]}""";
        Assert.Equal(0, (await OkAsync("PutRecords", request)).GetProperty("FailedRecordCount").GetInt32());
        Assert.Equal(0, (await OkAsync("PutRecords", request)).GetProperty("FailedRecordCount").GetInt32());
        var third = await OkAsync("PutRecords", request);
        Assert.Equal(500, third.GetProperty("FailedRecordCount").GetInt32());
        var failed = third.GetProperty("Records")[0];
        Assert.Equal("ProvisionedThroughputExceededException", failed.GetProperty("ErrorCode").GetString());
        Assert.Equal("Rate exceeded for shard shardId-000000000000 in stream busy under account 000000000000.", failed.GetProperty("ErrorMessage").GetString());
        Assert.False(failed.TryGetProperty("SequenceNumber", out _));
        var (status, single) = await CallAsync("PutRecord", """{"StreamName":"busy","PartitionKey":"k","Data":"AA=="}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("ProvisionedThroughputExceededException", single.GetProperty("__type").GetString());

        _clock.Advance(TimeSpan.FromMilliseconds(300)); // 300 records' worth flows back in
        var partial = await OkAsync("PutRecords", request);
        Assert.Equal(200, partial.GetProperty("FailedRecordCount").GetInt32());
        Assert.True(partial.GetProperty("Records")[0].TryGetProperty("SequenceNumber", out _), "the first records of the batch pass");
    }

    [Fact(Timeout = 30000)]
    public async Task A_shard_takes_at_most_1_mib_per_second()
    {
        await OkAsync("CreateStream", """{"StreamName":"wide","ShardCount":1}""");
        string halfMiB = Convert.ToBase64String(new byte[512 * 1024 - 8]);
        await OkAsync("PutRecord", $$"""{"StreamName":"wide","PartitionKey":"k","Data":"{{halfMiB}}"}""");
        await OkAsync("PutRecord", $$"""{"StreamName":"wide","PartitionKey":"k","Data":"{{halfMiB}}"}""");
        var (status, _) = await CallAsync("PutRecord", $$"""{"StreamName":"wide","PartitionKey":"k","Data":"{{halfMiB}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await OkAsync("PutRecord", $$"""{"StreamName":"wide","PartitionKey":"k","Data":"{{halfMiB}}"}""");
    }

    [Fact(Timeout = 30000)]
    public async Task Get_records_allows_5_calls_per_second_per_shard_and_a_large_read_holds_back_the_next_ones()
    {
        await OkAsync("CreateStream", """{"StreamName":"read","ShardCount":1}""");
        string iterator = (await OkAsync("GetShardIterator", """{"StreamName":"read","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        for (int i = 0; i < 5; i++)
            await OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
        var (status, error) = await CallAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("ProvisionedThroughputExceededException", error.GetProperty("__type").GetString());
        Assert.Equal("Rate exceeded for stream read under account 000000000000.", error.GetProperty("message").GetString());

        // 6 MiB written over 6 seconds, then read in one call: at 2 MiB/s the reads after it wait 3 s.
        string mib = Convert.ToBase64String(new byte[1024 * 1024 - 8]);
        for (int i = 0; i < 6; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await OkAsync("PutRecord", $$"""{"StreamName":"read","PartitionKey":"k","Data":"{{mib}}"}""");
        }
        var page = await OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
        Assert.Equal(6, page.GetProperty("Records").GetArrayLength());
        _clock.Advance(TimeSpan.FromSeconds(2.9));
        Assert.Equal(HttpStatusCode.BadRequest, (await CallAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).Status);
        _clock.Advance(TimeSpan.FromSeconds(0.2));
        await OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
    }

    [Fact(Timeout = 30000)]
    public async Task Describe_stream_is_limited_to_10_calls_per_second_per_account()
    {
        await OkAsync("CreateStream", """{"StreamName":"described","ShardCount":1}""");
        for (int i = 0; i < 10; i++)
            await OkAsync("DescribeStream", """{"StreamName":"described"}""");
        var (status, error) = await CallAsync("DescribeStream", """{"StreamName":"described"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("LimitExceededException", error.GetProperty("__type").GetString());
        Assert.Equal("Rate exceeded for stream described under account 000000000000.", error.GetProperty("message").GetString());
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        await OkAsync("DescribeStream", """{"StreamName":"described"}""");
    }

    [Fact(Timeout = 60000)]
    public async Task An_on_demand_stream_under_load_splits_its_hot_shard_and_keeps_the_order()
    {
        await OkAsync("CreateStream", """{"StreamName":"elastic","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}""");
        var before = (await OkAsync("ListShards", """{"StreamName":"elastic"}""")).GetProperty("Shards").GetArrayLength();
        Assert.Equal(4, before);
        Assert.Equal(0, _server.Scaler.ScaleOnce()); // the first look only takes a sample

        // One hot key: 900 records a second for 3 seconds into one shard (90% of its 1,000/s).
        for (int second = 0; second < 3; second++)
        {
            for (int half = 0; half < 2; half++)
            {
                int first = second * 1000 + half * 500;
                var records = string.Join(",", Enumerable.Range(first, 450).Select(v => $$"""{"PartitionKey":"hot","Data":"{{Convert.ToBase64String(BitConverter.GetBytes(v))}}"}"""));
                var put = await OkAsync("PutRecords", $$"""{"StreamName":"elastic","Records":[{{records}}]}""");
                Assert.Equal(0, put.GetProperty("FailedRecordCount").GetInt32());
                _clock.Advance(TimeSpan.FromMilliseconds(500));
            }
        }
        Assert.Equal(1, _server.Scaler.ScaleOnce());
        var shards = (await OkAsync("ListShards", """{"StreamName":"elastic"}""")).GetProperty("Shards").EnumerateArray().ToList();
        Assert.Equal(6, shards.Count);
        var children = shards.Where(s => s.TryGetProperty("ParentShardId", out _)).ToList();
        Assert.Equal(2, children.Count);
        string parent = children[0].GetProperty("ParentShardId").GetString()!;
        Assert.Equal(0, _server.Scaler.ScaleOnce()); // cooling down

        // The hot key's records: all in the parent, in order, then the child continues.
        _clock.Advance(TimeSpan.FromSeconds(10));
        string it = (await OkAsync("GetShardIterator", $$"""{"StreamName":"elastic","ShardId":"{{parent}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        var page = await OkAsync("GetRecords", $$"""{"ShardIterator":"{{it}}"}""");
        var values = page.GetProperty("Records").EnumerateArray().Select(r => BitConverter.ToInt32(r.GetProperty("Data").GetBytesFromBase64())).ToList();
        Assert.Equal(2700, values.Count);
        Assert.Equal(values.Order(), values);
        Assert.True(page.TryGetProperty("ChildShards", out var childShards));
        Assert.Equal(2, childShards.GetArrayLength());

        // Then the load stops: after a quiet quarter of an hour the stream merges back, never below 4.
        for (int round = 0; round < 4; round++)
        {
            _clock.Advance(TimeSpan.FromMinutes(16));
            _server.Scaler.ScaleOnce();
        }
        var open = (await OkAsync("ListShards", """{"StreamName":"elastic","ShardFilter":{"Type":"AT_LATEST"}}""")).GetProperty("Shards");
        Assert.Equal(4, open.GetArrayLength());
    }
}
