using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runnel.Storage.Tests;
using Xunit.Abstractions;

namespace Runnel.Server.Tests.Hardening;

/// <summary>
/// The parts built after the core was hardened, on a disk that fills under them: a DirectPut delivery stream's buffer
/// (its log) and its destination directory on the same small tmpfs, and the consumer registry. What a full disk
/// refuses is refused per record with a message and never delivered; what was acknowledged is delivered once, after
/// space returns, without a restart.
/// </summary>
public sealed class DeliveryDiskFullTests(ITestOutputHelper output) : IDisposable
{
    private const long SmallDisk = 6L * 1024 * 1024;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "runnel-full-delivery-" + Guid.NewGuid().ToString("N"));

    [Fact(Timeout = 120000)]
    public async Task A_full_disk_refuses_records_per_record_and_delivers_every_acknowledged_one_once_space_returns()
    {
        using var disk = TmpfsMount.TryMount(Path.Combine(_root, "mnt"), SmallDisk, out string reason);
        if (disk is null)
        {
            output.WriteLine("SKIPPED (not run): " + reason);
            return;
        }
        var log = new CapturedLog();
        string dataDir = Path.Combine(disk.Path, "data");
        var server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = dataDir, Limits = new() { Enabled = false } }, log.Install, TimeProvider.System);
        try
        {
            await server.StartAsync();
            using var client = new TestClient(server.Url);
            // A buffer far larger than the disk and a long interval: nothing is delivered while the disk fills.
            await client.OkAsync("Firehose_20150804.CreateDeliveryStream", """
                {"DeliveryStreamName":"full","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::full",
                 "BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":900},"CompressionFormat":"UNCOMPRESSED"}}
                """);
            await client.OkAsync("CreateStream", """{"StreamName":"fanout","ShardCount":1}""");
            string streamArn = (await client.OkAsync("DescribeStreamSummary", """{"StreamName":"fanout"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;

            var acknowledged = new List<string>();
            var refused = new List<string>();
            string padding = new('x', 8000);
            for (int call = 0; call < 40; call++)
            {
                var records = Enumerable.Range(0, 50).Select(i => $"c{call:D2}-r{i:D2}-{padding}").ToList();
                var (status, body) = await client.CallAsync("Firehose_20150804.PutRecordBatch", Batch("full", records));
                Assert.True(status == HttpStatusCode.OK, $"PutRecordBatch answered {(int)status} {body}: a full disk must be reported per record");
                var entries = body.GetProperty("RequestResponses").EnumerateArray().ToList();
                Assert.Equal(records.Count, entries.Count);
                int failed = 0;
                for (int i = 0; i < entries.Count; i++)
                {
                    if (entries[i].TryGetProperty("ErrorCode", out var code))
                    {
                        Assert.Equal("ServiceUnavailableException", code.GetString());
                        Assert.Contains("disk full", entries[i].GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
                        Assert.False(entries[i].TryGetProperty("RecordId", out _));
                        refused.Add(records[i]);
                        failed++;
                    }
                    else
                    {
                        Assert.False(string.IsNullOrEmpty(entries[i].GetProperty("RecordId").GetString()));
                        acknowledged.Add(records[i]);
                    }
                }
                Assert.Equal(failed, body.GetProperty("FailedPutCount").GetInt32());
                if (failed == entries.Count)
                    break;
            }
            output.WriteLine($"acknowledged {acknowledged.Count}, refused {refused.Count}");
            Assert.True(refused.Count > 0, "the disk never filled");
            Assert.True(acknowledged.Count > 0, "nothing was stored before the disk filled");

            // PutRecord answers AWS's error with a message; a consumer cannot be registered, and says why.
            var single = await client.CallAsync("Firehose_20150804.PutRecord", $$$"""{"DeliveryStreamName":"full","Record":{"Data":"{{{Convert.ToBase64String(new byte[512 * 1024])}}}"}}""");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, single.Status);
            Assert.Equal("ServiceUnavailableException", single.Body.GetProperty("__type").GetString());
            Assert.Contains("disk full", single.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
            var register = await RegisterUntilRefusedAsync(client, streamArn);
            Assert.Equal(HttpStatusCode.InternalServerError, register.Status);
            Assert.Equal("InternalFailure", register.Body.GetProperty("__type").GetString());
            Assert.Contains("disk full", register.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("Runnel bug", log.AtLeast(LogLevel.Error), StringComparison.Ordinal);

            // Space returns. The buffer is flushed by shortening the interval to zero: every acknowledged record lands
            // once, no refused one at all; the consumer registers.
            disk.Resize(64L * 1024 * 1024);
            var description = await client.OkAsync("Firehose_20150804.DescribeDeliveryStream", """{"DeliveryStreamName":"full"}""");
            var stream = description.GetProperty("DeliveryStreamDescription");
            string destination = stream.GetProperty("Destinations")[0].GetProperty("DestinationId").GetString()!;
            await client.OkAsync("Firehose_20150804.UpdateDestination", $$$"""
                {"DeliveryStreamName":"full","CurrentDeliveryStreamVersionId":"{{{stream.GetProperty("VersionId").GetString()}}}","DestinationId":"{{{destination}}}",
                 "ExtendedS3DestinationUpdate":{"BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0} } }
                """);
            string bucket = Path.Combine(dataDir, "buckets", "full");
            var delivered = await FirehoseObjects.WaitForAsync(bucket, acknowledged, seconds: 60);
            Assert.Equal(acknowledged.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
            Assert.Empty(refused.Intersect(delivered));

            await client.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{streamArn}}","ConsumerName":"after"}""");
            var consumers = (await client.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{streamArn}}"}""")).GetProperty("Consumers").EnumerateArray()
                .Select(c => c.GetProperty("ConsumerName").GetString()).ToList();
            Assert.Contains("after", consumers);
            Assert.Equal(consumers.Count, consumers.Distinct().Count());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact(Timeout = 120000)]
    public async Task A_destination_directory_that_fills_holds_delivery_back_and_every_record_lands_once_when_space_returns()
    {
        using var destination = TmpfsMount.TryMount(Path.Combine(_root, "bucket"), 1L * 1024 * 1024, out string reason);
        if (destination is null)
        {
            output.WriteLine("SKIPPED (not run): " + reason);
            return;
        }
        var log = new CapturedLog();
        string dataDir = Path.Combine(_root, "data");
        Directory.CreateDirectory(Path.Combine(dataDir, "buckets"));
        Directory.CreateSymbolicLink(Path.Combine(dataDir, "buckets", "small"), destination.Path); // the bucket is a disk of its own
        var server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = dataDir, Limits = new() { Enabled = false } }, log.Install, TimeProvider.System);
        try
        {
            await server.StartAsync();
            using var client = new TestClient(server.Url);
            await client.OkAsync("Firehose_20150804.CreateDeliveryStream", """
                {"DeliveryStreamName":"small","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::small",
                 "BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0},"CompressionFormat":"UNCOMPRESSED"}}
                """);
            // 3 MiB into a 1 MiB destination: the first objects land, then the destination is full.
            string padding = new('y', 20000);
            var records = new List<string>();
            for (int call = 0; call < 6; call++)
            {
                var batch = Enumerable.Range(0, 25).Select(i => $"d{call}-{i:D2}-{padding}").ToList();
                var answer = await client.OkAsync("Firehose_20150804.PutRecordBatch", Batch("small", batch));
                Assert.Equal(0, answer.GetProperty("FailedPutCount").GetInt32());
                records.AddRange(batch);
            }
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!log.AtLeast(LogLevel.Warning).Contains("No space left", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            string warnings = log.AtLeast(LogLevel.Warning);
            output.WriteLine(warnings);
            Assert.Contains("No space left", warnings, StringComparison.Ordinal);
            Assert.DoesNotContain("Runnel bug", warnings, StringComparison.Ordinal);
            int before = FirehoseObjects.Records(destination.Path).Count;
            Assert.True(before < records.Count, "everything was delivered into a disk too small for it");

            destination.Resize(16L * 1024 * 1024);
            var delivered = await FirehoseObjects.WaitForAsync(destination.Path, records, seconds: 60);
            output.WriteLine($"{before} of {records.Count} delivered while the destination was full; all {delivered.Count} after");
            Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // once each: no object written twice or in part
            Assert.Empty(Directory.EnumerateFiles(destination.Path, "*.partial-*", SearchOption.AllDirectories)); // a failed write leaves nothing behind
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Registers consumers, filling what room the metadata database still has, until one is refused (bounded).</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Body)> RegisterUntilRefusedAsync(TestClient client, string streamArn)
    {
        for (int i = 0; i < 15; i++)
        {
            var answer = await client.CallAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{streamArn}}","ConsumerName":"full-{{i}}"}""");
            if (answer.Status != HttpStatusCode.OK)
                return answer;
        }
        throw new Xunit.Sdk.XunitException("15 consumers were registered on a full disk");
    }

    private static string Batch(string stream, IEnumerable<string> records) =>
        $$"""{"DeliveryStreamName":"{{stream}}","Records":[{{string.Join(",", records.Select(r => $$"""{"Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(r + "\n"))}}"}"""))}}]}""";

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
