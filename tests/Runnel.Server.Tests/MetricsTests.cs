using System.Globalization;
using System.Net;
using System.Text;

namespace Runnel.Server.Tests;

/// <summary>
/// <c>GET /metrics</c> against known traffic: every stream-level count exact (records, bytes, requests, throttled
/// records and calls, successes), shard-level series only for the shards of a stream that enabled them, in
/// Prometheus's text format through OpenTelemetry's exporter. The write limit is 10 records a second per shard, so
/// that throttling is certain.
/// </summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-metrics-" + Guid.NewGuid().ToString("N"));
    private readonly RestartableServer _host;

    public MetricsTests() => _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions
    {
        Limits = new() { WriteRecordsPerSecond = 10, ReadsPerSecond = 1 },
    });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private TestClient Client => _host.Client;

    /// <summary>The samples of /metrics: "name{labels}" to value.</summary>
    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        using var response = await Client.Http.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            int space = line.LastIndexOf(' ');
            string series = System.Text.RegularExpressions.Regex.Replace(line[..space], "otel_scope_name=\"[^\"]*\",?", "");
            samples[series] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return samples;
    }

    private static double Of(Dictionary<string, double> samples, string metric, string stream) =>
        samples.TryGetValue($"{metric}{{StreamName=\"{stream}\"}}", out double value) ? value : double.NaN;

    private static string Records(string stream, int count, int bytes) =>
        $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"{{Convert.ToBase64String(new byte[bytes])}}"}"""))}}]}""";

    [Fact]
    public async Task Stream_metrics_count_the_traffic_exactly_throttled_records_and_calls_included()
    {
        await Client.OkAsync("CreateStream", """{"StreamName":"counted","ShardCount":1}""");
        await Task.Delay(50);
        var first = await Client.OkAsync("PutRecords", Records("counted", 4, 100)); // within the 10 a second
        Assert.Equal(0, first.GetProperty("FailedRecordCount").GetInt32());
        var second = await Client.OkAsync("PutRecords", Records("counted", 20, 50)); // the bucket holds about 6 more
        int throttled = second.GetProperty("FailedRecordCount").GetInt32();
        Assert.InRange(throttled, 10, 14);
        Assert.All(second.GetProperty("Records").EnumerateArray().Where(r => r.TryGetProperty("ErrorCode", out _)),
            r => Assert.Equal("ProvisionedThroughputExceededException", r.GetProperty("ErrorCode").GetString()));
        var one = await Client.CallAsync("PutRecord", $$"""{"StreamName":"counted","PartitionKey":"one","Data":"{{Convert.ToBase64String(new byte[7])}}"}""");
        bool oneStored = one.Status == System.Net.HttpStatusCode.OK;
        int stored = 4 + (20 - throttled) + (oneStored ? 1 : 0);

        string iterator = (await Client.OkAsync("GetShardIterator", """{"StreamName":"counted","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString()!;
        var read = await Client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
        Assert.Equal(stored, read.GetProperty("Records").GetArrayLength());
        var refused = await Client.CallAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}"""); // one read a second
        Assert.Equal("ProvisionedThroughputExceededException", refused.Body.GetProperty("__type").GetString());

        var m = await ScrapeAsync();
        Assert.Equal(stored, Of(m, "kinesis_incoming_records_total", "counted"));
        Assert.Equal(4 * 100 + (20 - throttled) * 50 + (oneStored ? 7 : 0), Of(m, "kinesis_incoming_bytes_total", "counted"));
        Assert.Equal(oneStored ? 3 : 2, Of(m, "kinesis_incoming_bytes_samples_total", "counted")); // the operations that stored records
        Assert.Equal(24, Of(m, "kinesis_put_records_total_records_total", "counted"));
        Assert.Equal(24 - throttled, Of(m, "kinesis_put_records_successful_records_total", "counted"));
        Assert.Equal(throttled, Of(m, "kinesis_put_records_throttled_records_total", "counted"));
        Assert.Equal(0, Of(m, "kinesis_put_records_failed_records_total", "counted"));
        Assert.Equal(2, Of(m, "kinesis_put_records_success_total", "counted"));
        Assert.Equal(2, Of(m, "kinesis_put_records_latency_samples_total", "counted"));
        Assert.True(Of(m, "kinesis_put_records_latency_milliseconds_total", "counted") > 0);
        Assert.Equal(oneStored ? 7 : 0, Of(m, "kinesis_put_record_bytes_total", "counted"));
        Assert.Equal((oneStored ? 1 : 0, 1), (Of(m, "kinesis_put_record_success_total", "counted"), Of(m, "kinesis_put_record_success_samples_total", "counted")));
        Assert.Equal(throttled + (oneStored ? 0 : 1), Of(m, "kinesis_write_provisioned_throughput_exceeded_total", "counted")); // records refused, by both operations
        Assert.Equal(stored, Of(m, "kinesis_get_records_records_total", "counted"));
        Assert.Equal((1, 2), (Of(m, "kinesis_get_records_success_total", "counted"), Of(m, "kinesis_get_records_success_samples_total", "counted")));
        Assert.Equal((1, 2), (Of(m, "kinesis_read_provisioned_throughput_exceeded_total", "counted"), Of(m, "kinesis_read_provisioned_throughput_exceeded_samples_total", "counted")));
        Assert.Equal(0, Of(m, "kinesis_get_records_iterator_age_milliseconds", "counted")); // read to the newest record
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("kinesis_shard_", StringComparison.Ordinal)); // enhanced monitoring is off
    }

    [Fact]
    public async Task Shard_metrics_appear_for_the_shards_of_streams_that_enabled_them_only()
    {
        await Client.OkAsync("CreateStream", """{"StreamName":"watched","ShardCount":2}""");
        await Client.OkAsync("CreateStream", """{"StreamName":"quiet","ShardCount":1}""");
        await Task.Delay(50);
        await Client.OkAsync("EnableEnhancedMonitoring", """{"StreamName":"watched","ShardLevelMetrics":["IncomingRecords","IncomingBytes"]}""");
        var put = await Client.OkAsync("PutRecords", Records("watched", 8, 10));
        await Client.OkAsync("PutRecords", Records("quiet", 3, 10));
        var perShard = put.GetProperty("Records").EnumerateArray().GroupBy(r => r.GetProperty("ShardId").GetString()!).ToDictionary(g => g.Key, g => g.Count());

        var m = await ScrapeAsync();
        foreach (string shard in new[] { "shardId-000000000000", "shardId-000000000001" })
            Assert.Equal(perShard.GetValueOrDefault(shard), m[$"kinesis_shard_incoming_records_total{{ShardId=\"{shard}\",StreamName=\"watched\"}}"]);
        Assert.Equal(8, m.Where(s => s.Key.StartsWith("kinesis_shard_incoming_records_total{", StringComparison.Ordinal)).Sum(s => s.Value));
        Assert.Contains(m.Keys, k => k.StartsWith("kinesis_shard_incoming_bytes_total{", StringComparison.Ordinal));
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("kinesis_shard_outgoing", StringComparison.Ordinal)); // not enabled
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("kinesis_shard_", StringComparison.Ordinal) && k.Contains("\"quiet\"", StringComparison.Ordinal));
        Assert.Equal(3, Of(m, "kinesis_incoming_records_total", "quiet")); // stream-level always
        Assert.Contains("# TYPE kinesis_incoming_records_total counter", await Client.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Contains("service_name=\"runnel\"", Encoding.UTF8.GetString(await Client.Http.GetByteArrayAsync("/metrics")), StringComparison.Ordinal);
    }
    [Fact(Timeout = 60000)]
    public async Task A_consumers_subscriptions_and_events_are_counted_under_its_name()
    {
        await Client.OkAsync("CreateStream", """{"StreamName":"fanned","ShardCount":1}""");
        await Task.Delay(50);
        string consumer = (await Client.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/fanned","ConsumerName":"reader"}"""))
            .GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
        await Task.Delay(50);
        System.Diagnostics.Stopwatch accepted;
        await using (var subscriber = await EventStreamSubscriber.StartAsync(Client.Http, consumer, "shardId-000000000000", """{"Type":"TRIM_HORIZON"}""", HttpVersion.Version11))
        {
            accepted = System.Diagnostics.Stopwatch.StartNew(); // the server took it before it answered
            Assert.Equal(System.Net.HttpStatusCode.OK, subscriber.Status);
            Assert.Equal("initial-response", (await subscriber.NextAsync())!.Header(":event-type"));
            await Client.OkAsync("PutRecords", Records("fanned", 5, 10));
            await subscriber.RecordsAsync(5);
        }
        int successes = 1;
        if (accepted.ElapsedMilliseconds >= 800) // a loaded machine took its second: past it, start again, and at once again
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, 1100 - accepted.ElapsedMilliseconds)));
            await using (var again = await EventStreamSubscriber.StartAsync(Client.Http, consumer, "shardId-000000000000", """{"Type":"LATEST"}""", HttpVersion.Version11))
                Assert.Equal(System.Net.HttpStatusCode.OK, again.Status);
            successes++;
        }
        await using (var refused = await EventStreamSubscriber.StartAsync(Client.Http, consumer, "shardId-000000000000", """{"Type":"LATEST"}""", HttpVersion.Version11))
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.Status); // once a second per consumer and shard

        var m = await ScrapeAsync();
        string Of(string metric) => $"{metric}{{ConsumerName=\"reader\",StreamName=\"fanned\"}}";
        Assert.Equal((successes, successes + 1), (m[Of("kinesis_subscribe_to_shard_success_total")], m[Of("kinesis_subscribe_to_shard_success_samples_total")]));
        Assert.Equal(1, m[Of("kinesis_subscribe_to_shard_rate_exceeded_total")]);
        Assert.Equal(5, m[Of("kinesis_subscribe_to_shard_event_records_total")]);
        Assert.Equal(5 * 10 + 5 * 2, m[Of("kinesis_subscribe_to_shard_event_bytes_total")]); // data and partition keys, as the consumer's budget counts them
        Assert.True(m[Of("kinesis_subscribe_to_shard_event_success_total")] >= 1);
        Assert.Equal(0, m[Of("kinesis_subscribe_to_shard_event_millis_behind_latest_milliseconds")]);
    }
    [Fact(Timeout = 60000)]
    public async Task A_delivery_streams_puts_and_deliveries_are_counted_under_Firehose_names()
    {
        await Client.OkAsync("Firehose_20150804.CreateDeliveryStream", """
            {"DeliveryStreamName":"fh","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::metrics",
             "BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0}}}
            """);
        await Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("fh", Enumerable.Range(0, 5).Select(i => $"batch-{i}")));
        await Client.OkAsync("Firehose_20150804.PutRecord", "{\"DeliveryStreamName\":\"fh\",\"Record\":{\"Data\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes("single\n")) + "\"}}");
        await FirehoseObjects.WaitForAsync(Path.Combine(_dataDir, "buckets", "metrics"), [.. Enumerable.Range(0, 5).Select(i => $"batch-{i}"), "single"]);

        string Of(string metric) => $"{metric}{{DeliveryStreamName=\"fh\"}}";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var m = await ScrapeAsync();
        while (m.GetValueOrDefault(Of("firehose_delivery_to_s3_records_total")) < 6 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50); // the objects are visible a moment before the delivery is counted
            m = await ScrapeAsync();
        }
        Assert.Equal(6, m[Of("firehose_incoming_records_total")]);
        Assert.Equal(5 * "batch-0\n".Length + "single\n".Length, m[Of("firehose_incoming_bytes_total")]);
        Assert.Equal(2, m[Of("firehose_incoming_put_requests_total")]);
        Assert.Equal((5, 1), (m[Of("firehose_put_record_batch_records_total")], m[Of("firehose_put_record_batch_requests_total")]));
        Assert.Equal(1, m[Of("firehose_put_record_requests_total")]);
        Assert.Equal(6, m[Of("firehose_delivery_to_s3_records_total")]);
        Assert.Equal(m[Of("firehose_delivery_to_s3_success_samples_total")], m[Of("firehose_delivery_to_s3_success_total")]); // every attempt succeeded
        Assert.True(m.ContainsKey(Of("firehose_delivery_to_s3_data_freshness_seconds")));
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("firehose_delivery_to_http_endpoint", StringComparison.Ordinal));
    }
    [Fact(Timeout = 60000)]
    public async Task A_delivery_stream_reading_a_stream_shows_what_it_has_not_read_and_what_it_has_not_delivered()
    {
        await Client.OkAsync("CreateStream", """{"StreamName":"sourced","ShardCount":1}""");
        string source = "\"DeliveryStreamType\":\"KinesisStreamAsSource\",\"KinesisStreamSourceConfiguration\":{\"KinesisStreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/sourced\","
            + "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\"}";
        await Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"fh-ok\"," + source + ",\"ExtendedS3DestinationConfiguration\":{"
            + "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::sourced\",\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}}}");
        // An endpoint nothing listens on: every attempt fails, and is retried for longer than the test.
        await Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"fh-failing\"," + source + ",\"HttpEndpointDestinationConfiguration\":{"
            + "\"EndpointConfiguration\":{\"Url\":\"https://127.0.0.1:9/in/\",\"AccessKey\":\"k\"},\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0},"
            + "\"RetryOptions\":{\"DurationInSeconds\":3600},\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::backup\"}}}");
        string Lag(string delivery) => $"runnel_reader_lag_records{{Kind=\"delivery\",Reader=\"{delivery}\",ShardId=\"shardId-000000000000\",StreamName=\"sourced\"}}";
        string Waiting(string delivery) => $"runnel_delivery_stream_records_behind{{DeliveryStreamName=\"{delivery}\"}}";
        // Both deliveries read the stream (from its tip): each is measured as a reader of its shard.
        var m = await ScrapeAsync();
        for (int i = 0; i < 500 && !(m.ContainsKey(Lag("fh-ok")) && m.ContainsKey(Lag("fh-failing"))); i++)
        {
            await Task.Delay(20);
            m = await ScrapeAsync();
        }
        Assert.Equal((0, 0), (m[Lag("fh-ok")], m[Lag("fh-failing")]));

        var records = Enumerable.Range(0, 5).Select(i => $"sourced-{i}").ToList();
        var put = await Client.OkAsync("PutRecords", $$"""{"StreamName":"sourced","Records":[{{string.Join(",", records.Select(r => $$"""{"PartitionKey":"{{r}}","Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(r + "\n"))}}"}"""))}}]}""");
        Assert.Equal(0, put.GetProperty("FailedRecordCount").GetInt32());
        await FirehoseObjects.WaitForAsync(Path.Combine(_dataDir, "buckets", "sourced"), records);

        // Read and delivered: nothing behind. Read and not delivered: the five records, waiting.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            await Task.Delay(20);
            m = await ScrapeAsync();
        }
        while ((m[Waiting("fh-ok")], m[Waiting("fh-failing")], m[Lag("fh-failing")]) != (0, 5, 0) && DateTime.UtcNow < deadline);
        Assert.Equal((0, 0, 5, 0), (m[Lag("fh-ok")], m[Waiting("fh-ok")], m[Waiting("fh-failing")], m[Lag("fh-failing")]));
        Assert.True(m.ContainsKey("firehose_kinesis_millis_behind_latest_milliseconds{DeliveryStreamName=\"fh-ok\"}"));

        // The map: the stream's delivery streams as its readers, reading, with their lag; the waiting records on the delivery stream.
        var pipeline = System.Text.Json.JsonDocument.Parse(await Client.Http.GetStringAsync("/console/api/pipeline")).RootElement;
        var readers = pipeline.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "sourced").GetProperty("consumers").EnumerateArray()
            .Where(c => c.GetProperty("kind").GetString() == "delivery").ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal((true, 0L, "shardId-000000000000"), (readers["fh-failing"].GetProperty("reading").GetBoolean(), readers["fh-failing"].GetProperty("recordsBehind").GetInt64(),
            readers["fh-failing"].GetProperty("shards")[0].GetProperty("shardId").GetString()));
        var failing = pipeline.GetProperty("deliveryStreams").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "fh-failing");
        Assert.Equal(5, failing.GetProperty("recordsBehind").GetInt64());
    }

    [Fact(Timeout = 60000)]
    public async Task The_alert_rules_and_the_dashboard_in_deploy_name_only_series_the_server_publishes()
    {
        // Traffic of every kind the files watch: puts and reads, a fan-out consumer, a delivery stream.
        await A_consumers_subscriptions_and_events_are_counted_under_its_name();
        await A_delivery_streams_puts_and_deliveries_are_counted_under_Firehose_names();
        string published = await Client.Http.GetStringAsync("/metrics");
        var names = System.Text.RegularExpressions.Regex.Matches(published, @"^# TYPE (\S+) ", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        string deploy = Path.Combine(RepositoryRoot(), "deploy");
        var files = new[] { Path.Combine(deploy, "prometheus", "runnel-alerts.yml"), Path.Combine(deploy, "grafana", "runnel-dashboard.json") };
        int checkedNames = 0;
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            foreach (System.Text.RegularExpressions.Match pattern in System.Text.RegularExpressions.Regex.Matches(text, @"__name__=~\\?""([^""\\]+)\\?"""))
            {
                var regex = new System.Text.RegularExpressions.Regex("^" + pattern.Groups[1].Value + "$");
                Assert.True(names.Any(regex.IsMatch), $"{Path.GetFileName(file)}: no published series matches {pattern.Groups[1].Value}");
                checkedNames++;
            }
            foreach (System.Text.RegularExpressions.Match name in System.Text.RegularExpressions.Regex.Matches(text, @"\b(?:kinesis|firehose|runnel)_[a-z_]+\b"))
            {
                if (name.Value.EndsWith('_') || text[name.Index + name.Length] == '.')
                    continue; // the start of a pattern, checked above
                Assert.True(names.Contains(name.Value), $"{Path.GetFileName(file)} names {name.Value}, which /metrics does not publish");
                checkedNames++;
            }
        }
        Assert.True(checkedNames >= 20, $"only {checkedNames} names checked");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "deploy")) && File.Exists(Path.Combine(dir.FullName, "Runnel.slnx")))
                return dir.FullName;
        throw new DirectoryNotFoundException("the repository (Runnel.slnx beside deploy/) is not above " + AppContext.BaseDirectory);
    }
}
