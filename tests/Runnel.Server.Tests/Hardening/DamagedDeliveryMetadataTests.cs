using System.Text;
using Microsoft.Extensions.Logging;
using Runnel.Firehose.Catalog;
using Runnel.Firehose.Delivery;
using Runnel.Storage.Metadata;
using Xunit.Abstractions;

namespace Runnel.Server.Tests.Hardening;

/// <summary>
/// Corrupt files under the parts built after the core was hardened: a delivery stream's stored description and its
/// delivery position, damaged while the server was stopped. The server starts and serves everything else; a
/// description it cannot read is named in a warning and its buffered records are kept; a position it cannot read
/// is started again from the oldest record the buffer holds (records may be delivered twice, never lost).
/// </summary>
public sealed class DamagedDeliveryMetadataTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-damaged-fh-" + Guid.NewGuid().ToString("N"));
    private readonly CapturedLog _log = new();
    private RestartableServer _host = null!;

    public Task InitializeAsync()
    {
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false } }, _log.Install);
        return _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact(Timeout = 120000)]
    public async Task A_damaged_description_or_position_costs_only_that_stream_and_loses_no_record()
    {
        await CreateAsync("kept", intervalSeconds: 0);
        await CreateAsync("unreadable", intervalSeconds: 900); // its records wait in its buffer
        await CreateAsync("lost-place", intervalSeconds: 0);
        await PutAsync("kept", ["kept-1"]);
        await PutAsync("unreadable", ["waiting-1", "waiting-2"]);
        await PutAsync("lost-place", ["before-1", "before-2"]);
        await FirehoseObjects.WaitForAsync(Bucket("kept"), ["kept-1"]);
        await FirehoseObjects.WaitForAsync(Bucket("lost-place"), ["before-1", "before-2"]);
        long unreadableLog = _host.Server.Firehose.Catalog.Find("unreadable")!.LogId!.Value;
        await Task.Delay(300); // the position follows the objects
        await _host.StopAsync();

        using (var metadata = new MetadataStore(_dataDir))
        {
            metadata.WriteDocument(DeliveryStreamCodec.Kind, "unreadable", Encoding.UTF8.GetBytes("{\"name\":\"unreadable\",\"status\":"), metadata.ReadDocument(DeliveryStreamCodec.Kind, "unreadable")!.Revision);
            var position = metadata.ReadDocument(DeliveryPosition.Kind, "lost-place");
            Assert.NotNull(position); // delivered, so a position was stored
            metadata.WriteDocument(DeliveryPosition.Kind, "lost-place", [0xFF, 0x00, 0x7B], position.Revision);
        }

        await _host.StartAsync();
        string warnings = _log.AtLeast(LogLevel.Warning);
        output.WriteLine(warnings);
        Assert.Contains("delivery stream unreadable is not loaded", warnings, StringComparison.Ordinal);

        // The others are served: one delivers on; the one that lost its place delivers its buffer again, then the new record.
        var names = (await OkAsync("ListDeliveryStreams", "{}")).GetProperty("DeliveryStreamNames").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Equal(["kept", "lost-place"], names);
        await PutAsync("kept", ["kept-2"]);
        await PutAsync("lost-place", ["after-1"]);
        Assert.Equal(["kept-1", "kept-2"], (await FirehoseObjects.WaitForAsync(Bucket("kept"), ["kept-1", "kept-2"])).Order(StringComparer.Ordinal));
        var again = await FirehoseObjects.WaitForAsync(Bucket("lost-place"), ["before-1", "before-2", "after-1"]);
        Assert.Equal(["after-1", "before-1", "before-1", "before-2", "before-2"], again.Order(StringComparer.Ordinal)); // at least once
        warnings = _log.AtLeast(LogLevel.Warning);
        Assert.Contains("The delivery position of lost-place cannot be read", warnings, StringComparison.Ordinal);
        Assert.DoesNotContain("Runnel bug", warnings, StringComparison.Ordinal);

        // The unreadable one is not served, and its name is not taken by a new stream that would drop its buffer; its
        // records stay on disk for whoever restores the description.
        string refused = await _host.Client.ErrorMessageAsync("Firehose_20150804.CreateDeliveryStream", CreateBody("unreadable", 0), "ResourceInUseException");
        output.WriteLine(refused);
        Assert.True(Directory.Exists(Path.Combine(_dataDir, "streams", unreadableLog.ToString(System.Globalization.CultureInfo.InvariantCulture))), "the unreadable stream's buffer was swept");
    }

    private string Bucket(string name) => Path.Combine(_dataDir, "buckets", name);

    private Task<System.Text.Json.JsonElement> OkAsync(string operation, string body) => _host.Client.OkAsync("Firehose_20150804." + operation, body);

    private Task PutAsync(string stream, IEnumerable<string> records) => OkAsync("PutRecordBatch", FirehoseObjects.Batch(stream, records));

    private Task CreateAsync(string name, int intervalSeconds) => OkAsync("CreateDeliveryStream", CreateBody(name, intervalSeconds));

    private static string CreateBody(string name, int intervalSeconds) => $$"""
        {"DeliveryStreamName":"{{name}}","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::{{name}}",
         "BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":{{intervalSeconds}}},"CompressionFormat":"UNCOMPRESSED"} }
        """;
}
