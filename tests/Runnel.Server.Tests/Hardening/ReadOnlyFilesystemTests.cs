using System.Net;
using Microsoft.Extensions.Logging;
using Runnel.Storage.Tests;
using Xunit.Abstractions;

namespace Runnel.Server.Tests.Hardening;

/// <summary>
/// After the data filesystem went read-only, GetShardIterator on a shard not opened since start-up answered 500
/// (opening its log asked for write access). Now reads work, writes fail with a clear error and /health says
/// why; start-up on a read-only directory says so and exits 1. Runs on a loop-mounted ext4 of its own.
/// </summary>
public sealed class ReadOnlyFilesystemTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "runnel-ro-" + Guid.NewGuid().ToString("N"));

    [Fact(Timeout = 120000)]
    public async Task Reads_work_and_writes_fail_clearly_once_the_data_filesystem_is_read_only()
    {
        using var disk = Ext4LoopMount.TryMount(Path.Combine(_root, "mnt"), 32L * 1024 * 1024, out string reason);
        if (disk is null)
        {
            output.WriteLine("SKIPPED (not run): " + reason);
            return;
        }
        var options = new RunnelOptions { Port = 0, DataDir = Path.Combine(disk.Path, "data"), Limits = Runnel.Core.Throughput.ThroughputLimits.Off };
        var written = new Dictionary<string, int>();
        await using (var first = RunnelServer.Create(options, logging: _ => { }))
        {
            await first.StartAsync();
            using var client = new TestClient(first.Url);
            await client.OkAsync("CreateStream", """{"StreamName":"frozen","ShardCount":3}""");
            await client.OkAsync("Firehose_20150804.CreateDeliveryStream", """
                {"DeliveryStreamName":"frozen-fh","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::frozen",
                 "BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":900}}}
                """);
            for (int i = 0; i < 30; i++)
            {
                var put = await client.OkAsync("PutRecord", $$"""{"StreamName":"frozen","PartitionKey":"k{{i}}","Data":"{{ServerFixture.B64("v" + i)}}"}""");
                string shard = put.GetProperty("ShardId").GetString()!;
                written[shard] = written.GetValueOrDefault(shard) + 1;
            }
        }

        // A new server: no shard log is open. Then the filesystem goes read-only under it.
        var log = new CapturedLog();
        var server = RunnelServer.Create(options, log.Install);
        try
        {
            await server.StartAsync();
            using var client = new TestClient(server.Url);
            disk.Abort(); // read-only under the running server, as the kernel does after a disk error

            foreach (var (shard, count) in written)
            {
                string iterator = (await client.OkAsync("GetShardIterator", $$"""{"StreamName":"frozen","ShardId":"{{shard}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
                var records = (await client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records");
                Assert.Equal(count, records.GetArrayLength());
            }

            var (status, body) = await client.CallAsync("PutRecord", """{"StreamName":"frozen","PartitionKey":"late","Data":"AAAA"}""");
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal("InternalFailure", body.GetProperty("__type").GetString());
            Assert.Contains("read-only filesystem", body.GetProperty("message").GetString(), StringComparison.Ordinal);

            var (createStatus, createBody) = await client.CallAsync("CreateStream", """{"StreamName":"another","ShardCount":1}""");
            Assert.Equal(HttpStatusCode.InternalServerError, createStatus);
            Assert.True(createBody.GetProperty("message").GetString()!.Contains("read-only filesystem", StringComparison.Ordinal), createBody.ToString());

            // The parts built since: a delivery stream's buffer refuses each record, a consumer cannot be registered; both say why.
            var batch = await client.OkAsync("Firehose_20150804.PutRecordBatch", """{"DeliveryStreamName":"frozen-fh","Records":[{"Data":"AAAA"},{"Data":"AAAA"}]}""");
            Assert.Equal(2, batch.GetProperty("FailedPutCount").GetInt32());
            foreach (var entry in batch.GetProperty("RequestResponses").EnumerateArray())
            {
                Assert.Equal("ServiceUnavailableException", entry.GetProperty("ErrorCode").GetString());
                Assert.Contains("read-only filesystem", entry.GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
            }
            string streamArn = (await client.OkAsync("DescribeStreamSummary", """{"StreamName":"frozen"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
            var (registerStatus, registerBody) = await client.CallAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{streamArn}}","ConsumerName":"late"}""");
            Assert.Equal(HttpStatusCode.InternalServerError, registerStatus);
            Assert.Contains("read-only filesystem", registerBody.GetProperty("message").GetString(), StringComparison.Ordinal);

            using var http = new HttpClient();
            string health = await http.GetStringAsync(new Uri(server.Url, "/health"));
            Assert.Contains("\"status\":\"degraded\"", health, StringComparison.Ordinal);
            Assert.Contains("read-only filesystem", health, StringComparison.Ordinal);
            Assert.DoesNotContain("Runnel bug", log.AtLeast(LogLevel.Error), StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync(); // a clean stop on a read-only disk must not throw
        }
    }

    [Fact(Timeout = 120000)]
    public async Task Serve_on_a_read_only_directory_says_so_and_exits_1()
    {
        using var disk = TmpfsMount.TryMount(Path.Combine(_root, "mnt"), 8L * 1024 * 1024, out string reason);
        if (disk is null)
        {
            output.WriteLine("SKIPPED (not run): " + reason);
            return;
        }
        Directory.CreateDirectory(Path.Combine(disk.Path, "data"));
        disk.RemountReadOnly();
        var (exitCode, text) = await ServerProcess.RunToExitAsync("serve", "--port", "0", "--data-dir", Path.Combine(disk.Path, "data"));
        Assert.Equal(1, exitCode);
        Assert.Contains("is on a read-only filesystem or not writable by this user", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", text, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
