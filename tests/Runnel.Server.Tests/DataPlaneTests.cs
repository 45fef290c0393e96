using System.Net;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Runnel.Server;

namespace Runnel.Server.Tests;

public class DataPlaneTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static string B64(string s) => ServerFixture.B64(s);

    private Task<string> CreateAsync(int shards) => server.CreateStreamAsync("dp", shards);

    private async Task<string> IteratorAsync(string stream, string shard, string type, string extra = "")
    {
        var json = await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"{{shard}}","ShardIteratorType":"{{type}}"{{extra}}}""");
        return json.GetProperty("ShardIterator").GetString()!;
    }

    private async Task<List<string>> ReadAllAsync(string iterator)
    {
        var values = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            var page = await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
            foreach (var r in page.GetProperty("Records").EnumerateArray())
                values.Add(Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64()));
            iterator = page.GetProperty("NextShardIterator").GetString()!;
            if (page.GetProperty("MillisBehindLatest").GetInt64() == 0 && page.GetProperty("Records").GetArrayLength() == 0)
                break;
        }
        return values;
    }

    [Fact(Timeout = 30000)]
    public async Task Records_route_by_md5_of_the_partition_key_or_the_explicit_hash_key()
    {
        string stream = await CreateAsync(4);
        var shards = (await server.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Shards").EnumerateArray().ToList();
        foreach (string key in new[] { "a", "b", "customer-17", "ключ" })
        {
            var put = await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"{{key}}","Data":"{{B64(key)}}"}""");
            var hash = new BigInteger(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes(key)), isUnsigned: true, isBigEndian: true);
            var owner = shards.Single(s => BigInteger.Parse(s.GetProperty("HashKeyRange").GetProperty("StartingHashKey").GetString()!) <= hash
                && hash <= BigInteger.Parse(s.GetProperty("HashKeyRange").GetProperty("EndingHashKey").GetString()!));
            Assert.Equal(owner.GetProperty("ShardId").GetString(), put.GetProperty("ShardId").GetString());
        }
        var explicitPut = await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"a","ExplicitHashKey":"340282366920938463463374607431768211455","Data":""}""");
        Assert.Equal("shardId-000000000003", explicitPut.GetProperty("ShardId").GetString());
        var (status, error) = await server.CallAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"a","ExplicitHashKey":"340282366920938463463374607431768211456","Data":""}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456", error.GetProperty("message").GetString());
    }

    [Fact(Timeout = 30000)]
    public async Task Every_iterator_type_starts_where_aws_says()
    {
        string stream = await CreateAsync(1);
        const string shard = "shardId-000000000000";
        var sequences = new List<string>();
        for (int i = 0; i < 5; i++)
            sequences.Add((await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64($"r{i}")}}"}""")).GetProperty("SequenceNumber").GetString()!);
        for (int i = 1; i < sequences.Count; i++)
            Assert.True(BigInteger.Parse(sequences[i]) > BigInteger.Parse(sequences[i - 1]));

        Assert.Equal(["r0", "r1", "r2", "r3", "r4"], await ReadAllAsync(await IteratorAsync(stream, shard, "TRIM_HORIZON")));
        Assert.Equal(["r2", "r3", "r4"], await ReadAllAsync(await IteratorAsync(stream, shard, "AT_SEQUENCE_NUMBER", $$""","StartingSequenceNumber":"{{sequences[2]}}" """)));
        Assert.Equal(["r3", "r4"], await ReadAllAsync(await IteratorAsync(stream, shard, "AFTER_SEQUENCE_NUMBER", $$""","StartingSequenceNumber":"{{sequences[2]}}" """)));
        string start = (await server.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Shards")[0].GetProperty("SequenceNumberRange").GetProperty("StartingSequenceNumber").GetString()!;
        Assert.True(BigInteger.Parse(start) < BigInteger.Parse(sequences[0]), "the shard starts below its first record");
        Assert.Equal(5, (await ReadAllAsync(await IteratorAsync(stream, shard, "AFTER_SEQUENCE_NUMBER", $$""","StartingSequenceNumber":"{{start}}" """))).Count);
        Assert.Equal(5, (await ReadAllAsync(await IteratorAsync(stream, shard, "AT_SEQUENCE_NUMBER", $$""","StartingSequenceNumber":"{{start}}" """))).Count);
        string latest = await IteratorAsync(stream, shard, "LATEST");
        Assert.Empty(await ReadAllAsync(latest));
        await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("r5")}}"}""");
        Assert.Equal(["r5"], await ReadAllAsync(latest));
        double past = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds() / 1000.0;
        Assert.Equal(6, (await ReadAllAsync(await IteratorAsync(stream, shard, "AT_TIMESTAMP", $$""","Timestamp":{{past}}"""))).Count);
        // A record that arrived in the very millisecond taken as "now" is at-or-after it: let that millisecond pass.
        await Task.Delay(5);
        double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        Assert.Empty(await ReadAllAsync(await IteratorAsync(stream, shard, "AT_TIMESTAMP", $$""","Timestamp":{{now}}""")));
    }

    [Fact(Timeout = 30000)]
    public async Task Put_records_answers_per_record_in_request_order()
    {
        string stream = await CreateAsync(3);
        var records = string.Join(",", Enumerable.Range(0, 500).Select(i => $$"""{"PartitionKey":"pk{{i}}","Data":"{{B64($"v{i}")}}"}"""));
        var result = await server.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{{records}}]}""");
        Assert.Equal(0, result.GetProperty("FailedRecordCount").GetInt32());
        var entries = result.GetProperty("Records").EnumerateArray().ToList();
        Assert.Equal(500, entries.Count);
        Assert.Equal(500, entries.Select(e => e.GetProperty("SequenceNumber").GetString()).Distinct().Count());
        foreach (var group in entries.GroupBy(e => e.GetProperty("ShardId").GetString()))
        {
            var seqs = group.Select(e => BigInteger.Parse(e.GetProperty("SequenceNumber").GetString()!)).ToList();
            Assert.Equal(seqs.OrderBy(s => s), seqs); // request order within a shard
        }
        int total = 0;
        foreach (var shard in new[] { "shardId-000000000000", "shardId-000000000001", "shardId-000000000002" })
            total += (await ReadAllAsync(await IteratorAsync(stream, shard, "TRIM_HORIZON"))).Count;
        Assert.Equal(500, total);
    }

    [Fact(Timeout = 30000)]
    public async Task Get_shard_iterator_rejects_foreign_sequence_numbers_with_awss_messages()
    {
        string stream = await CreateAsync(2);
        string seq = (await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","ExplicitHashKey":"0","Data":""}""")).GetProperty("SequenceNumber").GetString()!;
        var (_, wrongShard) = await server.CallAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000001","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"{{seq}}"}""");
        Assert.Equal("Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in a call to a shard with shardId-000000000001", wrongShard.GetProperty("message").GetString());
        var (_, missing) = await server.CallAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER"}""");
        Assert.Equal("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.", missing.GetProperty("message").GetString());
        var (_, noShard) = await server.CallAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000009","ShardIteratorType":"LATEST"}""");
        Assert.Equal($"Shard shardId-000000000009 in stream {stream} under account 000000000000 does not exist", noShard.GetProperty("message").GetString());
        var (_, badShard) = await server.CallAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"ABKLFD8","ShardIteratorType":"LATEST"}""");
        Assert.Equal($"Could not find shard ABKLFD8 in stream {stream} under account 000000000000.", badShard.GetProperty("message").GetString());
        var (_, badIterator) = await server.CallAsync("GetRecords", """{"ShardIterator":"AAAAAAAAAAAbogus"}""");
        Assert.Equal("InvalidArgumentException", badIterator.GetProperty("__type").GetString());
        Assert.Equal("Invalid ShardIterator.", badIterator.GetProperty("message").GetString());
    }

    /// <summary>
    /// Rounds of a delete landing among writes at a different moment each: a PutRecords that routed before the delete
    /// once opened a shard's log again after it, and the delete (or the put) answered 500, about one round in a hundred.
    /// </summary>
    [Fact(Timeout = 60000)]
    public async Task Deleting_a_stream_under_writes_answers_them_ok_or_not_found_never_500()
    {
        var statuses = new System.Collections.Concurrent.ConcurrentBag<string>();
        for (int round = 0; round < 20; round++)
        {
            string stream = await CreateAsync(2);
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (int i = 0; i < 500 && !stop.IsCancellationRequested; i++)
                {
                    var (status, body) = await server.CallAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{"PartitionKey":"a{{i}}","Data":""},{"PartitionKey":"b{{i}}","Data":""}]}""");
                    statuses.Add(status == HttpStatusCode.OK ? "ok" : body.GetProperty("__type").GetString()!);
                }
            })).ToList();
            await Task.Delay(round % 2 == 0 ? 100 : 5 + round);
            await server.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
            await Task.Delay(50);
            stop.Cancel();
            await Task.WhenAll(writers);
        }
        Assert.All(statuses, s => Assert.True(s is "ok" or "ResourceNotFoundException", s));
        Assert.Contains("ResourceNotFoundException", statuses);
        Assert.Contains("ok", statuses);
    }

    [Fact(Timeout = 30000)]
    public async Task A_huge_shard_count_is_refused_by_the_shard_limit_not_attempted()
    {
        await CreateAsync(1); // an open shard already, so that open + requested would overflow an int
        var (status, error) = await server.CallAsync("CreateStream", """{"StreamName":"enormous","ShardCount":2147483647}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("LimitExceededException", error.GetProperty("__type").GetString());
        Assert.Contains("Number of additional shards that would have resulted from this request: 2147483647.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Writes_to_a_missing_stream_are_not_found()
    {
        var (status, error) = await server.CallAsync("PutRecord", """{"StreamName":"no-such-stream","PartitionKey":"k","Data":""}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("ResourceNotFoundException", error.GetProperty("__type").GetString());
        Assert.Equal("Stream no-such-stream under account 000000000000 not found.", error.GetProperty("message").GetString());
    }
}

