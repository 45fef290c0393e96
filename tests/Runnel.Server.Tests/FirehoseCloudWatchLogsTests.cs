using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// CloudWatch Logs subscription data through a delivery stream with the Decompression and CloudWatchLogProcessing
/// processors: each log event's message lands as a line of its own, control messages leave no trace, and a record that
/// is not GZIP goes to the error output under <c>decompression-failed</c> as it came.
/// </summary>
public sealed class FirehoseCloudWatchLogsTests : IAsyncLifetime
{
    private const string Decompression = "{\"Type\":\"Decompression\",\"Parameters\":[{\"ParameterName\":\"CompressionFormat\",\"ParameterValue\":\"GZIP\"}]}";
    private const string Extraction = "{\"Type\":\"CloudWatchLogProcessing\",\"Parameters\":[{\"ParameterName\":\"DataMessageExtraction\",\"ParameterValue\":\"true\"}]}";
    private const string Delimiter = "{\"Type\":\"AppendDelimiterToRecord\"}";

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-cwl-" + Guid.NewGuid().ToString("N"));
    private readonly RestartableServer _host;

    public FirehoseCloudWatchLogsTests() =>
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false } });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private static string Create(string name, string processors) =>
        "{\"DeliveryStreamName\":\"" + name + "\",\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\"," +
        "\"BucketARN\":\"arn:aws:s3:::logs\",\"Prefix\":\"" + name + "/\",\"ErrorOutputPrefix\":\"failed/!{firehose:error-output-type}/\"," +
        "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0},\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[" + processors + "]}}}";

    /// <summary>What a subscription filter sends: the JSON document GZIP compressed.</summary>
    private static byte[] LogData(string messageType, params string[] messages)
    {
        string json = JsonSerializer.Serialize(new
        {
            messageType,
            owner = "000000000000",
            logGroup = "/app/orders",
            logStream = "i-0123",
            subscriptionFilters = new[] { "to-firehose" },
            logEvents = messages.Select((m, i) => new { id = $"3{i}", timestamp = 1_700_000_000_000L + i, message = m }),
        });
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(json));
        return buffer.ToArray();
    }

    private static string Batch(string name, params byte[][] records) =>
        "{\"DeliveryStreamName\":\"" + name + "\",\"Records\":[" + string.Join(",", records.Select(r => "{\"Data\":\"" + Convert.ToBase64String(r) + "\"}")) + "]}";

    [Fact]
    public async Task Each_log_events_message_lands_as_a_line_and_what_is_not_GZIP_goes_to_the_error_output()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", Create("messages", Decompression + "," + Extraction + "," + Delimiter));
        var answer = await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", Batch("messages",
            LogData("DATA_MESSAGE", "GET /orders 200", "POST /orders 201"),
            LogData("CONTROL_MESSAGE", "CWL CONTROL MESSAGE: Checking health of destination Firehose."),
            "plain text"u8.ToArray(),
            LogData("DATA_MESSAGE", "GET /health 200")));
        Assert.Equal(0, answer.GetProperty("FailedPutCount").GetInt32());

        string bucket = Path.Combine(_dataDir, "buckets", "logs");
        await FirehoseObjects.WaitForAsync(bucket, ["GET /orders 200", "POST /orders 201", "GET /health 200"]);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); !FirehoseObjects.Keys(bucket).Any(k => k.StartsWith("failed/", StringComparison.Ordinal)); await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "the record that is not GZIP did not reach the error output");
        var lines = FirehoseObjects.Keys(bucket).Where(k => k.StartsWith("messages/", StringComparison.Ordinal))
            .SelectMany(k => File.ReadAllLines(Path.Combine(bucket, k))).ToList();
        Assert.Equal(["GET /health 200", "GET /orders 200", "POST /orders 201"], lines.Order(StringComparer.Ordinal)); // one line each, no control message

        string failedKey = Assert.Single(FirehoseObjects.Keys(bucket), k => k.StartsWith("failed/", StringComparison.Ordinal));
        Assert.StartsWith("failed/decompression-failed/", failedKey, StringComparison.Ordinal);
        var error = JsonDocument.Parse(File.ReadAllLines(Path.Combine(bucket, failedKey)).Single()).RootElement;
        Assert.Equal("plain text", Encoding.UTF8.GetString(error.GetProperty("rawData").GetBytesFromBase64()));
        Assert.Equal("Decompression.DecompressionFailed", error.GetProperty("errorCode").GetString());
    }

    [Fact]
    public async Task Without_extraction_the_decompressed_document_is_delivered_and_extraction_alone_is_refused()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", Create("documents", Decompression + "," + Delimiter));
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", Batch("documents", LogData("DATA_MESSAGE", "one", "two")));
        string bucket = Path.Combine(_dataDir, "buckets", "logs");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); !FirehoseObjects.Keys(bucket).Any(k => k.StartsWith("documents/", StringComparison.Ordinal)); await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "nothing was delivered");
        string line = File.ReadAllLines(Path.Combine(bucket, FirehoseObjects.Keys(bucket).Single(k => k.StartsWith("documents/", StringComparison.Ordinal)))).Single();
        var document = JsonDocument.Parse(line).RootElement;
        Assert.Equal(["one", "two"], document.GetProperty("logEvents").EnumerateArray().Select(e => e.GetProperty("message").GetString()));

        string message = await _host.Client.ErrorMessageAsync("Firehose_20150804.CreateDeliveryStream", Create("extraction-alone", Extraction), "InvalidArgumentException");
        Assert.Contains("needs the Decompression processor", message, StringComparison.Ordinal);
    }
}
