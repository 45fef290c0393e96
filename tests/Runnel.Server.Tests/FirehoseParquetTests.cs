using Parquet;

namespace Runnel.Server.Tests;

/// <summary>Format conversion on a server: the table's columns from the server's <c>--schemas</c> file, JSON records delivered as a Parquet object.</summary>
public sealed class FirehoseParquetTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-parquet-" + Guid.NewGuid().ToString("N"));
    private RestartableServer _host = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        string schemas = Path.Combine(_dataDir, "schemas.json");
        await File.WriteAllTextAsync(schemas, """{"analytics.clicks": [{"name": "page", "type": "string"}, {"name": "count", "type": "bigint"}]}""");
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false }, Schemas = schemas });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task JSON_records_land_as_Parquet_with_the_schema_files_columns()
    {
        await _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"columns\",\"ExtendedS3DestinationConfiguration\":{" +
            "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::lake\",\"Prefix\":\"clicks/\",\"ErrorOutputPrefix\":\"errors/!{firehose:error-output-type}/\"," +
            "\"BufferingHints\":{\"SizeInMBs\":64,\"IntervalInSeconds\":0},\"DataFormatConversionConfiguration\":{\"Enabled\":true," +
            "\"SchemaConfiguration\":{\"DatabaseName\":\"analytics\",\"TableName\":\"clicks\",\"RoleARN\":\"arn:aws:iam::000000000000:role/r\"}," +
            "\"InputFormatConfiguration\":{\"Deserializer\":{\"OpenXJsonSerDe\":{}}},\"OutputFormatConfiguration\":{\"Serializer\":{\"ParquetSerDe\":{\"Compression\":\"GZIP\"}}}}}}");
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("columns", ["{\"page\":\"/a\",\"count\":3}", "{\"page\":\"/b\",\"count\":5}"]));
        string lake = Path.Combine(_dataDir, "buckets", "lake");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); !FirehoseObjects.Keys(lake).Any(k => k.EndsWith(".parquet", StringComparison.Ordinal)); await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "no Parquet object was delivered");
        string key = FirehoseObjects.Keys(lake).Single();
        Assert.StartsWith("clicks/", key, StringComparison.Ordinal);
        await using var reader = await ParquetReader.CreateAsync(File.OpenRead(Path.Combine(lake, key)));
        var fields = reader.Schema.GetDataFields();
        Assert.Equal(["page", "count"], fields.Select(f => f.Name));
        using var group = reader.OpenRowGroupReader(0);
        var counts = new long?[2];
        await group.ReadAsync(fields[1], (Memory<long?>)counts);
        Assert.Equal([3L, 5L], counts);
        var metrics = _host.Server.Streams.Metrics.DeliveryStream("columns");
        Assert.Equal((2L, 0L), (metrics[Runnel.Core.Metrics.FirehoseMetric.SucceedConversionRecords].Sum, metrics[Runnel.Core.Metrics.FirehoseMetric.FailedConversionRecords].Sum));
        Assert.Equal(1L, metrics[Runnel.Core.Metrics.FirehoseMetric.DeliveryObjectCount].Sum);
    }
}
