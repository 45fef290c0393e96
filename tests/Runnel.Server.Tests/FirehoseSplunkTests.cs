using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server.Tests;

/// <summary>
/// A Splunk destination against an HTTP Event Collector the test runs (HTTPS, trusted by <c>--http-endpoint-ca</c>):
/// batches posted with the token and a channel, delivered only once their <c>ackId</c> is acknowledged, and a token
/// the collector refuses sending the records to the S3 backup under <c>splunk-failed</c> after the retry duration.
/// </summary>
public sealed class FirehoseSplunkTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-splunk-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> _events = new();
    private readonly ConcurrentQueue<string> _channels = new();
    private readonly ConcurrentDictionary<long, int> _polls = new();
    private long _nextAck;
    private int _acknowledged;
    private RestartableServer _host = null!;
    private TlsReceiver _hec = null!;

    public async Task InitializeAsync()
    {
        _hec = await TlsReceiver.StartAsync(_dataDir, "/services/collector/{**rest}", CollectorAsync);
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false }, HttpEndpointCa = _hec.CertificatePath });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _hec.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>An HEC with indexer acknowledgement: token "good" only; each ackId is acknowledged at its second poll.</summary>
    private async Task CollectorAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        if (context.Request.Headers.Authorization != "Splunk good")
        {
            context.Response.StatusCode = 403;
            await context.Response.WriteAsync("{\"text\":\"Invalid token\",\"code\":4}");
            return;
        }
        string channel = context.Request.Headers["X-Splunk-Request-Channel"].ToString();
        using var reader = new StreamReader(context.Request.Body);
        string body = await reader.ReadToEndAsync();
        if (context.Request.Path == "/services/collector/event")
        {
            _channels.Enqueue(channel);
            foreach (var document in SplitEvents(body))
                _events.Enqueue(document);
            await context.Response.WriteAsync("{\"text\":\"Success\",\"code\":0,\"ackId\":" + Interlocked.Increment(ref _nextAck) + "}");
        }
        else if (context.Request.Path == "/services/collector/ack" && context.Request.Query["channel"] == channel)
        {
            var acks = JsonDocument.Parse(body).RootElement.GetProperty("acks").EnumerateArray().Select(a => a.GetInt64()).ToList();
            var answer = acks.ToDictionary(a => a.ToString(System.Globalization.CultureInfo.InvariantCulture), a => _polls.AddOrUpdate(a, 1, (_, n) => n + 1) >= 2);
            if (answer.Values.Any(v => v))
                Interlocked.Increment(ref _acknowledged);
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { acks = answer }));
        }
        else
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("{\"text\":\"The requested URL was not found on this server.\",\"code\":404}");
        }
    }

    /// <summary>The event documents of a request, back to back as Firehose sends them.</summary>
    private static List<string> SplitEvents(string body)
    {
        var found = new List<string>();
        var bytes = Encoding.UTF8.GetBytes(body);
        var json = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowMultipleValues = true });
        while (json.Read())
        {
            long start = json.TokenStartIndex;
            json.Skip();
            found.Add(Encoding.UTF8.GetString(bytes, (int)start, (int)(json.BytesConsumed - start)));
        }
        return found;
    }

    private static string Create(string name, string token, int retrySeconds) =>
        "{\"DeliveryStreamName\":\"" + name + "\",\"SplunkDestinationConfiguration\":{\"HECEndpoint\":\"URL\",\"HECEndpointType\":\"Event\",\"HECToken\":\"" + token + "\"," +
        "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0},\"RetryOptions\":{\"DurationInSeconds\":" + retrySeconds + "}," +
        "\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::splunk-backup\"}}}";

    [Fact]
    public async Task Events_are_delivered_once_the_collector_acknowledges_them_on_the_streams_channel()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", Create("tosplunk", "good", 60).Replace("URL", _hec.Url, StringComparison.Ordinal));
        var described = await _host.Client.OkAsync("Firehose_20150804.DescribeDeliveryStream", "{\"DeliveryStreamName\":\"tosplunk\"}");
        Assert.Equal("ACTIVE", described.GetProperty("DeliveryStreamDescription").GetProperty("DeliveryStreamStatus").GetString());
        string[] events = ["{\"event\":{\"n\":1}}", "{\"event\":{\"n\":2},\"sourcetype\":\"app\"}", "{\"event\":\"three\"}"];
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tosplunk", events));

        var metrics = _host.Server.Streams.Metrics.DeliveryStream("tosplunk");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); metrics[Runnel.Core.Metrics.FirehoseMetric.DeliverySuccess].Sum == 0; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, $"{_events.Count} events received, {_acknowledged} acknowledged, nothing counted as delivered");
        Assert.Equal(events.Order(StringComparer.Ordinal), _events.Select(e => e.Trim()).Order(StringComparer.Ordinal));
        Assert.True(_acknowledged >= 1, "delivered before the collector acknowledged");
        Assert.Single(_channels.Distinct());
        Assert.True(Guid.TryParse(_channels.First(), out _));
        Assert.Equal("DeliveryToSplunk.Success", metrics.Definition(Runnel.Core.Metrics.FirehoseMetric.DeliverySuccess).Name);
        string published = await _host.Client.Http.GetStringAsync("/metrics");
        Assert.Matches("firehose_delivery_to_splunk_records_total\\{[^}]*DeliveryStreamName=\"tosplunk\"[^}]*\\} 3\n", published);
        Assert.Empty(FirehoseObjects.Keys(Path.Combine(_dataDir, "buckets", "splunk-backup"))); // FailedEventsOnly: nothing backed up
    }

    [Fact]
    public async Task Events_the_collector_refuses_go_to_the_backup_as_splunk_failed_error_records()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", Create("refused", "wrong", 0).Replace("URL", _hec.Url, StringComparison.Ordinal));
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("refused", ["{\"event\":\"lost?\"}"]));
        string backup = Path.Combine(_dataDir, "buckets", "splunk-backup");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); FirehoseObjects.Keys(backup).Count == 0; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "nothing reached the backup");
        string key = Assert.Single(FirehoseObjects.Keys(backup));
        Assert.StartsWith("splunk-failed/", key, StringComparison.Ordinal);
        var failed = JsonDocument.Parse(File.ReadAllText(Path.Combine(backup, key)).Trim()).RootElement;
        Assert.Equal("Splunk.InvalidToken", failed.GetProperty("errorCode").GetString());
        Assert.Contains("Invalid token", failed.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal("{\"event\":\"lost?\"}\n", Encoding.UTF8.GetString(failed.GetProperty("rawData").GetBytesFromBase64()));
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("EventId").GetString()));
        Assert.Empty(_events);
    }
}
