using System.Text.RegularExpressions;

namespace Runnel.Server.Tests;

/// <summary>
/// A DirectPut delivery stream end to end on a server: PutRecord and PutRecordBatch answered once the records are in
/// the stream's log, delivered as objects into the bucket's directory when the buffer's interval or size is reached,
/// kept across a restart until delivered, and AWS's limits and errors on the way in.
/// </summary>
public sealed partial class FirehoseDeliveryTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-delivery-" + Guid.NewGuid().ToString("N"));
    private readonly RestartableServer _host;

    private readonly string _keyDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-key-" + Guid.NewGuid().ToString("N"));

    public FirehoseDeliveryTests() =>
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions
        {
            Limits = new() { Enabled = false },
            DevelopmentKeyFile = Path.Combine(_keyDir, "dev-master.key"), // outside the data directory, and not the user's
        });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
        try { Directory.Delete(_keyDir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Records_buffered_while_encryption_is_on_are_sealed_in_the_log_and_delivered_as_they_were_put()
    {
        await CreateAsync("sealed", "b9", 128, 1);
        await OkAsync("StartDeliveryStreamEncryption", """{"DeliveryStreamName":"sealed"}""");
        string secret = "firehose-secret-" + Guid.NewGuid().ToString("N");
        var answer = await OkAsync("PutRecordBatch", FirehoseObjects.Batch("sealed", [secret]));
        Assert.True(answer.GetProperty("Encrypted").GetBoolean());
        long log = _host.Server.Firehose.Catalog.Find("sealed")!.LogId!.Value;
        string logDirectory = Path.Combine(_dataDir, "streams", log.ToString(System.Globalization.CultureInfo.InvariantCulture));
        byte[] needle = System.Text.Encoding.UTF8.GetBytes(secret);
        Assert.True(Directory.EnumerateFiles(logDirectory, "*.seg", SearchOption.AllDirectories).Any(), "the record is in the stream's log");
        Assert.DoesNotContain(Directory.EnumerateFiles(logDirectory, "*", SearchOption.AllDirectories), file => File.ReadAllBytes(file).AsSpan().IndexOf(needle) >= 0);
        Assert.Equal([secret], await FirehoseObjects.WaitForAsync(Bucket("b9"), [secret])); // opened for delivery
    }

    private string Bucket(string name) => Path.Combine(_dataDir, "buckets", name);

    private Task<System.Text.Json.JsonElement> OkAsync(string operation, string body) => _host.Client.OkAsync("Firehose_20150804." + operation, body);

    private Task<string> ErrorAsync(string operation, string body, string type) => _host.Client.ErrorMessageAsync("Firehose_20150804." + operation, body, type);

    private Task CreateAsync(string name, string bucket, int sizeMiB, int intervalSeconds, string compression = "UNCOMPRESSED", string extra = "") =>
        OkAsync("CreateDeliveryStream", $$$"""
            {"DeliveryStreamName":"{{{name}}}","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::{{{bucket}}}",
             "BufferingHints":{"SizeInMBs":{{{sizeMiB}}},"IntervalInSeconds":{{{intervalSeconds}}}},"CompressionFormat":"{{{compression}}}"{{{extra}}}}}
            """);

    [GeneratedRegex(@"^\d{4}/\d{2}/\d{2}/\d{2}/zero-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.gz$")]
    private static partial Regex ObjectKey();

    [Fact]
    public async Task Records_put_with_interval_zero_land_at_once_as_GZIP_objects_under_AWSs_key_layout()
    {
        await CreateAsync("zero", "b0", 1, 0, "GZIP");
        var records = Enumerable.Range(0, 50).Select(i => $"record-{i}").ToList();
        var answer = await OkAsync("PutRecordBatch", FirehoseObjects.Batch("zero", records));
        Assert.Equal(0, answer.GetProperty("FailedPutCount").GetInt32());
        Assert.False(answer.GetProperty("Encrypted").GetBoolean());
        var ids = answer.GetProperty("RequestResponses").EnumerateArray().Select(e => e.GetProperty("RecordId").GetString()).ToList();
        Assert.Equal(50, ids.Distinct().Count());
        var single = await OkAsync("PutRecord", $$$"""{"DeliveryStreamName":"zero","Record":{"Data":"{{{Convert.ToBase64String("single\n"u8)}}}"}}""");
        Assert.False(string.IsNullOrEmpty(single.GetProperty("RecordId").GetString()));

        var delivered = await FirehoseObjects.WaitForAsync(Bucket("b0"), [.. records, "single"]);
        Assert.Equal(records.Append("single").Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // once each (objects list by key, not by time)
        Assert.All(FirehoseObjects.Keys(Bucket("b0")), key => Assert.Matches(ObjectKey(), key));
    }

    [Fact]
    public async Task A_full_buffer_is_delivered_before_its_interval_and_the_rest_waits_for_it()
    {
        await CreateAsync("sized", "b1", 1, 900);
        string filler = new('x', 10_000);
        var records = Enumerable.Range(0, 110).Select(i => $"{i:D4}-{filler}").ToList(); // 1.1 MB: one buffer fills
        foreach (var chunk in records.Chunk(50))
            await OkAsync("PutRecordBatch", FirehoseObjects.Batch("sized", chunk));
        var delivered = await FirehoseObjects.WaitForAsync(Bucket("b1"), records.Take(100).ToList());
        Assert.True(delivered.Count < records.Count, "the records past the full buffer wait for their interval (900 s)");
        Assert.Single(FirehoseObjects.Keys(Bucket("b1")));
    }

    [Fact]
    public async Task Records_buffered_when_the_server_stops_are_delivered_after_it_starts_again()
    {
        await CreateAsync("kept", "b2", 128, 900);
        var records = Enumerable.Range(0, 20).Select(i => $"kept-{i}").ToList();
        await OkAsync("PutRecordBatch", FirehoseObjects.Batch("kept", records));
        await Task.Delay(300);
        Assert.Empty(FirehoseObjects.Keys(Bucket("b2")));

        await _host.StopAsync();
        await _host.StartAsync();

        // The interval goes to 0 (a new version of the stream): what the log holds past the position is delivered.
        await OkAsync("UpdateDestination", """{"DeliveryStreamName":"kept","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"BufferingHints":{"SizeInMBs":128,"IntervalInSeconds":0}}}""");
        var delivered = await FirehoseObjects.WaitForAsync(Bucket("b2"), records);
        Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // once each
        Assert.All(FirehoseObjects.Keys(Bucket("b2")), key => Assert.Contains("/kept-2-", key, StringComparison.Ordinal)); // the version that wrote it
    }

    [Fact]
    public async Task Puts_get_AWSs_limits_and_errors()
    {
        await CreateAsync("limits", "b3", 1, 900);
        string mib = Convert.ToBase64String(new byte[1_000_000]);
        string body = $$"""{"DeliveryStreamName":"limits","Records":[{{string.Join(",", Enumerable.Repeat($$"""{"Data":"{{mib}}"}""", 5))}}]}""";
        Assert.Equal("Records size exceeds 4 MB limit", await ErrorAsync("PutRecordBatch", body, "InvalidArgumentException"));
        Assert.Equal("Firehose absent under account 000000000000 not found.",
            await ErrorAsync("PutRecord", """{"DeliveryStreamName":"absent","Record":{"Data":"AAAA"}}""", "ResourceNotFoundException"));
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"source","ShardCount":1}""");
        await OkAsync("CreateDeliveryStream", """
            {"DeliveryStreamName":"fromstream","DeliveryStreamType":"KinesisStreamAsSource",
             "KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/source","RoleARN":"arn:aws:iam::000000000000:role/r"},
             "ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::b3"}}
            """);
        Assert.Equal("This operation is not permitted on KinesisStreamAsSource delivery stream type.",
            await ErrorAsync("PutRecordBatch", """{"DeliveryStreamName":"fromstream","Records":[{"Data":"AAAA"}]}""", "InvalidArgumentException"));
        var tooBig = Convert.ToBase64String(new byte[1_024_001]);
        string message = await ErrorAsync("PutRecord", $$$"""{"DeliveryStreamName":"limits","Record":{"Data":"{{{tooBig}}}"}}""", "ValidationException");
        Assert.Equal("1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000", message);
    }

    [Fact]
    public async Task Encryption_shows_in_the_answers_of_puts()
    {
        await CreateAsync("sealed", "b4", 1, 900);
        await OkAsync("StartDeliveryStreamEncryption", """{"DeliveryStreamName":"sealed"}""");
        var answer = await OkAsync("PutRecord", """{"DeliveryStreamName":"sealed","Record":{"Data":"AAAA"}}""");
        Assert.True(answer.GetProperty("Encrypted").GetBoolean());
    }
}
