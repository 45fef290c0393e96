using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runnel.Storage.Tests.JetStream;
using Xunit.Abstractions;

namespace Runnel.Server.Tests;

/// <summary>
/// The dependency of the cluster backend going away: every nats-server of the cluster killed under a running node,
/// then started again. Meanwhile the node answers (no request hangs past JetStream's budget), says why in AWS's
/// error form, and reports it on <c>/health</c>; afterwards it serves again without a restart, with every record
/// acknowledged before the outage and none of those it refused. Runs a cluster of its own.
/// </summary>
public sealed class ClusterOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private NatsCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await NatsCluster.StartAsync(3);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact(Timeout = 240000)]
    public async Task Requests_fail_fast_and_clearly_while_the_nats_cluster_is_gone_and_succeed_again_when_it_returns()
    {
        var log = new CapturedLog();
        string dataDir = Path.Combine(Path.GetTempPath(), "runnel-outage-" + Guid.NewGuid().ToString("N"));
        var server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = dataDir, Nats = _cluster.Urls, Replicas = 3, Limits = new() { Enabled = false } }, log.Install);
        try
        {
            await server.StartAsync();
            using var client = new TestClient(server.Url);
            client.Http.Timeout = TimeSpan.FromSeconds(120); // measured below, not cut short
            await client.OkAsync("CreateStream", """{"StreamName":"outage","ShardCount":2}""");
            string arn = (await client.OkAsync("DescribeStreamSummary", """{"StreamName":"outage"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
            await client.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"before"}""");
            await client.OkAsync("Firehose_20150804.CreateDeliveryStream", """
                {"DeliveryStreamName":"outage-fh","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::outage",
                 "BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":900}}}
                """);
            var acknowledged = new HashSet<string>(StringComparer.Ordinal);
            foreach (var key in await PutAsync(client, "before", 20))
                acknowledged.Add(key);
            Assert.Equal(20, acknowledged.Count);

            _cluster.KillAll();

            // Every call is answered, within JetStream's retry budget (15 s) and some slack, in AWS's form, with the
            // reason. The four kinds of call go at once (each waits out the budget; one after another took a minute).
            static async Task<(T Answer, TimeSpan Took)> Timed<T>(Func<Task<T>> call)
            {
                var clock = Stopwatch.StartNew();
                var answer = await call();
                return (answer, clock.Elapsed);
            }
            var putting = Timed(() => client.CallAsync("PutRecords", Records("during", 10)));
            var reading = Timed(async () =>
            {
                string iterator = (await client.OkAsync("GetShardIterator", """{"StreamName":"outage","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
                    .GetProperty("ShardIterator").GetString()!;
                return await client.CallAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
            });
            var batching = Timed(() => client.OkAsync("Firehose_20150804.PutRecordBatch", """{"DeliveryStreamName":"outage-fh","Records":[{"Data":"AAAA"}]}"""));
            var registering = Timed(() => client.CallAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"during"}"""));
            await Task.WhenAll(putting, reading, batching, registering);

            var ((status, body), took) = await putting;
            output.WriteLine($"PutRecords during the outage: {(int)status} in {took.TotalMilliseconds:0} ms: {body}");
            output.WriteLine(log.AtLeast(LogLevel.Warning));
            Assert.InRange(took, TimeSpan.Zero, TimeSpan.FromSeconds(40));
            if (status == HttpStatusCode.OK)
            {
                Assert.Equal(10, body.GetProperty("FailedRecordCount").GetInt32());
                foreach (var entry in body.GetProperty("Records").EnumerateArray())
                    Assert.Contains("storage cluster (NATS JetStream) is not answering", entry.GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(HttpStatusCode.InternalServerError, status);
                Assert.Contains("storage cluster (NATS JetStream) is not answering", body.GetProperty("message").GetString(), StringComparison.Ordinal);
            }
            var (read, readTook) = await reading;
            output.WriteLine($"GetShardIterator and GetRecords during the outage: {(int)read.Status} in {readTook.TotalMilliseconds:0} ms");
            Assert.InRange(readTook, TimeSpan.Zero, TimeSpan.FromSeconds(40));
            if (read.Status != HttpStatusCode.OK) // records this node holds in memory may still be served
                Assert.Contains("storage cluster (NATS JetStream) is not answering", read.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
            var (batch, batchTook) = await batching;
            output.WriteLine($"PutRecordBatch during the outage: {batchTook.TotalMilliseconds:0} ms: {batch}");
            Assert.InRange(batchTook, TimeSpan.Zero, TimeSpan.FromSeconds(40));
            Assert.Equal(1, batch.GetProperty("FailedPutCount").GetInt32());
            Assert.Equal("ServiceUnavailableException", batch.GetProperty("RequestResponses")[0].GetProperty("ErrorCode").GetString());
            var (register, registerTook) = await registering;
            output.WriteLine($"RegisterStreamConsumer during the outage: {(int)register.Status} in {registerTook.TotalMilliseconds:0} ms: {register.Body}");
            Assert.InRange(registerTook, TimeSpan.Zero, TimeSpan.FromSeconds(40));
            Assert.Equal(HttpStatusCode.InternalServerError, register.Status);
            Assert.Equal("InternalFailure", register.Body.GetProperty("__type").GetString());
            Assert.Contains("storage cluster (NATS JetStream) is not answering", register.Body.GetProperty("message").GetString(), StringComparison.Ordinal);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            string health = await http.GetStringAsync(new Uri(server.Url, "/health"));
            output.WriteLine(health);
            Assert.Contains("\"status\":\"degraded\"", health, StringComparison.Ordinal);
            Assert.Contains("storage cluster not answering", health, StringComparison.Ordinal);

            await _cluster.RestartAllAsync();

            // Served again without a restart of the node: puts succeed (once JetStream has its leaders back).
            var deadline = DateTime.UtcNow.AddSeconds(60);
            List<string> after;
            while (true)
            {
                after = await PutAsync(client, "after", 10);
                if (after.Count == 10 || DateTime.UtcNow > deadline)
                    break;
                await Task.Delay(500);
            }
            Assert.Equal(10, after.Count);
            acknowledged.UnionWith(after);

            var stored = await ReadAllAsync(client, "outage", 2);
            Assert.Equal(stored.Count, stored.Distinct().Count());
            Assert.Superset(acknowledged, stored.ToHashSet()); // nothing acknowledged lost
            Assert.DoesNotContain(stored, key => key.StartsWith("during", StringComparison.Ordinal) && !acknowledged.Contains(key));
            var consumers = (await client.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{arn}}"}""")).GetProperty("Consumers").EnumerateArray()
                .Select(c => c.GetProperty("ConsumerName").GetString()).ToList();
            Assert.Contains("before", consumers);
            string errors = log.AtLeast(LogLevel.Error);
            Assert.DoesNotContain("Runnel bug", errors, StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    private static string Records(string prefix, int count) =>
        $$"""{"StreamName":"outage","Records":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"{{prefix}}-{{i}}","Data":"{{ServerFixture.B64(prefix + "-" + i)}}"}"""))}}]}""";

    /// <summary>Puts <paramref name="count"/> records; returns the partition keys of those acknowledged.</summary>
    private static async Task<List<string>> PutAsync(TestClient client, string prefix, int count)
    {
        var (status, body) = await client.CallAsync("PutRecords", Records(prefix, count));
        if (status != HttpStatusCode.OK)
            return [];
        return [.. body.GetProperty("Records").EnumerateArray().Select((entry, i) => (entry, i))
            .Where(e => e.entry.TryGetProperty("SequenceNumber", out _)).Select(e => $"{prefix}-{e.i}")];
    }

    /// <summary>Every record's partition key, over every shard.</summary>
    private static async Task<List<string>> ReadAllAsync(TestClient client, string stream, int shards)
    {
        var keys = new List<string>();
        for (int s = 0; s < shards; s++)
        {
            string? iterator = (await client.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-{{s:D12}}","ShardIteratorType":"TRIM_HORIZON"}"""))
                .GetProperty("ShardIterator").GetString();
            for (int page = 0; page < 20 && iterator is not null; page++)
            {
                var result = await client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
                keys.AddRange(result.GetProperty("Records").EnumerateArray().Select(r => r.GetProperty("PartitionKey").GetString()!));
                if (result.GetProperty("MillisBehindLatest").GetInt64() == 0)
                    break;
                iterator = result.GetProperty("NextShardIterator").GetString();
            }
        }
        return keys;
    }
}
