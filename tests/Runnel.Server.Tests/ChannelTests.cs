using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// Kinesis channels through the API: AWS's shapes and defaults, the rules Runnel enforces (on-demand streams only, one
/// channel of each destination type per stream, freshness 300-900, key templates), a stream with channels refusing
/// DeleteStream, tags by ARN; and delivery: records written after the channel became ACTIVE land in objects named by
/// the template, records that do not match the format go to the dead-letter queue, a restart neither loses nor repeats.
/// The server buffers for one second (<c>--channel-freshness</c>) instead of the channels' five minutes.
/// </summary>
public sealed class ChannelTests : IAsyncLifetime
{
    private const string Account = "000000000000";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-channels-" + Guid.NewGuid().ToString("N"));
    private readonly RestartableServer _host;

    public ChannelTests() =>
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false }, ChannelFreshness = TimeSpan.FromSeconds(1) });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private TestClient Client => _host.Client;

    private string Bucket(string name) => Path.Combine(_dataDir, "buckets", name);

    private static string StreamArn(string name) => $"arn:aws:kinesis:us-east-1:{Account}:stream/{name}";

    private Task CreateStreamAsync(string name, string mode = "ON_DEMAND") =>
        Client.OkAsync("CreateStream", mode == "ON_DEMAND"
            ? $$$"""{"StreamName":"{{{name}}}","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}"""
            : $$"""{"StreamName":"{{name}}","ShardCount":1}""");

    private static string CreateBody(string name, string stream, string format = "JSON", string bucket = "lake", string compression = "GZIP", string extra = "") =>
        $$$$"""
        {"ChannelName":"{{{{name}}}}","ServiceExecutionRoleARN":"arn:aws:iam::{{{{Account}}}}:role/channel",
         "StreamConfigurationList":[{"StreamARN":"{{{{StreamArn(stream)}}}}","RecordConfiguration":{"RecordFormatType":"{{{{format}}}}"}}],
         "S3DestinationConfiguration":{"StorageConfiguration":{"BucketARN":"arn:aws:s3:::{{{{bucket}}}}","ExpectedBucketOwner":"{{{{Account}}}}","CompressionType":"{{{{compression}}}}"{{{{extra}}}}}}}
        """;

    private async Task<JsonElement> CreateChannelAsync(string name, string stream, string format = "JSON", string bucket = "lake", string compression = "GZIP", string extra = "") =>
        (await Client.OkAsync("CreateChannel", CreateBody(name, stream, format, bucket, compression, extra))).GetProperty("ChannelDescription");

    private async Task<JsonElement> DescribeAsync(string arn) =>
        (await Client.OkAsync("DescribeChannel", $$"""{"ChannelARN":"{{arn}}"}""")).GetProperty("ChannelDescription");

    /// <summary>Puts records (each its own partition key) and returns their shard ids and sequence numbers.</summary>
    private async Task<List<(string Shard, string Sequence)>> PutAsync(string stream, IEnumerable<byte[]> records)
    {
        var placed = new List<(string, string)>();
        foreach (var chunk in records.Chunk(100))
        {
            string body = $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", chunk.Select((r, i) => $$"""{"PartitionKey":"k{{i}}","Data":"{{Convert.ToBase64String(r)}}"}"""))}}]}""";
            var answer = await Client.OkAsync("PutRecords", body);
            Assert.Equal(0, answer.GetProperty("FailedRecordCount").GetInt32());
            placed.AddRange(answer.GetProperty("Records").EnumerateArray().Select(r => (r.GetProperty("ShardId").GetString()!, r.GetProperty("SequenceNumber").GetString()!)));
        }
        return placed;
    }

    private static IEnumerable<byte[]> Utf8(IEnumerable<string> texts) => texts.Select(Encoding.UTF8.GetBytes);

    [Fact]
    public async Task A_channel_is_created_described_listed_updated_and_deleted_with_AWS_defaults()
    {
        await CreateStreamAsync("orders");
        var created = await CreateChannelAsync("orders-to-lake", "orders");
        string arn = created.GetProperty("ChannelARN").GetString()!;
        string id = created.GetProperty("ChannelId").GetString()!;
        Assert.Equal($"arn:aws:kinesis:us-east-1:{Account}:channel/{id}", arn);
        Assert.True(Guid.TryParse(id, out _));
        Assert.Equal("CREATING", created.GetProperty("ChannelStatus").GetString());
        var s3 = created.GetProperty("S3DestinationConfiguration");
        Assert.Equal(300, s3.GetProperty("DataFreshnessInSeconds").GetInt32());
        Assert.Equal("kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}",
            s3.GetProperty("StorageConfiguration").GetProperty("OutputKeyTemplate").GetString());
        Assert.Equal("STANDARD", s3.GetProperty("StorageConfiguration").GetProperty("StorageClass").GetString());
        var dlq = s3.GetProperty("DeadLetterQueueS3Configuration");
        Assert.Equal(("arn:aws:s3:::lake", Account, $"kinesis-channel/errors/orders-to-lake/{id}/"),
            (dlq.GetProperty("BucketARN").GetString(), dlq.GetProperty("ExpectedBucketOwner").GetString(), dlq.GetProperty("ErrorOutputPrefix").GetString()));
        Assert.False(created.GetProperty("LoggingConfiguration").GetProperty("CloudWatchLogs").GetProperty("Enabled").GetBoolean());
        var source = created.GetProperty("StreamConfigurationList")[0];
        Assert.Equal(StreamArn("orders"), source.GetProperty("StreamARN").GetString());
        Assert.Equal("JSON", source.GetProperty("RecordConfiguration").GetProperty("RecordFormatType").GetString());
        var summary = (await Client.OkAsync("DescribeStreamSummary", """{"StreamName":"orders"}""")).GetProperty("StreamDescriptionSummary");
        Assert.Equal(summary.GetProperty("StreamCreationTimestamp").GetDouble(), source.GetProperty("StreamCreationTimestamp").GetDouble());
        Assert.Equal(1, summary.GetProperty("ChannelCount").GetInt32());
        Assert.False(created.TryGetProperty("EncryptionConfiguration", out _));

        Assert.Equal("ACTIVE", (await DescribeAsync(arn)).GetProperty("ChannelStatus").GetString());
        var limits = await Client.OkAsync("DescribeLimits", "{}");
        Assert.Equal((1, 100), (limits.GetProperty("ChannelCount").GetInt32(), limits.GetProperty("ChannelCountLimit").GetInt32()));

        var updated = (await Client.OkAsync("UpdateChannel", $$$$"""
            {"ChannelARN":"{{{{arn}}}}","S3DestinationConfiguration":{"DataFreshnessInSeconds":600},"LoggingConfiguration":{"CloudWatchLogs":{"Enabled":true}}}
            """)).GetProperty("ChannelDescription");
        Assert.Equal("UPDATING", updated.GetProperty("ChannelStatus").GetString());
        Assert.Equal(600, updated.GetProperty("S3DestinationConfiguration").GetProperty("DataFreshnessInSeconds").GetInt32());
        var logs = updated.GetProperty("LoggingConfiguration").GetProperty("CloudWatchLogs");
        Assert.Equal(($"/aws/kinesis/orders-to-lake/{id}", "DestinationDelivery"), (logs.GetProperty("LogGroupName").GetString(), logs.GetProperty("LogStreamName").GetString()));
        Assert.Equal("ACTIVE", (await DescribeAsync(arn)).GetProperty("ChannelStatus").GetString());
        Assert.Contains("S3Tables", await Client.ErrorMessageAsync("UpdateChannel",
            $$$"""{"ChannelARN":"{{{arn}}}","S3TablesDestinationConfiguration":{"DataFreshnessInSeconds":600}}""", "InvalidArgumentException"));
        Assert.StartsWith("Nothing to update", await Client.ErrorMessageAsync("UpdateChannel", $$"""{"ChannelARN":"{{arn}}"}""", "InvalidArgumentException"));

        var listed = (await Client.OkAsync("ListChannels", "{}")).GetProperty("ChannelSummaries");
        var only = Assert.Single(listed.EnumerateArray());
        Assert.Equal(("orders-to-lake", arn, id, "ACTIVE", "S3"), (only.GetProperty("ChannelName").GetString(), only.GetProperty("ChannelARN").GetString(),
            only.GetProperty("ChannelId").GetString(), only.GetProperty("ChannelStatus").GetString(), only.GetProperty("ChannelDestinationType").GetString()));
        Assert.Equal(StreamArn("orders"), only.GetProperty("Streams")[0].GetProperty("StreamARN").GetString());

        Assert.Equal("ResourceInUseException", (await Client.CallAsync("DeleteStream", """{"StreamName":"orders"}""")).Body.GetProperty("__type").GetString());
        var (status, body) = await Client.CallAsync("DeleteChannel", $$"""{"ChannelARN":"{{arn}}"}""");
        Assert.Equal((System.Net.HttpStatusCode.OK, JsonValueKind.Undefined), (status, body.ValueKind));
        Assert.Equal($"Channel {arn} not found.", await Client.ErrorMessageAsync("DescribeChannel", $$"""{"ChannelARN":"{{arn}}"}""", "ResourceNotFoundException"));
        Assert.Empty((await Client.OkAsync("ListChannels", "{}")).GetProperty("ChannelSummaries").EnumerateArray());
        await Client.OkAsync("DeleteStream", """{"StreamName":"orders"}""");
    }

    [Fact]
    public async Task Requests_that_break_the_channel_rules_are_refused_with_Kinesis_errors()
    {
        await CreateStreamAsync("live");
        await CreateStreamAsync("fixed", "PROVISIONED");
        await Task.Delay(50);
        Assert.Contains("ON_DEMAND", await Client.ErrorMessageAsync("CreateChannel", CreateBody("a", "fixed"), "ValidationException"));
        Assert.Equal($"Stream ghost under account {Account} not found.", await Client.ErrorMessageAsync("CreateChannel", CreateBody("a", "ghost"), "ResourceNotFoundException"));
        Assert.StartsWith("RecordFormatType GSR_JSON", await Client.ErrorMessageAsync("CreateChannel", CreateBody("a", "live", format: "GSR_JSON"), "InvalidArgumentException"));
        Assert.Contains("extension", await Client.ErrorMessageAsync("CreateChannel",
            CreateBody("a", "live", extra: ""","OutputKeyTemplate":"!{channel-name}/!{yyyy}" """), "InvalidArgumentException"));
        Assert.StartsWith("Invalid OutputKeyTemplate", await Client.ErrorMessageAsync("CreateChannel",
            CreateBody("a", "live", compression: "NONE", extra: ""","OutputKeyTemplate":"/!{channel-name}" """), "InvalidArgumentException"));
        Assert.Equal("DataFreshnessInSeconds must be between 300 and 900, and is 60.", await Client.ErrorMessageAsync("CreateChannel",
            CreateBody("a", "live").Replace("\"CompressionType\":\"GZIP\"}", "\"CompressionType\":\"GZIP\"},\"DataFreshnessInSeconds\":60", StringComparison.Ordinal), "InvalidArgumentException"));
        string neither = CreateBody("a", "live")[..CreateBody("a", "live").IndexOf(",\n \"S3DestinationConfiguration\"", StringComparison.Ordinal)] + "}";
        Assert.StartsWith("Exactly one of", await Client.ErrorMessageAsync("CreateChannel", neither, "InvalidArgumentException"));
        Assert.Contains("Member must satisfy regular expression pattern", await Client.ErrorMessageAsync("DescribeChannel",
            """{"ChannelARN":"arn:aws:kinesis:us-east-1:000000000000:stream/live"}""", "ValidationException"));
        Assert.Contains("Member must not be null", await Client.ErrorMessageAsync("CreateChannel", """{"ChannelName":"a"}""", "ValidationException"));
        Assert.Contains("aws/kinesis", await Client.ErrorMessageAsync("CreateChannel",
            CreateBody("a", "live").TrimEnd()[..^1] + ""","EncryptionConfiguration":{"EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}}""", "InvalidArgumentException"));

        await CreateChannelAsync("first", "live");
        Assert.Equal($"Channel first under account {Account} already exists.", await Client.ErrorMessageAsync("CreateChannel", CreateBody("first", "live"), "ResourceInUseException"));
        Assert.Contains("one channel of each destination type", await Client.ErrorMessageAsync("CreateChannel", CreateBody("second", "live"), "LimitExceededException"));
    }

    [Fact]
    public async Task Channels_are_tagged_by_ARN_listed_by_stream_and_paged()
    {
        foreach (string stream in new[] { "s1", "s2", "s3" })
            await CreateStreamAsync(stream);
        await Task.Delay(50);
        var arns = new List<string>();
        foreach (string stream in new[] { "s1", "s2", "s3" })
            arns.Add((await CreateChannelAsync("ch-" + stream, stream)).GetProperty("ChannelARN").GetString()!);

        await Client.OkAsync("TagResource", $$$"""{"ResourceARN":"{{{arns[0]}}}","Tags":{"team":"data","env":"ci"}}""");
        await Client.OkAsync("UntagResource", $$"""{"ResourceARN":"{{arns[0]}}","TagKeys":["env"]}""");
        var tags = (await Client.OkAsync("ListTagsForResource", $$"""{"ResourceARN":"{{arns[0]}}"}""")).GetProperty("Tags");
        Assert.Equal("team=data", string.Join(",", tags.EnumerateArray().Select(t => t.GetProperty("Key").GetString() + "=" + t.GetProperty("Value").GetString())));

        var filtered = (await Client.OkAsync("ListChannels", $$"""{"StreamFilter":[{"StreamARN":"{{StreamArn("s2")}}"}]}""")).GetProperty("ChannelSummaries");
        Assert.Equal("ch-s2", Assert.Single(filtered.EnumerateArray()).GetProperty("ChannelName").GetString());

        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await Client.OkAsync("ListChannels", token is null ? """{"MaxResults":2}""" : $$"""{"MaxResults":2,"NextToken":"{{token}}"}""");
            names.AddRange(page.GetProperty("ChannelSummaries").EnumerateArray().Select(c => c.GetProperty("ChannelName").GetString()!));
            token = page.TryGetProperty("NextToken", out var next) ? next.GetString() : null;
        }
        while (token is not null);
        Assert.Equal(["ch-s1", "ch-s2", "ch-s3"], names);
        Assert.Equal("Invalid NextToken.", await Client.ErrorMessageAsync("ListChannels", """{"NextToken":"bm9wZQ=="}""", "InvalidArgumentException"));
    }

    [Fact]
    public async Task Records_after_activation_land_as_JSON_lines_and_records_that_are_not_JSON_go_to_the_dead_letter_queue()
    {
        await CreateStreamAsync("events");
        await Task.Delay(50);
        await PutAsync("events", Utf8(["{\"before\":1}"]));
        await Task.Delay(20);
        var channel = await CreateChannelAsync("events-lake", "events", bucket: "events-bucket");
        string id = channel.GetProperty("ChannelId").GetString()!;
        await Task.Delay(20);

        var good = Enumerable.Range(0, 300).Select(i => $"{{\"n\":{i}}}").ToList();
        var bad = new[] { "not json", "{\"open\":" };
        await PutAsync("events", Utf8(good.Take(150)));
        var badPlaced = await PutAsync("events", Utf8(bad));
        await PutAsync("events", Utf8(good.Skip(150)));

        string bucket = Bucket("events-bucket");
        var delivered = await FirehoseObjects.WaitForAsync(Path.Combine(bucket, "kinesis-channel", "events-lake"), good);
        Assert.Equal(good.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // each once; neither the earlier record nor the bad ones
        var key = FirehoseObjects.Keys(bucket).First(k => k.StartsWith("kinesis-channel/events-lake/", StringComparison.Ordinal));
        Assert.Matches($@"^kinesis-channel/events-lake/{id}/\d{{4}}/\d\d/\d\d/\d\d/events-lake-{id}-\d{{4}}-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{{36}}\.gz$", key);

        string errors = Path.Combine(bucket, "kinesis-channel", "errors", "events-lake", id);
        var entries = await WaitForLinesAsync(errors, 2);
        var named = entries.Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Equal(badPlaced.Order(), named.Select(e => (e.GetProperty("shardId").GetString()!, e.GetProperty("sequenceNumber").GetString()!)).Order());
        Assert.All(named, e =>
        {
            Assert.Equal("INVALID_JSON", e.GetProperty("errorCode").GetString());
            Assert.Equal(StreamArn("events"), e.GetProperty("streamARN").GetString());
            Assert.False(e.TryGetProperty("data", out _)); // the entry names the record; the data stays in the stream
        });

        // The channel's metrics (AWS/Kinesis DeliveryToS3.*, by channel): 302 records read, 300 delivered, 2 dead-lettered.
        var metrics = _host.Server.Streams.Metrics.Channel("events", "events-lake", id);
        Assert.Equal(302L, metrics[Runnel.Core.Metrics.ChannelMetric.RecordCount].Sum);
        Assert.Equal(300L, metrics[Runnel.Core.Metrics.ChannelMetric.SuccessfulRecordCount].Sum);
        for (var until = DateTime.UtcNow.AddSeconds(10); metrics[Runnel.Core.Metrics.ChannelMetric.FailedRecordCount].Sum < 2 && DateTime.UtcNow < until; await Task.Delay(20)) { }
        Assert.Equal(2L, metrics[Runnel.Core.Metrics.ChannelMetric.FailedRecordCount].Sum);
        Assert.Equal(good.Sum(g => (long)g.Length), metrics[Runnel.Core.Metrics.ChannelMetric.BytesProcessed].Sum);
        string published = await _host.Client.Http.GetStringAsync("/metrics");
        Assert.Matches($@"kinesis_channel_delivery_to_s3_successful_record_count_total\{{[^}}]*ChannelId=""{id}"",ChannelName=""events-lake"",StreamName=""events""\}} 300
", published);
    }

    [Fact]
    public async Task BYTE_ARRAY_records_land_unchanged_in_ZSTD_objects_named_by_a_custom_template()
    {
        await CreateStreamAsync("raw");
        await Task.Delay(50);
        await CreateChannelAsync("raw-lake", "raw", format: "BYTE_ARRAY", bucket: "raw-bucket", compression: "ZSTD",
            extra: ""","OutputKeyTemplate":"data/stream=!{stream-name}/!{yyyy}-!{MM}-!{dd}/!{HH}!{mm}!{extension}" """);
        await Task.Delay(20);
        var records = Enumerable.Range(0, 64).Select(i => new byte[] { 0xFF, (byte)i, 0x00, 0x0A, 0xC3 }).ToList();
        await PutAsync("raw", records);

        string bucket = Bucket("raw-bucket");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var content = new List<byte>();
        while (content.Count < records.Count * 5)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{content.Count} of {records.Count * 5} bytes delivered; objects: {string.Join(", ", FirehoseObjects.Keys(bucket))}");
            await Task.Delay(100);
            content.Clear();
            foreach (string key in FirehoseObjects.Keys(bucket))
            {
                Assert.Matches(@"^data/stream=raw/\d{4}-\d\d-\d\d/\d{4}-[0-9a-f-]{36}\.zst$", key);
                using var decompressor = new ZstdSharp.Decompressor();
                content.AddRange(decompressor.Unwrap(File.ReadAllBytes(Path.Combine(bucket, key))).ToArray());
            }
        }
        Assert.Equal(records.Count * 5, content.Count); // concatenated, nothing added between them
        var chunks = content.Chunk(5).Select(c => Convert.ToHexString(c)).Order().ToList();
        Assert.Equal(records.Select(Convert.ToHexString).Order(), chunks);
    }

    [Fact]
    public async Task A_restart_goes_on_from_the_stored_positions_without_loss_or_repeats()
    {
        await CreateStreamAsync("steady");
        await Task.Delay(50);
        await CreateChannelAsync("steady-lake", "steady", format: "STRING", bucket: "steady-bucket");
        await Task.Delay(20);
        var first = Enumerable.Range(0, 100).Select(i => $"first-{i}").ToList();
        await PutAsync("steady", Utf8(first));
        string bucket = Bucket("steady-bucket");
        await FirehoseObjects.WaitForAsync(bucket, first);

        var second = Enumerable.Range(0, 100).Select(i => $"second-{i}").ToList();
        await PutAsync("steady", Utf8(second));
        await _host.StopAsync(); // whatever was buffered is read again from the stream
        await _host.StartAsync();
        var delivered = await FirehoseObjects.WaitForAsync(bucket, [.. first, .. second]);
        Assert.Equal(first.Concat(second).Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
    }

    private static async Task<List<string>> WaitForLinesAsync(string directory, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var lines = FirehoseObjects.Keys(directory).SelectMany(k => File.ReadAllLines(Path.Combine(directory, k))).Where(l => l.Length > 0).ToList();
            if (lines.Count >= count)
                return lines;
            Assert.True(DateTime.UtcNow < deadline, $"{lines.Count} of {count} dead-letter entries within 20 s");
            await Task.Delay(100);
        }
    }
}
