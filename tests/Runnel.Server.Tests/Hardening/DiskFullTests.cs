using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runnel.Storage.Tests;
using Xunit.Abstractions;

namespace Runnel.Server.Tests.Hardening;

/// <summary>
/// A full disk used to answer 500 for a whole PutRecords while keeping the records of shards that still had
/// room, so a client's retry stored them twice; PutRecord and CreateStream answered with no message, the log
/// called it a Runnel bug. Now PutRecords reports per record, every failure carries a message, /health says
/// "degraded", and writes resume by themselves when space returns. Runs on a small tmpfs of its own.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output) : IDisposable
{
    private const long SmallDisk = 6L * 1024 * 1024;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "runnel-full-" + Guid.NewGuid().ToString("N"));

    [Fact(Timeout = 120000)]
    public async Task A_full_disk_fails_only_the_records_it_could_not_store_and_writes_resume_when_space_returns()
    {
        using var disk = TmpfsMount.TryMount(Path.Combine(_root, "mnt"), SmallDisk, out string reason);
        if (disk is null)
        {
            output.WriteLine("SKIPPED (not run): " + reason);
            return;
        }
        var log = new CapturedLog();
        var clock = new ManualClock();
        var server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = Path.Combine(disk.Path, "data"), Limits = Runnel.Core.Throughput.ThroughputLimits.Off }, log.Install, clock);
        try
        {
            await server.StartAsync();
            using var client = new TestClient(server.Url);
            await client.OkAsync("CreateStream", """{"StreamName":"full","ShardCount":4}""");

            // Fill the disk: 50 records of 8 KB per call, until a call stores nothing (bounded: the disk holds ~700).
            var acknowledged = new List<(string Shard, string Sequence, string Key)>();
            int failedRecords = 0, partialCalls = 0;
            for (int call = 0; call < 40; call++)
            {
                var keys = Enumerable.Range(0, 50).Select(i => $"c{call}-r{i}").ToList();
                var (status, body) = await client.CallAsync("PutRecords", PutRecordsBody(keys));
                Assert.True(status == HttpStatusCode.OK, $"PutRecords answered {(int)status} {body}: a full disk must be reported per record");
                var entries = body.GetProperty("Records").EnumerateArray().ToList();
                int failed = 0;
                for (int i = 0; i < entries.Count; i++)
                {
                    if (entries[i].TryGetProperty("ErrorCode", out var code))
                    {
                        Assert.Equal("InternalFailure", code.GetString());
                        Assert.Contains("disk full", entries[i].GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
                        Assert.False(entries[i].TryGetProperty("SequenceNumber", out _));
                        failed++;
                    }
                    else
                    {
                        acknowledged.Add((entries[i].GetProperty("ShardId").GetString()!, entries[i].GetProperty("SequenceNumber").GetString()!, keys[i]));
                    }
                }
                Assert.Equal(failed, body.GetProperty("FailedRecordCount").GetInt32());
                failedRecords += failed;
                if (failed > 0 && failed < entries.Count)
                    partialCalls++;
                if (failed == entries.Count)
                    break;
            }
            Assert.True(failedRecords > 0, "the disk never filled");

            // The disk is nearly full: records of 16 KiB, one per shard per call, fit on some shards and not others
            // (each shard writes its own file), which is the call that used to fail whole after storing part of it.
            for (int call = 0; call < 40; call++)
            {
                var keys = Enumerable.Range(0, 4).Select(shard => $"small{call}-s{shard}").ToList();
                string records = string.Join(",", keys.Select((k, shard) =>
                    $$"""{"PartitionKey":"{{k}}","ExplicitHashKey":"{{(UInt128.One << 126) * (uint)shard + 1}}","Data":"{{Convert.ToBase64String(new byte[16 * 1024])}}"}"""));
                var body = await client.OkAsync("PutRecords", $$"""{"StreamName":"full","Records":[{{records}}]}""");
                var entries = body.GetProperty("Records").EnumerateArray().ToList();
                int failed = 0;
                for (int i = 0; i < entries.Count; i++)
                {
                    if (entries[i].TryGetProperty("ErrorCode", out var code))
                    {
                        Assert.Equal("InternalFailure", code.GetString());
                        failed++;
                    }
                    else
                    {
                        acknowledged.Add((entries[i].GetProperty("ShardId").GetString()!, entries[i].GetProperty("SequenceNumber").GetString()!, keys[i]));
                    }
                }
                failedRecords += failed;
                if (failed > 0 && failed < entries.Count)
                    partialCalls++;
                if (failed == entries.Count)
                    break;
            }
            output.WriteLine($"acknowledged {acknowledged.Count}, failed {failedRecords}, calls that stored some records and failed others {partialCalls}");
            Assert.True(partialCalls > 0, "no call had both stored and failed records");

            // PutRecord and a control-plane call answer AWS's InternalFailure with a message.
            var single = await client.CallAsync("PutRecord", $$"""{"StreamName":"full","PartitionKey":"single","Data":"{{Convert.ToBase64String(new byte[64 * 1024])}}"}""");
            if (single.Status == HttpStatusCode.OK) // a shard may still have had room in its last page
                acknowledged.Add((single.Body.GetProperty("ShardId").GetString()!, single.Body.GetProperty("SequenceNumber").GetString()!, "single"));
            else
                AssertInternalFailureWithMessage(single);
            AssertInternalFailureWithMessage(await client.CallAsync("CreateStream", """{"StreamName":"another","ShardCount":50}"""));

            using var http = new HttpClient();
            var health = await http.GetAsync(new Uri(server.Url, "/health"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            string healthBody = await health.Content.ReadAsStringAsync();
            Assert.Contains("\"status\":\"degraded\"", healthBody, StringComparison.Ordinal);
            Assert.Contains("disk full", healthBody, StringComparison.Ordinal);
            string errors = log.AtLeast(LogLevel.Error);
            Assert.Contains("disk full", errors, StringComparison.Ordinal);
            Assert.Contains("Free space", errors, StringComparison.Ordinal);
            Assert.DoesNotContain("Runnel bug", errors, StringComparison.Ordinal);

            // Space returns: writes resume without a restart, and health clears once none has failed for a while.
            disk.Resize(64L * 1024 * 1024);
            clock.Advance(TimeSpan.FromSeconds(10));
            var resumed = await client.OkAsync("PutRecords", PutRecordsBody(["after-1", "after-2"]));
            Assert.Equal(0, resumed.GetProperty("FailedRecordCount").GetInt32());
            foreach (var (entry, key) in resumed.GetProperty("Records").EnumerateArray().Zip(["after-1", "after-2"]))
                acknowledged.Add((entry.GetProperty("ShardId").GetString()!, entry.GetProperty("SequenceNumber").GetString()!, key));
            Assert.Equal("""{"status":"ok"}""", await http.GetStringAsync(new Uri(server.Url, "/health")));

            // Exactly the acknowledged records are stored, each once, at its sequence number: nothing a failed
            // entry carried was kept (a client retry would have stored it twice).
            var stored = await ReadAllAsync(client, "full", 4);
            Assert.Equal(acknowledged.Count, stored.Count);
            foreach (var (shard, sequence, key) in acknowledged)
                Assert.Equal(key, stored[(shard, sequence)]);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static void AssertInternalFailureWithMessage((HttpStatusCode Status, JsonElement Body) answer)
    {
        Assert.Equal(HttpStatusCode.InternalServerError, answer.Status);
        Assert.Equal("InternalFailure", answer.Body.GetProperty("__type").GetString());
        Assert.Contains("disk full", answer.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static string PutRecordsBody(IEnumerable<string> keys)
    {
        string data = Convert.ToBase64String(new byte[8000]);
        return $$"""{"StreamName":"full","Records":[{{string.Join(",", keys.Select(k => $$"""{"PartitionKey":"{{k}}","Data":"{{data}}"}"""))}}]}""";
    }

    /// <summary>Every record of the stream by (shard, sequence number) → partition key.</summary>
    private static async Task<Dictionary<(string, string), string>> ReadAllAsync(TestClient client, string stream, int shards)
    {
        var stored = new Dictionary<(string, string), string>();
        for (int s = 0; s < shards; s++)
        {
            string shard = $"shardId-{s:D12}";
            string? iterator = (await client.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"{{shard}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString();
            for (int page = 0; page < 100 && iterator is not null; page++)
            {
                var result = await client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
                var records = result.GetProperty("Records");
                foreach (var record in records.EnumerateArray())
                    Assert.True(stored.TryAdd((shard, record.GetProperty("SequenceNumber").GetString()!), record.GetProperty("PartitionKey").GetString()!), "a record was returned twice");
                iterator = records.GetArrayLength() == 0 ? null : result.GetProperty("NextShardIterator").GetString();
            }
        }
        return stored;
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
