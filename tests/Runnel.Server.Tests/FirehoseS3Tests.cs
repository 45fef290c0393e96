using System.IO.Compression;
using System.Text;
using Amazon.S3.Model;

namespace Runnel.Server.Tests;

/// <summary>
/// Firehose's S3 destinations delivering to a real S3-compatible store (npm s3rver, started by the test) through
/// AWSSDK.S3: objects listed and read back as a user's tool would, under AWS's key layout, and delivery carried
/// through an outage of the store by its retries.
/// </summary>
public sealed class FirehoseS3Tests : IAsyncLifetime
{
    private const string Bucket = "firehose-test";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-s3-" + Guid.NewGuid().ToString("N"));
    private S3rverProcess _s3 = null!;
    private RestartableServer _host = null!;

    public async Task InitializeAsync()
    {
        _s3 = await S3rverProcess.StartAsync(Bucket);
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false }, S3 = _s3.Settings, ChannelFreshness = TimeSpan.FromSeconds(1) });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _s3.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private Task CreateAsync(string name, string prefix) =>
        _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\",\"ExtendedS3DestinationConfiguration\":{" +
            "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::" + Bucket + "\",\"Prefix\":\"" + prefix + "\",\"ErrorOutputPrefix\":\"errors/!{firehose:error-output-type}/\",\"CompressionFormat\":\"GZIP\"," +
            "\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}}}");

    /// <summary>Every object under <paramref name="prefix"/>, read back and decompressed, once the records are all there.</summary>
    private async Task<(List<string> Keys, List<string> Records)> WaitForAsync(string prefix, IReadOnlyCollection<string> expected, int seconds = 30)
    {
        using var client = _s3.Client();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var keys = (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix })).S3Objects?.Select(o => o.Key).ToList() ?? [];
            var records = new List<string>();
            foreach (string key in keys)
            {
                using var got = await client.GetObjectAsync(Bucket, key);
                using var gzip = new GZipStream(got.ResponseStream, CompressionMode.Decompress);
                using var reader = new StreamReader(gzip, Encoding.UTF8);
                records.AddRange((await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
            if (!expected.Except(records).Any())
                return (keys, records);
            Assert.True(DateTime.UtcNow < deadline, $"{expected.Except(records).Count()} of {expected.Count} records not in the bucket after {seconds} s; objects: {string.Join(", ", keys)}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Records_land_in_the_bucket_as_GZIP_objects_under_the_prefix_and_AWSs_names()
    {
        await CreateAsync("tos3", "orders/!{timestamp:yyyy}/");
        var records = Enumerable.Range(0, 300).Select(i => $"s3-record-{i}").ToList();
        foreach (var chunk in records.Chunk(100))
            await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tos3", chunk));

        var (keys, delivered) = await WaitForAsync("orders/", records);
        Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
        string year = DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(keys, key => Assert.Matches($@"^orders/{year}/tos3-1-{year}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-[0-9a-f-]{{36}}\.gz$", key));
    }

    [Fact]
    public async Task A_channel_delivers_its_stream_into_the_bucket_with_its_storage_class()
    {
        await _host.Client.OkAsync("CreateStream", "{\"StreamName\":\"lake-source\",\"StreamModeDetails\":{\"StreamMode\":\"ON_DEMAND\"}}");
        await Task.Delay(50);
        await _host.Client.OkAsync("CreateChannel", "{\"ChannelName\":\"to-s3\",\"ServiceExecutionRoleARN\":\"arn:aws:iam::000000000000:role/r\"," +
            "\"StreamConfigurationList\":[{\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/lake-source\",\"RecordConfiguration\":{\"RecordFormatType\":\"STRING\"}}]," +
            "\"S3DestinationConfiguration\":{\"StorageConfiguration\":{\"BucketARN\":\"arn:aws:s3:::" + Bucket + "\",\"ExpectedBucketOwner\":\"000000000000\"," +
            "\"CompressionType\":\"GZIP\",\"StorageClass\":\"INTELLIGENT_TIERING\"}}}");
        await Task.Delay(20);
        var records = Enumerable.Range(0, 100).Select(i => $"channel-record-{i}").ToList();
        await _host.Client.OkAsync("PutRecords", "{\"StreamName\":\"lake-source\",\"Records\":[" +
            string.Join(",", records.Select(r => "{\"PartitionKey\":\"" + r + "\",\"Data\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(r)) + "\"}")) + "]}");

        var (keys, delivered) = await WaitForAsync("kinesis-channel/to-s3/", records);
        Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
        using var client = _s3.Client();
        var head = await client.GetObjectMetadataAsync(Bucket, keys[0]);
        Assert.Equal("INTELLIGENT_TIERING", head.StorageClass?.Value);
    }

    [Fact]
    public async Task An_outage_of_the_store_delays_delivery_and_loses_nothing()
    {
        await CreateAsync("outage", "outage/");
        _s3.Stop();
        var records = Enumerable.Range(0, 50).Select(i => $"during-outage-{i}").ToList();
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("outage", records));
        await Task.Delay(1500); // at least one PutObject fails and is retried with backoff

        await _s3.StartAgainAsync();
        var (_, delivered) = await WaitForAsync("outage/", records, seconds: 60);
        Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
    }
}
