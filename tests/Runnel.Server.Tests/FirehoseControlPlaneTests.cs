using System.Text.Json;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Tests;

/// <summary>
/// Firehose's control plane on a server that restarts: delivery streams and their state survive it, CREATING ends
/// when its delay has passed, and a DirectPut stream's log is claimed so that the start-up sweep of orphaned logs
/// leaves it (docs/adr/0002-firehose.md). The wire details are tested by the interop suites.
/// </summary>
public sealed class FirehoseControlPlaneTests : IAsyncLifetime
{
    private const string S3 = "\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::b\"}";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-test-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
    private readonly RestartableServer _host;

    public FirehoseControlPlaneTests() =>
        _host = new RestartableServer(_dataDir, _clock, new RunnelOptions { DeliveryStreamCreateDelay = TimeSpan.FromSeconds(5) });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private Task<JsonElement> OkAsync(string operation, string body) => _host.Client.OkAsync("Firehose_20150804." + operation, body);

    private Task<string> ErrorAsync(string operation, string body, string type) => _host.Client.ErrorMessageAsync("Firehose_20150804." + operation, body, type);

    private async Task<JsonElement> DescribeAsync(string name) =>
        (await OkAsync("DescribeDeliveryStream", $"{{\"DeliveryStreamName\":\"{name}\"}}")).GetProperty("DeliveryStreamDescription");

    [Fact]
    public async Task A_new_stream_is_CREATING_for_its_delay_and_cannot_be_deleted_until_ACTIVE()
    {
        await OkAsync("CreateDeliveryStream", $"{{\"DeliveryStreamName\":\"slow\",{S3}}}");
        Assert.Equal("CREATING", (await DescribeAsync("slow")).GetProperty("DeliveryStreamStatus").GetString());
        Assert.Equal("Firehose slow under account 000000000000 is in CREATING state and cannot be deleted.",
            await ErrorAsync("DeleteDeliveryStream", "{\"DeliveryStreamName\":\"slow\"}", "ResourceInUseException"));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("ACTIVE", (await DescribeAsync("slow")).GetProperty("DeliveryStreamStatus").GetString());
        var empty = await OkAsync("DeleteDeliveryStream", "{\"DeliveryStreamName\":\"slow\"}");
        Assert.Equal("{}", empty.GetRawText());
    }

    [Fact]
    public async Task Streams_and_their_changes_survive_a_restart()
    {
        await OkAsync("CreateDeliveryStream", $"{{\"DeliveryStreamName\":\"kept\",{S3},\"Tags\":[{{\"Key\":\"team\",\"Value\":\"a\"}}]}}");
        _clock.Advance(TimeSpan.FromSeconds(5));
        await OkAsync("UpdateDestination", "{\"DeliveryStreamName\":\"kept\",\"CurrentDeliveryStreamVersionId\":\"1\",\"DestinationId\":\"destinationId-000000000001\"," +
            "\"ExtendedS3DestinationUpdate\":{\"Prefix\":\"p/\",\"CompressionFormat\":\"GZIP\"}}");
        await OkAsync("StartDeliveryStreamEncryption", "{\"DeliveryStreamName\":\"kept\"}");
        var before = (await DescribeAsync("kept")).GetRawText();

        await _host.StopAsync();
        await _host.StartAsync();

        Assert.Equal(before, (await DescribeAsync("kept")).GetRawText());
        var description = await DescribeAsync("kept");
        Assert.Equal("2", description.GetProperty("VersionId").GetString());
        Assert.Equal("GZIP", description.GetProperty("Destinations")[0].GetProperty("ExtendedS3DestinationDescription").GetProperty("CompressionFormat").GetString());
        var tags = await OkAsync("ListTagsForDeliveryStream", "{\"DeliveryStreamName\":\"kept\"}");
        Assert.Equal("a", tags.GetProperty("Tags")[0].GetProperty("Value").GetString());
    }

    [Fact]
    public async Task A_DirectPut_log_is_claimed_so_the_start_up_sweep_leaves_it_and_deleting_the_stream_removes_it()
    {
        await OkAsync("CreateDeliveryStream", $"{{\"DeliveryStreamName\":\"direct\",{S3}}}");
        long log = _host.Server.Firehose.Catalog.Find("direct")!.LogId!.Value;
        _host.Server.Firehose.Logs.Open(log, 0); // the log exists on disk, as after the first PutRecord
        string directory = Path.Combine(_dataDir, "streams", log.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(Directory.Exists(directory));

        await _host.StopAsync();
        await _host.StartAsync(); // the embedded node sweeps logs no metadata names at start-up

        Assert.True(Directory.Exists(directory), "the start-up sweep took a delivery stream's log");
        Assert.Contains(log, LogOwners.Ids(_host.Server.Firehose.Metadata));
        _clock.Advance(TimeSpan.FromSeconds(5));
        await OkAsync("DeleteDeliveryStream", "{\"DeliveryStreamName\":\"direct\"}");
        Assert.False(Directory.Exists(directory));
        Assert.DoesNotContain(log, LogOwners.Ids(_host.Server.Firehose.Metadata));
    }
}
