using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server.Tests;

/// <summary>
/// A delivery stream with an HTTP endpoint destination, end to end: records put reach a receiver the test runs (HTTPS,
/// as AWS requires, with a self-signed certificate the server is told to trust by <c>--http-endpoint-ca</c>), in
/// AWS's request format with a request id kept across retries; a receiver that keeps failing gets the batch retried
/// for the retry duration, then the records land in the S3 backup as error records (<c>http-endpoint-failed</c>).
/// </summary>
public sealed class FirehoseHttpEndpointTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-http-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<(string RequestId, JsonElement Body)> _received = new();
    private RestartableServer _host = null!;
    private TlsReceiver _receiver = null!;
    private string _url = "";
    private volatile int _status = 200;

    public async Task InitializeAsync()
    {
        _receiver = await TlsReceiver.StartAsync(_dataDir, "/in/", ReceiveAsync);
        _url = _receiver.Url + "/in/";
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false }, HttpEndpointCa = _receiver.CertificatePath });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.Clone();
        string id = context.Request.Headers["X-Amz-Firehose-Request-Id"].ToString();
        _received.Enqueue((id, body));
        int status = _status;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(status == 200 ? $$"""{"requestId":"{{id}}","timestamp":1578090903599}""" : $$"""{"requestId":"{{id}}","timestamp":1578090903599,"errorMessage":"not now"}""");
    }

    private Task CreateAsync(string name, int retrySeconds) =>
        _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\",\"HttpEndpointDestinationConfiguration\":{" +
            "\"EndpointConfiguration\":{\"Url\":\"" + _url + "\",\"AccessKey\":\"k\"},\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}," +
            "\"RetryOptions\":{\"DurationInSeconds\":" + retrySeconds + "},\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::backup\"}}}");

    private static List<string> Records(JsonElement body) =>
        [.. body.GetProperty("records").EnumerateArray().Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64()))];

    [Fact]
    public async Task Records_reach_the_endpoint_in_AWSs_format()
    {
        await CreateAsync("tohttp", 60);
        var records = Enumerable.Range(0, 30).Select(i => $"http-{i}").ToList();
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tohttp", records));
        for (var deadline = DateTime.UtcNow.AddSeconds(20); _received.SelectMany(r => Records(r.Body)).Count() < records.Count; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "the endpoint did not receive every record");
        Assert.Equal(records.Select(r => r + "\n").Order(StringComparer.Ordinal), _received.SelectMany(r => Records(r.Body)).Order(StringComparer.Ordinal));
        Assert.All(_received, r => Assert.Equal(r.RequestId, r.Body.GetProperty("requestId").GetString()));
    }

    [Fact]
    public async Task A_failing_endpoint_gets_the_batch_retried_with_one_request_id_then_the_records_go_to_the_S3_backup()
    {
        _status = 503;
        // 5 s: time enough for a retry even on a loaded machine (the retry duration counts from the first attempt).
        await CreateAsync("failing", 5);
        var records = Enumerable.Range(0, 10).Select(i => $"kept-{i}").ToList();
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("failing", records));

        string backup = Path.Combine(_dataDir, "buckets", "backup");
        List<JsonElement> lines = [];
        for (var deadline = DateTime.UtcNow.AddSeconds(30); lines.Count < records.Count; await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < deadline, "the failed records did not reach the S3 backup");
            lines = [.. FirehoseObjects.Keys(backup).SelectMany(k => File.ReadAllLines(Path.Combine(backup, k))).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
        }
        Assert.All(FirehoseObjects.Keys(backup), key => Assert.StartsWith("http-endpoint-failed/", key, StringComparison.Ordinal));
        Assert.Equal(records.Select(r => r + "\n").Order(StringComparer.Ordinal),
            lines.Select(l => Encoding.UTF8.GetString(l.GetProperty("rawData").GetBytesFromBase64())).Order(StringComparer.Ordinal));
        Assert.All(lines, l => Assert.Equal("HttpEndpoint.DestinationException", l.GetProperty("errorCode").GetString()));
        Assert.True(_received.Count >= 2, $"the batch was sent {_received.Count} time(s): it is retried before it is backed up");
        Assert.Single(_received.Select(r => r.RequestId).Distinct()); // one request id across the retries
    }
}
