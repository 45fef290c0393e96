using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// What Kinesis cannot show, checked against known traffic: who writes to a stream (by access key and User-Agent)
/// and how far behind each reader is, in records and milliseconds, at <c>GET /console/api/pipeline</c> and as
/// <c>runnel_*</c> series at <c>/metrics</c>; rates over a window of the server's clock.
/// </summary>
public sealed class PipelineViewTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-pipeline-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(Start);
    private readonly RestartableServer _host;

    public PipelineViewTests() => _host = new RestartableServer(_dataDir, _clock, new RunnelOptions { Limits = new() { Enabled = false } });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private async Task<JsonElement> CallAs(string accessKey, string userAgent, string operation, string body)
    {
        var (ok, answer) = await SendAs(_host, accessKey, userAgent, operation, body);
        Assert.True(ok, $"{operation}: {answer}");
        return answer;
    }

    /// <summary>A call signed (not checked) with <paramref name="accessKey"/>, from <paramref name="userAgent"/>: whether it succeeded, and its answer.</summary>
    private static async Task<(bool Ok, JsonElement Answer)> SendAs(RestartableServer host, string accessKey, string userAgent, string operation, string body)
    {
        using var request = TestClient.Request(operation, body, signed: false);
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKey}/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        using var response = await host.Client.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.IsSuccessStatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Records(int count, string key, string stream = "mapped") =>
        $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"{{key}}","Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes("r" + i))}}"}"""))}}]}""";

    private Task<JsonElement> PipelineAsync() => PipelineAsync(_host);

    private static async Task<JsonElement> PipelineAsync(RestartableServer host) => JsonDocument.Parse(await host.Client.Http.GetStringAsync("/console/api/pipeline")).RootElement.Clone();

    /// <summary>The readers of a stream on the map (registered consumers, iterator clients, delivery streams).</summary>
    private static List<JsonElement> ReadersOf(JsonElement pipeline, string stream) =>
        pipeline.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == stream).GetProperty("consumers").EnumerateArray().ToList();

    private static (long Records, long Millis) LagOf(JsonElement pipeline, string stream, string reader)
    {
        var found = Assert.Single(ReadersOf(pipeline, stream), r => r.GetProperty("name").GetString() == reader);
        return (found.GetProperty("recordsBehind").GetInt64(), found.GetProperty("millisBehind").GetInt64());
    }

    /// <summary>The value of one series of /metrics (labels as the exporter orders them, by name), or null when absent.</summary>
    private static double? Sample(string metrics, string name, string labels) =>
        System.Text.RegularExpressions.Regex.Match(metrics, $$"""^{{name}}\{otel_scope_name="[^"]+",{{System.Text.RegularExpressions.Regex.Escape(labels)}}\} (\S+)$""",
            System.Text.RegularExpressions.RegexOptions.Multiline) is { Success: true } m ? double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;

    [Fact]
    public async Task Writers_and_readers_show_with_their_rates_and_lag()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"mapped","ShardCount":1}""");
        _host.Server.Pipeline!.Rates.Note();
        _clock.Advance(TimeSpan.FromSeconds(10));
        await CallAs("AKIDWRITERA", "Boto3/1.26.27 Python/3.11", "PutRecords", Records(6, "a"));
        await CallAs("AKIDWRITERA", "Boto3/1.26.27 Python/3.11", "PutRecord", """{"StreamName":"mapped","PartitionKey":"a","Data":"eA=="}""");
        await CallAs("AKIDWRITERB", "aws-sdk-js/3.1178.0", "PutRecords", Records(3, "b"));

        var iterator = (await CallAs("AKIDREADER", "KCL/2.6", "GetShardIterator", """{"StreamName":"mapped","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString();
        _clock.Advance(TimeSpan.FromSeconds(30)); // the records are 30 s old when read
        var read = await CallAs("AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}","Limit":4}""");
        Assert.Equal(4, read.GetProperty("Records").GetArrayLength());

        var pipeline = JsonDocument.Parse(await _host.Client.Http.GetStringAsync("/console/api/pipeline")).RootElement;
        var stream = Assert.Single(pipeline.GetProperty("streams").EnumerateArray());
        Assert.Equal(("mapped", "ACTIVE", 1), (stream.GetProperty("name").GetString(), stream.GetProperty("status").GetString(), stream.GetProperty("openShards").GetInt32()));
        // 10 records over the 40 s since the first snapshot.
        Assert.Equal(0.25, stream.GetProperty("incomingRecordsPerSecond").GetDouble());
        var producers = stream.GetProperty("producers").EnumerateArray().ToList();
        Assert.Equal(["AKIDWRITERA Boto3/1.26.27", "AKIDWRITERB aws-sdk-js/3.1178.0"], producers.Select(p => p.GetProperty("client").GetString()));
        Assert.Equal([7L, 3L], producers.Select(p => p.GetProperty("records").GetInt64()));
        Assert.Equal("aws-sdk-js/3.1178.0", producers[1].GetProperty("userAgent").GetString());
        var reader = Assert.Single(stream.GetProperty("consumers").EnumerateArray());
        Assert.Equal(("iterator", "AKIDREADER KCL/2.6"), (reader.GetProperty("kind").GetString(), reader.GetProperty("name").GetString()));
        Assert.Equal(6, reader.GetProperty("recordsBehind").GetInt64());
        Assert.Equal(30_000, reader.GetProperty("millisBehind").GetInt64());

        string metrics = await _host.Client.Http.GetStringAsync("/metrics");
        Assert.Matches("""runnel_reader_lag_records\{otel_scope_name="[^"]+",Kind="iterator",Reader="AKIDREADER KCL/2.6",ShardId="shardId-000000000000",StreamName="mapped"\} 6\n""", metrics);
        Assert.Matches("""runnel_writer_records_total\{otel_scope_name="[^"]+",StreamName="mapped",Writer="AKIDWRITERA Boto3/1.26.27"\} 7\n""", metrics);

        // Reading the rest: caught up, nothing behind.
        var rest = await CallAs("AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{read.GetProperty("NextShardIterator").GetString()}}"}""");
        Assert.Equal(6, rest.GetProperty("Records").GetArrayLength());
        pipeline = JsonDocument.Parse(await _host.Client.Http.GetStringAsync("/console/api/pipeline")).RootElement;
        reader = Assert.Single(pipeline.GetProperty("streams")[0].GetProperty("consumers").EnumerateArray());
        Assert.Equal((0L, 0L), (reader.GetProperty("recordsBehind").GetInt64(), reader.GetProperty("millisBehind").GetInt64()));
    }

    [Fact(Timeout = 60000)]
    public async Task A_reader_that_stops_falls_behind_while_records_arrive_and_stays_listed_for_an_hour()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"stalled","ShardCount":1}""");
        await CallAs("AKIDWRITER", "Boto3/1.26.27", "PutRecords", Records(3, "a", "stalled"));
        var iterator = (await CallAs("AKIDREADER", "KCL/2.6", "GetShardIterator", """{"StreamName":"stalled","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString();
        Assert.Equal(3, (await CallAs("AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records").GetArrayLength());
        Assert.Equal((0L, 0L), LagOf(await PipelineAsync(), "stalled", "AKIDREADER KCL/2.6"));

        // The reader reads no more; records keep coming: 4 at +5 s, 2 at +25 s; seen at +35 s.
        _clock.Advance(TimeSpan.FromSeconds(5));
        await CallAs("AKIDWRITER", "Boto3/1.26.27", "PutRecords", Records(4, "a", "stalled"));
        _clock.Advance(TimeSpan.FromSeconds(20));
        await CallAs("AKIDWRITER", "Boto3/1.26.27", "PutRecords", Records(2, "a", "stalled"));
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal((6L, 30_000L), LagOf(await PipelineAsync(), "stalled", "AKIDREADER KCL/2.6")); // the oldest unread record is 30 s old
        string metrics = await _host.Client.Http.GetStringAsync("/metrics");
        const string Labels = "Kind=\"iterator\",Reader=\"AKIDREADER KCL/2.6\",ShardId=\"shardId-000000000000\",StreamName=\"stalled\"";
        Assert.Equal(6, Sample(metrics, "runnel_reader_lag_records", Labels));
        Assert.Equal(30_000, Sample(metrics, "runnel_reader_lag_milliseconds", Labels));

        // Ten minutes on, and fifty: still listed, further behind every time it is looked at.
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal((6L, 630_000L), LagOf(await PipelineAsync(), "stalled", "AKIDREADER KCL/2.6"));
        _clock.Advance(TimeSpan.FromMinutes(40));
        Assert.Equal(3_030_000, Sample(await _host.Client.Http.GetStringAsync("/metrics"), "runnel_reader_lag_milliseconds", Labels));

        // An hour after its last request it is taken for gone.
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.DoesNotContain(ReadersOf(await PipelineAsync(), "stalled"), r => r.GetProperty("kind").GetString() == "iterator");
        Assert.Null(Sample(await _host.Client.Http.GetStringAsync("/metrics"), "runnel_reader_lag_milliseconds", Labels));
    }

    [Fact(Timeout = 60000)]
    public async Task The_readers_of_a_deleted_stream_are_forgotten_when_next_shown()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"short-lived","ShardCount":1}""");
        await CallAs("AKIDWRITER", "Boto3/1.26.27", "PutRecords", Records(3, "a", "short-lived"));
        var iterator = (await CallAs("AKIDREADER", "KCL/2.6", "GetShardIterator", """{"StreamName":"short-lived","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString();
        await CallAs("AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}","Limit":1}""");
        const string Labels = "Kind=\"iterator\",Reader=\"AKIDREADER KCL/2.6\",ShardId=\"shardId-000000000000\",StreamName=\"short-lived\"";
        string metrics = await _host.Client.Http.GetStringAsync("/metrics");
        Assert.Equal(1, Sample(metrics, "runnel_reader_records_total", Labels));
        Assert.Equal(2, Sample(metrics, "runnel_reader_lag_records", Labels));

        await _host.Client.OkAsync("DeleteStream", """{"StreamName":"short-lived"}""");
        await _host.Client.Http.GetStringAsync("/metrics"); // measuring forgets them (this scrape may have read the records counter before)
        metrics = await _host.Client.Http.GetStringAsync("/metrics");
        Assert.Null(Sample(metrics, "runnel_reader_lag_records", Labels));
        Assert.Null(Sample(metrics, "runnel_reader_records_total", Labels));
    }

    [Fact(Timeout = 60000)]
    public async Task A_registered_consumer_is_behind_by_what_arrived_since_it_registered_until_it_reads_and_again_once_it_stops()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"fanned","ShardCount":1}""");
        await CallAs("AKIDWRITER", "Boto3/1.26.27", "PutRecords", Records(2, "a", "fanned")); // before the consumer: not its to read
        _clock.Advance(TimeSpan.FromSeconds(1));
        string consumer = (await _host.Client.OkAsync("RegisterStreamConsumer", """{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/fanned","ConsumerName":"app"}"""))
            .GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
        var app = Assert.Single(ReadersOf(await PipelineAsync(), "fanned"));
        Assert.Equal(("consumer", false, 0L), (app.GetProperty("kind").GetString(), app.GetProperty("reading").GetBoolean(), app.GetProperty("recordsBehind").GetInt64()));

        // Not subscribed: every record since it registered is behind.
        _clock.Advance(TimeSpan.FromSeconds(2));
        await CallAs("AKIDWRITER", "Boto3/1.26.27", "PutRecords", Records(3, "a", "fanned"));
        _clock.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal((3L, 7_000L), LagOf(await PipelineAsync(), "fanned", "app"));
        const string Labels = "Kind=\"consumer\",Reader=\"app\",ShardId=\"shardId-000000000000\",StreamName=\"fanned\"";
        Assert.Equal(3, Sample(await _host.Client.Http.GetStringAsync("/metrics"), "runnel_reader_lag_records", Labels));

        // It subscribes, reads everything, and stops.
        await using (var subscriber = await EventStreamSubscriber.StartAsync(_host.Client.Http, consumer, "shardId-000000000000", """{"Type":"TRIM_HORIZON"}""", System.Net.HttpVersion.Version11))
        {
            Assert.Equal("initial-response", (await subscriber.NextAsync())!.Header(":event-type"));
            await subscriber.RecordsAsync(5);
        }
        for (int i = 0; i < 1000 && _host.Server.Streams.Subscriptions.Count > 0; i++)
            await Task.Delay(10); // the server sees the subscriber go
        Assert.Equal(0, _host.Server.Streams.Subscriptions.Count);
        app = Assert.Single(ReadersOf(await PipelineAsync(), "fanned"));
        Assert.Equal((true, 0L, 0L), (app.GetProperty("reading").GetBoolean(), app.GetProperty("recordsBehind").GetInt64(), app.GetProperty("millisBehind").GetInt64()));

        // Records arrive after it stopped: it falls behind, and stays listed for as long as it is registered.
        _clock.Advance(TimeSpan.FromSeconds(1));
        await CallAs("AKIDWRITER", "Boto3/1.26.27", "PutRecords", Records(2, "a", "fanned"));
        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal((2L, 4_000L), LagOf(await PipelineAsync(), "fanned", "app"));
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal((2L, 7_204_000L), LagOf(await PipelineAsync(), "fanned", "app"));
        Assert.Equal(7_204_000, Sample(await _host.Client.Http.GetStringAsync("/metrics"), "runnel_reader_lag_milliseconds", Labels));

        await _host.Client.OkAsync("DeregisterStreamConsumer", $$"""{"ConsumerARN":"{{consumer}}"}""");
        Assert.Empty(ReadersOf(await PipelineAsync(), "fanned"));
        Assert.Null(Sample(await _host.Client.Http.GetStringAsync("/metrics"), "runnel_reader_lag_milliseconds", Labels));
    }

    [Fact(Timeout = 60000)]
    public async Task Refused_writes_and_failed_reads_are_counted_per_client_on_the_map_and_at_metrics()
    {
        // A server of its own whose limits are on: 10 records a second written, one read a second, per shard; the
        // buckets fill by the test's clock only, so what is refused is exactly what the answers say.
        string dataDir = Path.Combine(Path.GetTempPath(), "runnel-pipeline-limits-" + Guid.NewGuid().ToString("N"));
        var clock = new ManualClock(Start);
        var host = new RestartableServer(dataDir, clock, new RunnelOptions { Limits = new() { WriteRecordsPerSecond = 10, ReadsPerSecond = 1 } });
        try
        {
            await host.StartAsync();
            await host.Client.OkAsync("CreateStream", """{"StreamName":"refusing","ShardCount":1}""");
            await host.Client.OkAsync("CreateStream", """{"StreamName":"other","ShardCount":1}""");
            string consumer = (await host.Client.OkAsync("RegisterStreamConsumer", """{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/refusing","ConsumerName":"app"}"""))
                .GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
            host.Server.Pipeline!.Rates.Note();
            clock.Advance(TimeSpan.FromSeconds(1));

            // Writes: 25 records where 10 fit, then one more record with none left.
            var (_, put) = await SendAs(host, "AKIDWRITER", "Boto3/1.26.27 Python/3.11", "PutRecords", Records(25, "a", "refusing"));
            int refused = put.GetProperty("FailedRecordCount").GetInt32();
            Assert.InRange(refused, 1, 24);
            var (oneStored, _) = await SendAs(host, "AKIDWRITER", "Boto3/1.26.27 Python/3.11", "PutRecord", """{"StreamName":"refusing","PartitionKey":"a","Data":"eA=="}""");
            Assert.False(oneStored);
            refused++;

            // Reads: one, a second within the second (throttled), one naming another stream's ARN (invalid).
            string iterator = (await SendAs(host, "AKIDREADER", "KCL/2.6", "GetShardIterator", """{"StreamName":"refusing","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
                .Answer.GetProperty("ShardIterator").GetString()!;
            var (read, _) = await SendAs(host, "AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}","Limit":1}""");
            Assert.True(read);
            var (again, throttled) = await SendAs(host, "AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
            Assert.Equal((false, "ProvisionedThroughputExceededException"), (again, throttled.GetProperty("__type").GetString()));
            var (mismatched, _) = await SendAs(host, "AKIDREADER", "KCL/2.6", "GetRecords",
                $$"""{"ShardIterator":"{{iterator}}","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/other"}""");
            Assert.False(mismatched);

            // A subscription, and a second one within the second: refused.
            await using (var first = await EventStreamSubscriber.StartAsync(host.Client.Http, consumer, "shardId-000000000000", """{"Type":"LATEST"}""", System.Net.HttpVersion.Version11))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, first.Status);
                await using var second = await EventStreamSubscriber.StartAsync(host.Client.Http, consumer, "shardId-000000000000", """{"Type":"LATEST"}""", System.Net.HttpVersion.Version11);
                Assert.Equal(System.Net.HttpStatusCode.BadRequest, second.Status);
            }

            clock.Advance(TimeSpan.FromSeconds(59)); // a minute after the snapshot: the counts over the last minute are the counts
            var pipeline = await PipelineAsync(host);
            var stream = pipeline.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "refusing");
            var writer = Assert.Single(stream.GetProperty("producers").EnumerateArray());
            Assert.Equal(("AKIDWRITER Boto3/1.26.27", 25 - refused + 1, refused, (double)refused),
                (writer.GetProperty("client").GetString(), writer.GetProperty("records").GetInt32(), writer.GetProperty("failedRecords").GetInt32(), writer.GetProperty("errorsPerMinute").GetDouble()));
            var readers = ReadersOf(pipeline, "refusing").ToDictionary(r => r.GetProperty("name").GetString()!, r => r.GetProperty("errorsPerMinute").GetDouble());
            Assert.Equal(2, readers["AKIDREADER KCL/2.6"]);
            Assert.Equal(1, readers["app"]);

            string metrics = await host.Client.Http.GetStringAsync("/metrics");
            Assert.Equal(refused, Sample(metrics, "runnel_writer_failed_records_total", "StreamName=\"refusing\",Writer=\"AKIDWRITER Boto3/1.26.27\""));
            const string Reader = "Kind=\"iterator\",Reader=\"AKIDREADER KCL/2.6\",ShardId=\"shardId-000000000000\",StreamName=\"refusing\"";
            Assert.Equal(2, Sample(metrics, "runnel_reader_errors_total", Reader));
            Assert.Equal(1, Sample(metrics, "runnel_reader_errors_total", "Kind=\"consumer\",Reader=\"app\",ShardId=\"shardId-000000000000\",StreamName=\"refusing\""));

            // An iterator past its five minutes: expired, one more.
            clock.Advance(TimeSpan.FromMinutes(5));
            var (expired, answer) = await SendAs(host, "AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
            Assert.Equal((false, "ExpiredIteratorException"), (expired, answer.GetProperty("__type").GetString()));
            Assert.Equal(3, Sample(await host.Client.Http.GetStringAsync("/metrics"), "runnel_reader_errors_total", Reader));
        }
        finally
        {
            await host.DisposeAsync();
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact(Timeout = 60000)]
    public async Task Clients_that_differ_only_after_the_User_Agents_first_product_are_one_series_and_one_producer()
    {
        // One access key, two User-Agents with the same first product: /metrics labels both "AKIDTWIN Boto3/1.26.27".
        const string Lambda = "Boto3/1.26.27 Python/3.12 exec-env/AWS_Lambda_python3.12", Laptop = "Boto3/1.26.27 Python/3.11";
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"twins","ShardCount":1}""");
        await CallAs("AKIDTWIN", Laptop, "PutRecords", Records(3, "a", "twins"));
        await CallAs("AKIDTWIN", Lambda, "PutRecords", Records(2, "a", "twins"));
        const string Iterator = """{"StreamName":"twins","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""";
        var laptop = (await CallAs("AKIDTWIN", Laptop, "GetShardIterator", Iterator)).GetProperty("ShardIterator").GetString();
        var lambda = (await CallAs("AKIDTWIN", Lambda, "GetShardIterator", Iterator)).GetProperty("ShardIterator").GetString();
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(5, (await CallAs("AKIDTWIN", Laptop, "GetRecords", $$"""{"ShardIterator":"{{laptop}}"}""")).GetProperty("Records").GetArrayLength()); // caught up
        Assert.Equal(1, (await CallAs("AKIDTWIN", Lambda, "GetRecords", $$"""{"ShardIterator":"{{lambda}}","Limit":1}""")).GetProperty("Records").GetArrayLength()); // 4 behind

        string metrics = await _host.Client.Http.GetStringAsync("/metrics");
        var samples = metrics.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l[..l.LastIndexOf(' ')]).ToList();
        Assert.Equal(samples.Count, samples.Distinct(StringComparer.Ordinal).Count()); // a valid exposition: no two samples with the same labels
        const string Reader = "Kind=\"iterator\",Reader=\"AKIDTWIN Boto3/1.26.27\",ShardId=\"shardId-000000000000\",StreamName=\"twins\"";
        Assert.Equal(5, Sample(metrics, "runnel_writer_records_total", "StreamName=\"twins\",Writer=\"AKIDTWIN Boto3/1.26.27\""));
        Assert.Equal(6, Sample(metrics, "runnel_reader_records_total", Reader)); // summed
        Assert.Equal(4, Sample(metrics, "runnel_reader_lag_records", Reader)); // the larger lag
        Assert.Equal(10_000, Sample(metrics, "runnel_reader_lag_milliseconds", Reader));

        var pipeline = await PipelineAsync();
        var producer = Assert.Single(pipeline.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "twins").GetProperty("producers").EnumerateArray());
        Assert.Equal(("AKIDTWIN Boto3/1.26.27", 5L, Laptop), (producer.GetProperty("client").GetString(), producer.GetProperty("records").GetInt64(), producer.GetProperty("userAgent").GetString()));
        Assert.Equal((4L, 10_000L), LagOf(pipeline, "twins", "AKIDTWIN Boto3/1.26.27"));
    }
}
