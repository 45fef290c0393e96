using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server.Tests;

/// <summary>
/// An OpenSearch destination (ClusterEndpoint) against a bulk API the test runs (HTTPS, its certificate trusted by
/// <c>--http-endpoint-ca</c>): records indexed by <c>_bulk</c> into the rotated index with ids stable across
/// attempts, a document the cluster refuses in the S3 backup under <c>AmazonOpenSearchService-failed</c>, and a
/// document it cannot take now retried until it can.
/// </summary>
public sealed class FirehoseSearchTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-search-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<(string Index, string? Id, string Document)> _indexed = new();
    private int _busyAnswers = 1; // the first document named "busy" is answered 429 once
    private RestartableServer _host = null!;
    private TlsReceiver _cluster = null!;
    private string _url = "";

    public async Task InitializeAsync()
    {
        _cluster = await TlsReceiver.StartAsync(_dataDir, "/_bulk", BulkAsync);
        _url = _cluster.Url;
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false }, HttpEndpointCa = _cluster.CertificatePath });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _cluster.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A bulk API: "reject" documents get a 400 mapping error, the first "busy" one a 429, the rest are indexed.</summary>
    private async Task BulkAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var items = new List<object>();
        for (int i = 0; i + 1 < lines.Length; i += 2)
        {
            var action = JsonDocument.Parse(lines[i]).RootElement.GetProperty("index");
            string index = action.GetProperty("_index").GetString()!;
            string? id = action.TryGetProperty("_id", out var given) ? given.GetString() : null;
            string document = lines[i + 1];
            if (document.Contains("reject", StringComparison.Ordinal))
                items.Add(new { index = new { _index = index, status = 400, error = new { type = "mapper_parsing_exception", reason = "failed to parse" } } });
            else if (document.Contains("busy", StringComparison.Ordinal) && Interlocked.Decrement(ref _busyAnswers) >= 0)
                items.Add(new { index = new { _index = index, status = 429, error = new { type = "es_rejected_execution_exception" } } });
            else
            {
                _indexed.Enqueue((index, id, document));
                items.Add(new { index = new { _index = index, _id = id, status = 201 } });
            }
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { took = 1, errors = items.Count != _indexed.Count, items }));
    }

    [Fact]
    public async Task Records_are_indexed_in_the_rotated_index_and_refused_documents_go_to_the_S3_backup()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"tosearch\",\"AmazonopensearchserviceDestinationConfiguration\":{" +
            "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"ClusterEndpoint\":\"" + _url + "\",\"IndexName\":\"logs\",\"IndexRotationPeriod\":\"OneDay\"," +
            "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0},\"RetryOptions\":{\"DurationInSeconds\":60}," +
            "\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::search-backup\"}}}");
        string[] documents = ["{\"n\":1}", "{\"n\":2,\"busy\":true}", "{\"n\":3,\"reject\":true}", "{\"n\":4}"];
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tosearch", documents));

        string backup = Path.Combine(_dataDir, "buckets", "search-backup");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); _indexed.Count < 3 || FirehoseObjects.Keys(backup).Count == 0; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, $"{_indexed.Count} documents indexed, {FirehoseObjects.Keys(backup).Count} backup objects");
        string index = "logs-" + DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(["{\"n\":1}", "{\"n\":2,\"busy\":true}", "{\"n\":4}"], _indexed.Select(d => d.Document).Order(StringComparer.Ordinal));
        Assert.All(_indexed, d => Assert.Equal(index, d.Index));
        Assert.Equal(3, _indexed.Select(d => d.Id).Distinct().Count());
        string key = Assert.Single(FirehoseObjects.Keys(backup));
        Assert.StartsWith("AmazonOpenSearchService-failed/", key, StringComparison.Ordinal);
        var failed = JsonDocument.Parse(File.ReadAllText(Path.Combine(backup, key)).Trim()).RootElement;
        Assert.Equal("400", failed.GetProperty("errorCode").GetString());
        Assert.Equal(index, failed.GetProperty("esIndexName").GetString());
        Assert.Equal("{\"n\":3,\"reject\":true}\n", Encoding.UTF8.GetString(failed.GetProperty("rawData").GetBytesFromBase64()));
    }

    [Fact]
    public async Task An_OpenSearch_Serverless_collection_gets_the_records_in_its_index_without_ids_and_refused_documents_go_to_the_backup()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"tocollection\",\"AmazonOpenSearchServerlessDestinationConfiguration\":{" +
            "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"CollectionEndpoint\":\"" + _url + "\",\"IndexName\":\"metrics\"," +
            "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0},\"RetryOptions\":{\"DurationInSeconds\":60}," +
            "\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::collection-backup\"}}}");
        var described = await _host.Client.OkAsync("Firehose_20150804.DescribeDeliveryStream", "{\"DeliveryStreamName\":\"tocollection\"}");
        Assert.Equal("ACTIVE", described.GetProperty("DeliveryStreamDescription").GetProperty("DeliveryStreamStatus").GetString());
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tocollection", ["{\"cpu\":1}", "{\"cpu\":2,\"reject\":true}", "{\"cpu\":3}"]));

        string backup = Path.Combine(_dataDir, "buckets", "collection-backup");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); _indexed.Count < 2 || FirehoseObjects.Keys(backup).Count == 0; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, $"{_indexed.Count} documents indexed, {FirehoseObjects.Keys(backup).Count} backup objects");
        Assert.Equal(["{\"cpu\":1}", "{\"cpu\":3}"], _indexed.Select(d => d.Document).Order(StringComparer.Ordinal));
        Assert.All(_indexed, d => Assert.Equal(("metrics", (string?)null), (d.Index, d.Id))); // no rotation, no ids of ours
        Assert.StartsWith("AmazonOpenSearchServerless-failed/", Assert.Single(FirehoseObjects.Keys(backup)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NoRotation", "logs")]
    [InlineData("OneHour", "logs-2016-02-25-13")]
    [InlineData("OneDay", "logs-2016-02-25")]
    [InlineData("OneWeek", "logs-2016-w08")]
    [InlineData("OneMonth", "logs-2016-02")]
    public void The_index_rotates_as_AWSs_table_shows(string rotation, string index) =>
        Assert.Equal(index, Runnel.Firehose.Delivery.SearchDelivery.IndexFor("logs", rotation, DateTimeOffset.Parse("2016-02-25T13:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()));
}
