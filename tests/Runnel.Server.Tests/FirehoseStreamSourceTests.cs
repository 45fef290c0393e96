using System.Text;

namespace Runnel.Server.Tests;

/// <summary>
/// Delivery streams that read a Kinesis stream (KinesisStreamAsSource): what was written after the delivery stream
/// was made is delivered once, two delivery streams on one stream each receive every record (LocalStack's gap), a
/// reshard under writes loses and repeats nothing, and a restart goes on from the stored positions.
/// </summary>
public sealed class FirehoseStreamSourceTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-source-" + Guid.NewGuid().ToString("N"));
    private readonly RestartableServer _host;

    public FirehoseStreamSourceTests() =>
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false } });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private string Bucket(string name) => Path.Combine(_dataDir, "buckets", name);

    private Task CreateStreamAsync(string name, int shards) => _host.Client.OkAsync("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":{{shards}}}""");

    private Task CreateDeliveryAsync(string name, string stream, string bucket) =>
        _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\",\"DeliveryStreamType\":\"KinesisStreamAsSource\"," +
            "\"KinesisStreamSourceConfiguration\":{\"KinesisStreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/" + stream + "\",\"RoleARN\":\"arn:aws:iam::000000000000:role/r\"}," +
            "\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::" + bucket + "\"," +
            "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}}}");

    private async Task PutAsync(string stream, IEnumerable<string> records)
    {
        foreach (var chunk in records.Chunk(100))
        {
            string body = $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", chunk.Select(r => $$"""{"PartitionKey":"{{r}}","Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(r + "\n"))}}"}"""))}}]}""";
            var answer = await _host.Client.OkAsync("PutRecords", body);
            Assert.Equal(0, answer.GetProperty("FailedRecordCount").GetInt32());
        }
    }

    [Fact]
    public async Task Two_delivery_streams_on_one_stream_each_receive_every_record_written_after_they_were_made()
    {
        await CreateStreamAsync("shared", 2);
        await PutAsync("shared", Enumerable.Range(0, 20).Select(i => $"before-{i}"));
        await Task.Delay(20); // the delivery streams start reading at the stream's tip, as Firehose does
        await CreateDeliveryAsync("first", "shared", "one");
        await CreateDeliveryAsync("second", "shared", "two");
        var records = Enumerable.Range(0, 200).Select(i => $"after-{i}").ToList();
        await PutAsync("shared", records);

        foreach (string bucket in new[] { "one", "two" })
        {
            var delivered = await FirehoseObjects.WaitForAsync(Bucket(bucket), records);
            Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // each once, none from before
        }
    }

    [Fact]
    public async Task A_stream_that_reshards_under_writes_is_delivered_once_record_by_record()
    {
        await CreateStreamAsync("resharding", 2);
        await CreateDeliveryAsync("through", "resharding", "reshard");
        var written = new List<string>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (int i = 0; i < 400 && !stop.IsCancellationRequested; i++)
            {
                var batch = Enumerable.Range(0, 10).Select(k => $"w-{i}-{k}").ToList();
                await PutAsync("resharding", batch);
                lock (written)
                    written.AddRange(batch);
            }
        });
        await Task.Delay(200);
        await _host.Client.OkAsync("UpdateShardCount", """{"StreamName":"resharding","TargetShardCount":4,"ScalingType":"UNIFORM_SCALING"}""");
        await WaitActiveAsync("resharding");
        await Task.Delay(200);
        await _host.Client.OkAsync("UpdateShardCount", """{"StreamName":"resharding","TargetShardCount":3,"ScalingType":"UNIFORM_SCALING"}""");
        await WaitActiveAsync("resharding");
        await Task.Delay(200);
        await stop.CancelAsync();
        await writer;

        List<string> all;
        lock (written)
            all = [.. written];
        Assert.True(all.Count >= 100, $"only {all.Count} records were written across the reshards");
        var delivered = await FirehoseObjects.WaitForAsync(Bucket("reshard"), all, seconds: 30);
        Assert.Equal(all.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
    }

    private async Task WaitActiveAsync(string stream)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(20))
        {
            var summary = await _host.Client.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""");
            if (summary.GetProperty("StreamDescriptionSummary").GetProperty("StreamStatus").GetString() == "ACTIVE")
                return;
        }
        Assert.Fail($"{stream} did not become ACTIVE");
    }

    [Fact]
    public async Task KPL_aggregates_in_the_stream_are_delivered_as_their_user_records()
    {
        await CreateStreamAsync("aggregated", 1);
        await CreateDeliveryAsync("deaggregating", "aggregated", "kpl");
        byte[] aggregate = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "kpl-aggregate.bin"));
        await _host.Client.OkAsync("PutRecord", "{\"StreamName\":\"aggregated\",\"PartitionKey\":\"pk-0\",\"Data\":\"" + Convert.ToBase64String(aggregate) + "\"}");
        await PutAsync("aggregated", ["plain-record"]);
        var expected = Enumerable.Range(0, 5).Select(i => "{\"user\":" + i + ",\"msg\":\"hello " + i + "\"}").Append("raw bytes").Append("plain-record").ToList();
        var delivered = await FirehoseObjects.WaitForAsync(Bucket("kpl"), expected);
        Assert.Equal(expected.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task After_a_restart_delivery_goes_on_from_the_stored_positions()
    {
        await CreateStreamAsync("restarted", 1);
        await CreateDeliveryAsync("onward", "restarted", "onward");
        var first = Enumerable.Range(0, 30).Select(i => $"first-{i}").ToList();
        await PutAsync("restarted", first);
        await FirehoseObjects.WaitForAsync(Bucket("onward"), first);

        await _host.StopAsync();
        await _host.StartAsync();

        var second = Enumerable.Range(0, 30).Select(i => $"second-{i}").ToList();
        await PutAsync("restarted", second);
        var delivered = await FirehoseObjects.WaitForAsync(Bucket("onward"), second);
        Assert.Equal(first.Concat(second).Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // nothing twice
    }
}