/// <summary>Tests that need a server of their own: restarts and a moving clock.</summary>
public class LifecycleTests
{
    [Fact(Timeout = 60000)]
    public async Task A_restart_keeps_streams_shards_tags_retention_and_records()
    {
        string dir = Path.Combine(Path.GetTempPath(), "runnel-restart-" + Guid.NewGuid().ToString("N"));
        try
        {
            string iteratorBefore;
            await using (var first = await StartAsync(dir))
            {
                await first.OkAsync("CreateStream", """{"StreamName":"kept","ShardCount":2,"Tags":{"team":"data"}}""");
                await first.OkAsync("IncreaseStreamRetentionPeriod", """{"StreamName":"kept","RetentionPeriodHours":48}""");
                for (int i = 0; i < 50; i++)
                    await first.OkAsync("PutRecord", $$"""{"StreamName":"kept","PartitionKey":"k{{i}}","Data":"{{Convert.ToBase64String(BitConverter.GetBytes(i))}}"}""");
                iteratorBefore = (await first.OkAsync("GetShardIterator", """{"StreamName":"kept","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
            }
            await using var second = await StartAsync(dir);
            var description = (await second.OkAsync("DescribeStream", """{"StreamName":"kept"}""")).GetProperty("StreamDescription");
            Assert.Equal(48, description.GetProperty("RetentionPeriodHours").GetInt32());
            Assert.Equal(2, description.GetProperty("Shards").GetArrayLength());
            var tags = await second.OkAsync("ListTagsForStream", """{"StreamName":"kept"}""");
            Assert.Equal("data", tags.GetProperty("Tags")[0].GetProperty("Value").GetString());
            int count = 0;
            foreach (string shard in new[] { "shardId-000000000000", "shardId-000000000001" })
            {
                string it = (await second.OkAsync("GetShardIterator", $$"""{"StreamName":"kept","ShardId":"{{shard}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
                count += (await second.OkAsync("GetRecords", $$"""{"ShardIterator":"{{it}}"}""")).GetProperty("Records").GetArrayLength();
            }
            Assert.Equal(50, count);
            // Iterators are signed with a key kept in the data directory, so they survive the restart.
            Assert.True((await second.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iteratorBefore}}"}""")).GetProperty("Records").GetArrayLength() > 0);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Iterators_expire_after_five_minutes_with_awss_message()
    {
        var clock = new ManualClock();
        string dir = Path.Combine(Path.GetTempPath(), "runnel-clock-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await StartAsync(dir, clock);
            await server.OkAsync("CreateStream", """{"StreamName":"ticking","ShardCount":1}""");
            string it = (await server.OkAsync("GetShardIterator", """{"StreamName":"ticking","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}""")).GetProperty("ShardIterator").GetString()!;
            clock.Advance(TimeSpan.FromMinutes(4));
            await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{it}}"}""");
            clock.Advance(TimeSpan.FromMinutes(1.1));
            var (status, error) = await server.CallAsync("GetRecords", $$"""{"ShardIterator":"{{it}}"}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("ExpiredIteratorException", error.GetProperty("__type").GetString());
            Assert.Matches(@"^Iterator expired\. The iterator was created at time \w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4} while right now it is \w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4} which is further in the future than the tolerated delay of 300000 milliseconds\.$", error.GetProperty("message").GetString());
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Streams_pass_through_creating_and_deleting_with_the_configured_delays()
    {
        var clock = new ManualClock();
        string dir = Path.Combine(Path.GetTempPath(), "runnel-delay-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await StartAsync(dir, clock, new RunnelOptions { CreateStreamDelay = TimeSpan.FromSeconds(5), DeleteStreamDelay = TimeSpan.FromSeconds(5) });
            await server.OkAsync("CreateStream", """{"StreamName":"slow","ShardCount":1}""");
            var creating = (await server.OkAsync("DescribeStream", """{"StreamName":"slow"}""")).GetProperty("StreamDescription");
            Assert.Equal("CREATING", creating.GetProperty("StreamStatus").GetString());
            Assert.Equal(0, creating.GetProperty("Shards").GetArrayLength());
            var (_, notYet) = await server.CallAsync("PutRecord", """{"StreamName":"slow","PartitionKey":"k","Data":""}""");
            Assert.Equal("ResourceNotFoundException", notYet.GetProperty("__type").GetString());
            clock.Advance(TimeSpan.FromSeconds(6));
            Assert.Equal("ACTIVE", (await server.OkAsync("DescribeStream", """{"StreamName":"slow"}""")).GetProperty("StreamDescription").GetProperty("StreamStatus").GetString());
            await server.OkAsync("DeleteStream", """{"StreamName":"slow"}""");
            Assert.Equal("DELETING", (await server.OkAsync("DescribeStream", """{"StreamName":"slow"}""")).GetProperty("StreamDescription").GetProperty("StreamStatus").GetString());
            var (_, exists) = await server.CallAsync("CreateStream", """{"StreamName":"slow","ShardCount":1}""");
            Assert.Equal("ResourceInUseException", exists.GetProperty("__type").GetString());
            clock.Advance(TimeSpan.FromSeconds(6));
            var (status, gone) = await server.CallAsync("DescribeStream", """{"StreamName":"slow"}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("ResourceNotFoundException", gone.GetProperty("__type").GetString());
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<int> CountAsync(StartedServer server, List<JsonElement> shards)
    {
        int total = 0;
        foreach (var shard in shards)
        {
            string id = shard.GetProperty("ShardId").GetString()!;
            string it = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"moving","ShardId":"{{id}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
            total += (await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{it}}"}""")).GetProperty("Records").GetArrayLength();
        }
        return total;
    }

    [Fact(Timeout = 60000)]
    public async Task A_split_takes_effect_when_the_stream_returns_to_ACTIVE_as_AWS_shows_it()
    {
        var clock = new ManualClock();
        string dir = Path.Combine(Path.GetTempPath(), "runnel-reshard-visible-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await StartAsync(dir, clock, new RunnelOptions { UpdateStreamDelay = TimeSpan.FromSeconds(30), Limits = Runnel.Core.Throughput.ThroughputLimits.Off });
            await server.OkAsync("CreateStream", """{"StreamName":"moving","ShardCount":1}""");
            await server.OkAsync("SplitShard", """{"StreamName":"moving","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"170141183460469231731687303715884105728"}""");

            // UPDATING: the parent alone, open, and it takes the writes of both halves.
            var listed = (await server.OkAsync("ListShards", """{"StreamName":"moving"}""")).GetProperty("Shards").EnumerateArray().ToList();
            Assert.Equal(["shardId-000000000000"], listed.Select(s => s.GetProperty("ShardId").GetString()));
            Assert.False(listed[0].GetProperty("SequenceNumberRange").TryGetProperty("EndingSequenceNumber", out _));
            string last = "";
            foreach (string hashKey in new[] { "0", "340282366920938463463374607431768211455" })
            {
                var put = await server.OkAsync("PutRecord", $$"""{"StreamName":"moving","PartitionKey":"k","ExplicitHashKey":"{{hashKey}}","Data":""}""");
                Assert.Equal("shardId-000000000000", put.GetProperty("ShardId").GetString());
                last = put.GetProperty("SequenceNumber").GetString()!;
            }
            var (status, missing) = await server.CallAsync("GetShardIterator", """{"StreamName":"moving","ShardId":"shardId-000000000001","ShardIteratorType":"TRIM_HORIZON"}""");
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
            Assert.Equal("ResourceNotFoundException", missing.GetProperty("__type").GetString());

            // ACTIVE again: the children appear, the parent is closed above its last record and below them.
            clock.Advance(TimeSpan.FromSeconds(31));
            var shards = (await server.OkAsync("DescribeStream", """{"StreamName":"moving"}""")).GetProperty("StreamDescription").GetProperty("Shards").EnumerateArray().ToList();
            Assert.Equal(3, shards.Count);
            var parentEnd = System.Numerics.BigInteger.Parse(shards[0].GetProperty("SequenceNumberRange").GetProperty("EndingSequenceNumber").GetString()!);
            Assert.True(parentEnd >= System.Numerics.BigInteger.Parse(last));
            foreach (var child in shards.Skip(1))
            {
                Assert.Equal("shardId-000000000000", child.GetProperty("ParentShardId").GetString());
                Assert.True(System.Numerics.BigInteger.Parse(child.GetProperty("SequenceNumberRange").GetProperty("StartingSequenceNumber").GetString()!) > parentEnd);
            }
            var after = await server.OkAsync("PutRecord", """{"StreamName":"moving","PartitionKey":"k","ExplicitHashKey":"0","Data":""}""");
            Assert.Equal("shardId-000000000001", after.GetProperty("ShardId").GetString());
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_restart_in_the_middle_of_a_reshard_leaves_a_consistent_stream()
    {
        var clock = new ManualClock();
        string dir = Path.Combine(Path.GetTempPath(), "runnel-reshard-restart-" + Guid.NewGuid().ToString("N"));
        var options = new RunnelOptions { UpdateStreamDelay = TimeSpan.FromSeconds(30) };
        try
        {
            await using (var first = await StartAsync(dir, clock, options))
            {
                await first.OkAsync("CreateStream", """{"StreamName":"moving","ShardCount":2}""");
                for (int i = 0; i < 10; i++)
                    await first.OkAsync("PutRecord", $$"""{"StreamName":"moving","PartitionKey":"k{{i}}","Data":""}""");
                await first.OkAsync("UpdateShardCount", """{"StreamName":"moving","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}""");
                Assert.Equal("UPDATING", (await first.OkAsync("DescribeStreamSummary", """{"StreamName":"moving"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamStatus").GetString());
                await first.OkAsync("PutRecord", """{"StreamName":"moving","PartitionKey":"during","Data":""}""");
            }
            await using var second = await StartAsync(dir, clock, options);
            // Still UPDATING after the restart, with the reshard still to come: only the two parents, open.
            var description = (await second.OkAsync("DescribeStream", """{"StreamName":"moving"}""")).GetProperty("StreamDescription");
            Assert.Equal("UPDATING", description.GetProperty("StreamStatus").GetString());
            var shards = description.GetProperty("Shards").EnumerateArray().ToList();
            Assert.Equal(2, shards.Count(s => !s.GetProperty("SequenceNumberRange").TryGetProperty("EndingSequenceNumber", out _)));
            Assert.Equal(2, shards.Count);
            await second.OkAsync("PutRecord", """{"StreamName":"moving","PartitionKey":"after","Data":""}""");
            Assert.Equal(12, await CountAsync(second, shards));

            // The switch back to ACTIVE applies it: four children open, the parents closed, every record kept.
            clock.Advance(TimeSpan.FromSeconds(31));
            description = (await second.OkAsync("DescribeStream", """{"StreamName":"moving"}""")).GetProperty("StreamDescription");
            Assert.Equal("ACTIVE", description.GetProperty("StreamStatus").GetString());
            shards = description.GetProperty("Shards").EnumerateArray().ToList();
            Assert.Equal(4, shards.Count(s => !s.GetProperty("SequenceNumberRange").TryGetProperty("EndingSequenceNumber", out _)));
            Assert.Equal(2, shards.Count(s => s.GetProperty("SequenceNumberRange").TryGetProperty("EndingSequenceNumber", out _)));
            await second.OkAsync("PutRecord", """{"StreamName":"moving","PartitionKey":"later","Data":""}""");
            Assert.Equal(13, await CountAsync(second, shards));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<StartedServer> StartAsync(string dir, TimeProvider? clock = null, RunnelOptions? options = null)
    {
        var server = RunnelServer.Create((options ?? new RunnelOptions()) with { Port = 0, DataDir = dir }, _ => { }, clock);
        await server.StartAsync();
        return new StartedServer(server);
    }

    private sealed class StartedServer(RunnelServer server) : IAsyncDisposable
    {
        private readonly TestClient _client = new(server.Url);

        public Task<JsonElement> OkAsync(string operation, string body) => _client.OkAsync(operation, body);

        public Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(string operation, string body) => _client.CallAsync(operation, body);

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await server.DisposeAsync();
        }
    }
}

public class RequestLimitTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact(Timeout = 60000)]
    public async Task Records_over_1_mib_need_update_max_record_size()
    {
        string name = ServerFixture.UniqueName("max");
        await server.OkAsync("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":1}""");
        string big = Convert.ToBase64String(new byte[1048577]);
        var (status, error) = await server.CallAsync("PutRecord", $$"""{"StreamName":"{{name}}","PartitionKey":"k","Data":"{{big}}"}""");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
        Assert.Equal("1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576", error.GetProperty("message").GetString());
        var (_, batchError) = await server.CallAsync("PutRecords", $$"""{"StreamName":"{{name}}","Records":[{"PartitionKey":"k","Data":""},{"PartitionKey":"k","Data":"{{big}}"}]}""");
        Assert.Contains("at 'records.2.member.data'", batchError.GetProperty("message").GetString(), StringComparison.Ordinal);

        string arn = $"arn:aws:kinesis:us-east-1:000000000000:stream/{name}";
        await server.OkAsync("UpdateMaxRecordSize", $$"""{"StreamARN":"{{arn}}","MaxRecordSizeInKiB":10240}""");
        var summary = (await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{name}}"}""")).GetProperty("StreamDescriptionSummary");
        Assert.Equal(10240, summary.GetProperty("MaxRecordSizeInKiB").GetInt32());
        string tenMiB = Convert.ToBase64String(Enumerable.Range(0, 10 * 1024 * 1024).Select(i => (byte)i).ToArray());
        var put = await server.OkAsync("PutRecord", $$"""{"StreamName":"{{name}}","PartitionKey":"k","Data":"{{tenMiB}}"}""");
        string it = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{name}}","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"{{put.GetProperty("SequenceNumber").GetString()}}"}""")).GetProperty("ShardIterator").GetString()!;
        var record = (await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{it}}"}""")).GetProperty("Records")[0];
        Assert.Equal(tenMiB, record.GetProperty("Data").GetString());
        var (_, tooSmall) = await server.CallAsync("UpdateMaxRecordSize", $$"""{"StreamARN":"{{arn}}","MaxRecordSizeInKiB":512}""");
        Assert.Equal("1 validation error detected: Value '512' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024", tooSmall.GetProperty("message").GetString());
    }

    [Fact(Timeout = 30000)]
    public async Task Put_records_over_5_mib_in_total_are_rejected_whole()
    {
        string name = ServerFixture.UniqueName("big");
        await server.OkAsync("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":1}""");
        string mib = Convert.ToBase64String(new byte[1024 * 1024]);
        var records = string.Join(",", Enumerable.Range(0, 5).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"{{mib}}"}"""));
        var (status, error) = await server.CallAsync("PutRecords", $$"""{"StreamName":"{{name}}","Records":[{{records}}]}""");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidArgumentException", error.GetProperty("__type").GetString());
        Assert.Equal("Records size exceeds 5 MB limit", error.GetProperty("message").GetString());
        var describe = await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{name}}"}""");
        Assert.Equal("ACTIVE", describe.GetProperty("StreamDescriptionSummary").GetProperty("StreamStatus").GetString());
    }
}
