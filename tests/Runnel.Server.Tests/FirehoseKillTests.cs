namespace Runnel.Server.Tests;

/// <summary>
/// The server killed with SIGKILL while a DirectPut delivery stream buffers, and while it delivers: after a restart
/// every record a put acknowledged is delivered, more than once only where a delivery was in flight at the kill
/// (Firehose's at-least-once). Cycles: RUNNEL_CRASH_CYCLES (2 by default).
/// </summary>
[Trait("Category", "CrashConsistency")]
public sealed class FirehoseKillTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-kill-" + Guid.NewGuid().ToString("N"));
    private ServerProcess? _server;

    private string Bucket => Path.Combine(_dataDir, "buckets", "kill");

    private static string Create(string name, int intervalSeconds) =>
        "{\"DeliveryStreamName\":\"" + name + "\",\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::kill\"," +
        "\"Prefix\":\"" + name + "/\",\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":" + intervalSeconds + "}}}";

    [Fact(Timeout = 180000)]
    public async Task Nothing_acknowledged_is_lost_when_the_server_is_killed_while_buffering()
    {
        using (var client = new TestClient(await StartServerAsync()))
        {
            await client.OkAsync("Firehose_20150804.CreateDeliveryStream", Create("buffering", 900));
            var records = Enumerable.Range(0, 200).Select(i => $"buffered-{i}").ToList();
            foreach (var chunk in records.Chunk(50))
                await client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("buffering", chunk));
            await _server!.KillAsync(); // held in a buffer for 900 s: nothing was delivered
            _server.Dispose();
            Assert.Empty(FirehoseObjects.Keys(Bucket));

            using var after = new TestClient(await StartServerAsync());
            await after.OkAsync("Firehose_20150804.UpdateDestination", """{"DeliveryStreamName":"buffering","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0}}}""");
            Assert.Equal(records.Order(StringComparer.Ordinal), (await FirehoseObjects.WaitForAsync(Bucket, records)).Order(StringComparer.Ordinal));
        }
    }

    [Fact(Timeout = 180000)]
    public async Task Nothing_acknowledged_is_lost_when_the_server_is_killed_while_delivering()
    {
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("RUNNEL_CRASH_CYCLES"), out int n) && n > 0 ? n : 2;
        var acknowledged = new List<string>();
        var attempted = new System.Collections.Concurrent.ConcurrentBag<string>();
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            using var client = new TestClient(await StartServerAsync());
            if (cycle == 0)
                await client.OkAsync("Firehose_20150804.CreateDeliveryStream", Create("delivering", 0));
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
            {
                var mine = new List<string>();
                for (int i = 0; i < 2000 && !stop.IsCancellationRequested; i++)
                {
                    var records = Enumerable.Range(0, 20).Select(k => $"c{cycle}-w{w}-{i}-{k}").ToArray();
                    foreach (string record in records)
                        attempted.Add(record);
                    try
                    {
                        var answer = await client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("delivering", records));
                        Assert.Equal(0, answer.GetProperty("FailedPutCount").GetInt32());
                        mine.AddRange(records);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException || stop.IsCancellationRequested)
                    {
                        break; // the server died under this request: it was never acknowledged
                    }
                }
                return mine;
            })).ToList();
            var writing = System.Diagnostics.Stopwatch.StartNew();
            while (writing.ElapsedMilliseconds < 600 && !writers.All(w => w.IsCompleted))
                await Task.Delay(20);
            await _server!.KillAsync();
            stop.Cancel();
            _server.Dispose();
            foreach (var writer in writers)
                acknowledged.AddRange(await writer);
        }
        Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} records were acknowledged before the kills");

        using var reader = new TestClient(await StartServerAsync());
        var delivered = await FirehoseObjects.WaitForAsync(Bucket, acknowledged, seconds: 60);
        // Nothing that was never put; duplicates only from a delivery the kill interrupted (at most one read's worth,
        // 10,000 records, per kill).
        var put = attempted.ToHashSet();
        Assert.All(delivered.Distinct(), record => Assert.Contains(record, put));
        Assert.True(delivered.Count - delivered.Distinct().Count() <= cycles * 10_000, $"{delivered.Count - delivered.Distinct().Count()} duplicates");
    }

    [Fact(Timeout = 180000)]
    public async Task A_stream_sourced_delivery_killed_while_delivering_goes_on_from_its_positions()
    {
        var acknowledged = new List<string>();
        using (var client = new TestClient(await StartServerAsync()))
        {
            await client.OkAsync("CreateStream", """{"StreamName":"source","ShardCount":2}""");
            await client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"fromstream\",\"DeliveryStreamType\":\"KinesisStreamAsSource\"," +
                "\"KinesisStreamSourceConfiguration\":{\"KinesisStreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/source\",\"RoleARN\":\"arn:aws:iam::000000000000:role/r\"}," +
                "\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::kill\",\"Prefix\":\"fromstream/\"," +
                "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}}}");
            await WriteForAsync(client, "source", "s", acknowledged);
            await _server!.KillAsync(); // while the delivery streams what was written: some delivered, some not
            _server.Dispose();
        }
        using var after = new TestClient(await StartServerAsync());
        var delivered = await FirehoseObjects.WaitForAsync(Path.Combine(Bucket, "fromstream"), acknowledged, seconds: 60);
        Assert.True(delivered.Count - delivered.Distinct().Count() <= 2 * 10_000, "more duplicates than one read per shard");
        var put = acknowledged.ToHashSet();
        Assert.All(delivered.Distinct(), record => Assert.Contains(record, put));
    }

    [Fact(Timeout = 180000)]
    public async Task A_channel_killed_while_delivering_goes_on_from_its_positions()
    {
        var acknowledged = new List<string>();
        using (var client = new TestClient(await StartServerAsync()))
        {
            await client.OkAsync("CreateStream", """{"StreamName":"lake","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}""");
            await Task.Delay(50);
            await client.OkAsync("CreateChannel", "{\"ChannelName\":\"kill-channel\",\"ServiceExecutionRoleARN\":\"arn:aws:iam::000000000000:role/r\"," +
                "\"StreamConfigurationList\":[{\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/lake\",\"RecordConfiguration\":{\"RecordFormatType\":\"STRING\"}}]," +
                "\"S3DestinationConfiguration\":{\"StorageConfiguration\":{\"BucketARN\":\"arn:aws:s3:::kill\",\"ExpectedBucketOwner\":\"000000000000\",\"CompressionType\":\"NONE\"," +
                "\"OutputKeyTemplate\":\"channel/!{yyyy}\"}}}");
            await Task.Delay(50);
            await WriteForAsync(client, "lake", "c", acknowledged);
            await _server!.KillAsync(); // while the channel writes what was put: some written, some not
            _server.Dispose();
        }
        using var after = new TestClient(await StartServerAsync());
        var delivered = await FirehoseObjects.WaitForAsync(Path.Combine(Bucket, "channel"), acknowledged, seconds: 60);
        Assert.True(delivered.Count - delivered.Distinct().Count() <= 4 * 10_000, "more duplicates than one read per shard");
        var put = acknowledged.ToHashSet();
        Assert.All(delivered.Distinct(), record => Assert.Contains(record, put));
    }

    /// <summary>Puts batches of 20 newline-ended records into <paramref name="stream"/> for 800 ms (at most 2,000 batches), each acknowledged one added to <paramref name="acknowledged"/>.</summary>
    private static async Task WriteForAsync(TestClient client, string stream, string tag, List<string> acknowledged)
    {
        var writing = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; writing.ElapsedMilliseconds < 800 && i < 2000; i++)
        {
            var records = Enumerable.Range(0, 20).Select(k => $"{tag}-{i}-{k}").ToList();
            string body = "{\"StreamName\":\"" + stream + "\",\"Records\":[" + string.Join(",", records.Select(r =>
                "{\"PartitionKey\":\"" + r + "\",\"Data\":\"" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(r + "\n")) + "\"}")) + "]}";
            await client.OkAsync("PutRecords", body);
            acknowledged.AddRange(records);
        }
    }

    private async Task<Uri> StartServerAsync()
    {
        // Channels write at once (their freshness would hold records for minutes); delivery streams have their own hints.
        _server = await ServerProcess.StartAsync(_dataDir, "--limits", "off", "--channel-freshness", "0");
        return _server.Url;
    }

    public void Dispose()
    {
        _server?.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
