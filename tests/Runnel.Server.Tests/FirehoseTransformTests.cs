namespace Runnel.Server.Tests;

/// <summary>
/// The Lambda processor on a server whose functions run as a local command (<c>--transform-command</c>): a real
/// process reads Firehose's transformation event on its standard input and answers on its standard output.
/// </summary>
public sealed class FirehoseTransformTests : IAsyncLifetime
{
    // The user's function: upper-cases each record, drops "skip", fails "bad" (Python, as a handler might be).
    private const string Handler = """
        import base64, json, os, sys
        event = json.load(sys.stdin)
        with open(os.path.join(os.path.dirname(__file__), "events.jsonl"), "a") as seen:
            seen.write(json.dumps(event) + "\n")
        out = []
        for r in event["records"]:
            text = base64.b64decode(r["data"]).decode().strip()
            if text == "skip":
                out.append({"recordId": r["recordId"], "result": "Dropped", "data": r["data"]})
            elif text == "bad":
                out.append({"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]})
            else:
                out.append({"recordId": r["recordId"], "result": "Ok", "data": base64.b64encode((text.upper() + "\n").encode()).decode()})
        json.dump({"records": out}, sys.stdout)
        """;

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-transform-" + Guid.NewGuid().ToString("N"));
    private RestartableServer _host = null!;
    private TlsReceiver _endpoint = null!;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _received = new();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        string script = Path.Combine(_dataDir, "handler.py");
        await File.WriteAllTextAsync(script, Handler);
        _endpoint = await TlsReceiver.StartAsync(Path.Combine(_dataDir, "tls"), "/in", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = System.Text.Json.JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement;
            foreach (var record in body.GetProperty("records").EnumerateArray())
                _received.Enqueue(System.Text.Encoding.UTF8.GetString(record.GetProperty("data").GetBytesFromBase64()).Trim());
            string id = body.GetProperty("requestId").GetString()!;
            context.Response.ContentType = "application/json";
            await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, "{\"requestId\":\"" + id + "\",\"timestamp\":1}");
        });
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions
        {
            Limits = new() { Enabled = false },
            TransformCommand = $"/usr/bin/python3 {script}",
            HttpEndpointCa = _endpoint.CertificatePath,
        });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _endpoint.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Before_an_HTTP_endpoint_too_the_functions_results_are_honoured_and_failures_backed_up()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"shout-http\",\"HttpEndpointDestinationConfiguration\":{" +
            "\"EndpointConfiguration\":{\"Url\":\"" + _endpoint.Url + "/in\"},\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}," +
            "\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[{\"Type\":\"Lambda\",\"Parameters\":[" +
            "{\"ParameterName\":\"LambdaArn\",\"ParameterValue\":\"arn:aws:lambda:us-east-1:000000000000:function:shout\"}," +
            "{\"ParameterName\":\"BufferIntervalInSeconds\",\"ParameterValue\":\"0\"}]}]}," +
            "\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::http-backup\"}}}");
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("shout-http", ["quiet", "skip", "bad"]));
        string backup = Path.Combine(_dataDir, "buckets", "http-backup");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); _received.IsEmpty || !FirehoseObjects.Keys(backup).Any(); await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, $"received {_received.Count}, backup objects {FirehoseObjects.Keys(backup).Count}");
        Assert.Equal(["QUIET"], _received);
        Assert.StartsWith("processing-failed/", Assert.Single(FirehoseObjects.Keys(backup)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_go_through_the_users_command_and_its_results_are_honoured()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"shouting\",\"ExtendedS3DestinationConfiguration\":{" +
            "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::shout\",\"Prefix\":\"ok/\",\"ErrorOutputPrefix\":\"failed/!{firehose:error-output-type}/\"," +
            "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0},\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[{\"Type\":\"Lambda\",\"Parameters\":[" +
            "{\"ParameterName\":\"LambdaArn\",\"ParameterValue\":\"arn:aws:lambda:us-east-1:000000000000:function:shout\"}," +
            "{\"ParameterName\":\"BufferIntervalInSeconds\",\"ParameterValue\":\"0\"}]}]}}}");
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("shouting", ["hello", "skip", "bad", "world"]));
        string bucket = Path.Combine(_dataDir, "buckets", "shout");
        var delivered = await FirehoseObjects.WaitForAsync(bucket, ["HELLO", "WORLD"]);
        Assert.Equal(["HELLO", "WORLD"], FirehoseObjects.Keys(bucket).Where(k => k.StartsWith("ok/", StringComparison.Ordinal))
            .SelectMany(k => File.ReadAllLines(Path.Combine(bucket, k))).Where(l => l.Length > 0).Order(StringComparer.Ordinal));
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !FirehoseObjects.Keys(bucket).Any(k => k.StartsWith("failed/processing-failed/", StringComparison.Ordinal)); await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "the failed record did not reach the error output");
        string failed = File.ReadAllText(Path.Combine(bucket, FirehoseObjects.Keys(bucket).Single(k => k.StartsWith("failed/", StringComparison.Ordinal))));
        Assert.Contains("\"errorCode\":\"Lambda.ProcessingFailedStatus\"", failed, StringComparison.Ordinal);
        Assert.Contains(Convert.ToBase64String("bad\n"u8), failed, StringComparison.Ordinal);
        Assert.DoesNotContain(delivered, r => r.Contains("SKIP", StringComparison.OrdinalIgnoreCase));

        // Firehose's processing metrics: one invocation that answered, two records Ok ("HELLO\n", "WORLD\n"), one object.
        var metrics = _host.Server.Streams.Metrics.DeliveryStream("shouting");
        Assert.Equal((1L, 1L), (metrics[Runnel.Core.Metrics.FirehoseMetric.ExecuteProcessingSuccess].Count, metrics[Runnel.Core.Metrics.FirehoseMetric.ExecuteProcessingSuccess].Sum));
        Assert.Equal((2L, 12L), (metrics[Runnel.Core.Metrics.FirehoseMetric.SucceedProcessingRecords].Sum, metrics[Runnel.Core.Metrics.FirehoseMetric.SucceedProcessingBytes].Sum));
        Assert.Equal(1L, metrics[Runnel.Core.Metrics.FirehoseMetric.DeliveryObjectCount].Sum);
        Assert.Equal("ExecuteProcessing.Duration", metrics.Definition(Runnel.Core.Metrics.FirehoseMetric.ExecuteProcessingDuration).Name);
    }

    [Fact]
    public async Task A_stream_sources_records_reach_the_function_with_their_Kinesis_metadata_and_their_sequence_numbers_as_ids()
    {
        await _host.Client.OkAsync("CreateStream", "{\"StreamName\":\"clicks\",\"ShardCount\":2}");
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"clicks-shout\",\"DeliveryStreamType\":\"KinesisStreamAsSource\"," +
            "\"KinesisStreamSourceConfiguration\":{\"KinesisStreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/clicks\",\"RoleARN\":\"arn:aws:iam::000000000000:role/r\"}," +
            "\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::clicks\"," +
            "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0},\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[{\"Type\":\"Lambda\",\"Parameters\":[" +
            "{\"ParameterName\":\"LambdaArn\",\"ParameterValue\":\"arn:aws:lambda:us-east-1:000000000000:function:shout\"}," +
            "{\"ParameterName\":\"BufferIntervalInSeconds\",\"ParameterValue\":\"0\"}]}]}}}");
        var put = new Dictionary<string, (string Sequence, string Shard)>(StringComparer.Ordinal);
        foreach (string key in new[] { "user-7", "user-8", "user-9" })
        {
            var answer = await _host.Client.OkAsync("PutRecord", "{\"StreamName\":\"clicks\",\"PartitionKey\":\"" + key + "\",\"Data\":\"" +
                Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("click " + key)) + "\"}");
            put[key] = (answer.GetProperty("SequenceNumber").GetString()!, answer.GetProperty("ShardId").GetString()!);
        }
        await FirehoseObjects.WaitForAsync(Path.Combine(_dataDir, "buckets", "clicks"), ["CLICK USER-7", "CLICK USER-8", "CLICK USER-9"]);

        var records = File.ReadAllLines(Path.Combine(_dataDir, "events.jsonl"))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("deliveryStreamArn").GetString()!.EndsWith("deliverystream/clicks-shout", StringComparison.Ordinal))
            .SelectMany(e =>
            {
                Assert.Equal("arn:aws:kinesis:us-east-1:000000000000:stream/clicks", e.GetProperty("sourceKinesisStreamArn").GetString());
                return e.GetProperty("records").EnumerateArray();
            }).ToList();
        Assert.Equal(3, records.Count);
        foreach (var record in records)
        {
            var metadata = record.GetProperty("kinesisRecordMetadata");
            string key = metadata.GetProperty("partitionKey").GetString()!;
            Assert.Equal(put[key].Sequence, metadata.GetProperty("sequenceNumber").GetString());
            Assert.Equal(put[key].Sequence, record.GetProperty("recordId").GetString()); // AWS's ids of a stream source's records
            Assert.Equal(put[key].Shard, metadata.GetProperty("shardId").GetString());
            Assert.Equal("", metadata.GetProperty("subsequenceNumber").GetString());
            Assert.Equal(record.GetProperty("approximateArrivalTimestamp").GetInt64(), metadata.GetProperty("approximateArrivalTimestamp").GetInt64());
            Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - metadata.GetProperty("approximateArrivalTimestamp").GetInt64(), 0, 60_000);
        }
    }
}
