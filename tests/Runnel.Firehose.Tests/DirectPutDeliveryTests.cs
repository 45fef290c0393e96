using System.Text;
using System.Text.RegularExpressions;
using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;
using Runnel.Storage;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;
using Runnel.Storage.Records;

namespace Runnel.Firehose.Tests;

/// <summary>
/// A DirectPut delivery stream's records, from its log to objects in a directory: delivered when due, each once when
/// nothing fails, none lost across a restart of the delivery, and held (not skipped) while the destination fails.
/// </summary>
public sealed partial class ObjectDeliveryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-directput-" + Guid.NewGuid().ToString("N"));
    private readonly string _objects;
    private readonly ShardLog _log;
    private readonly MetadataStore _metadata;

    public ObjectDeliveryTests()
    {
        _objects = Path.Combine(_dir, "objects");
        _log = ShardLog.Open(Path.Combine(_dir, "log"), new LogOptions { Fsync = FsyncPolicy.Never });
        _metadata = new MetadataStore(Path.Combine(_dir, "meta"));
    }

    public void Dispose()
    {
        _log.Dispose();
        _metadata.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private ObjectDelivery Delivery(int sizeMiB = 1, int intervalSeconds = 60) =>
        new("orders", 1, _log, new BufferingHints(sizeMiB, intervalSeconds), new FileDestination(_objects), ObjectCompression.Uncompressed,
            DeliveryPosition.Load(_metadata, "orders"));

    private async Task<List<string>> PutAsync(int count, int size = 10, string tag = "r")
    {
        var records = new List<string>();
        using var batch = new RecordBatch();
        for (int i = 0; i < count; i++)
        {
            string record = $"{tag}{i}|".PadRight(size, '.') + "\n";
            records.Add(record);
            batch.Add("key", null, Encoding.UTF8.GetBytes(record));
        }
        await _log.AppendAsync(batch);
        return records;
    }

    private List<string> Objects() => Directory.Exists(_objects)
        ? [.. Directory.EnumerateFiles(_objects, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_objects, f).Replace('\\', '/')).Order()]
        : [];

    private List<string> Delivered() => [.. Objects().SelectMany(o => File.ReadAllText(Path.Combine(_objects, o)).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(r => r + "\n")];

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [GeneratedRegex(@"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/orders-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    private static partial Regex ObjectKey();

    [Fact]
    public async Task Records_are_delivered_once_their_buffer_is_due_under_AWS_key_layout()
    {
        var records = await PutAsync(100);
        var delivery = Delivery(intervalSeconds: 60);
        long now = Now;
        long? next = await delivery.PumpAsync(now);
        Assert.Equal(now + 60_000, next);
        Assert.Empty(Objects());
        Assert.Equal(0UL, DeliveryPosition.Load(_metadata, "orders").Of(0)); // buffered is not delivered

        Assert.Null(await delivery.PumpAsync(now + 60_000));
        string key = Assert.Single(Objects());
        var parts = ObjectKey().Match(key);
        Assert.True(parts.Success, key);
        Assert.Equal(parts.Groups[1].Value + parts.Groups[2].Value + parts.Groups[3].Value + parts.Groups[4].Value,
            parts.Groups[5].Value + parts.Groups[6].Value + parts.Groups[7].Value + parts.Groups[8].Value); // prefix and name tell the same hour
        Assert.Equal(records, Delivered());
        Assert.Equal(100UL, DeliveryPosition.Load(_metadata, "orders").Of(0));
    }

    [Fact]
    public async Task A_GZIP_object_compressed_as_its_records_arrive_over_many_pumps_is_one_whole_gzip_stream()
    {
        var delivery = new ObjectDelivery("orders", 1, _log, new BufferingHints(128, 60), new FileDestination(_objects), ObjectCompression.Gzip,
            DeliveryPosition.Load(_metadata, "orders"));
        long now = Now;
        var records = new List<string>();
        for (int round = 0; round < 5; round++)
        {
            records.AddRange(await PutAsync(200, size: 100, tag: $"round{round}-"));
            await delivery.PumpAsync(now + round); // each pump compresses what its read added
        }
        Assert.Empty(Objects());
        await delivery.PumpAsync(now + 60_000);
        string key = Assert.Single(Objects());
        Assert.EndsWith(".gz", key, StringComparison.Ordinal);
        using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(_objects, key)), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        Assert.Equal(string.Concat(records), reader.ReadToEnd());
    }

    [Fact]
    public async Task A_custom_prefix_names_the_objects()
    {
        var records = await PutAsync(5);
        var (prefix, _) = Runnel.Firehose.Naming.S3Prefix.ForDestination("orders/year=!{timestamp:yyyy}/", "errors/!{firehose:error-output-type}/");
        var delivery = new ObjectDelivery("orders", 1, _log, new BufferingHints(1, 0), new FileDestination(_objects), ObjectCompression.Gzip,
            DeliveryPosition.Load(_metadata, "orders"), prefix);
        await delivery.PumpAsync(Now);
        string key = Assert.Single(Objects());
        var parts = Regex.Match(key, @"^orders/year=(\d{4})/orders-1-(\d{4})-.*\.gz$");
        Assert.True(parts.Success, key);
        Assert.Equal(parts.Groups[1].Value, parts.Groups[2].Value); // the prefix's year is the name's
    }

    [Fact]
    public async Task Full_buffers_are_delivered_at_once_and_the_rest_when_due()
    {
        var records = await PutAsync(3_000, size: 1_000); // about 3 MiB against 1 MiB buffers
        var delivery = Delivery(sizeMiB: 1, intervalSeconds: 300);
        long now = Now;
        await delivery.PumpAsync(now);
        Assert.Equal(2, Objects().Count);
        ulong partial = DeliveryPosition.Load(_metadata, "orders").Of(0);
        Assert.True(partial is > 0 and < 3_000, $"position {partial}: past the written objects, not past the buffered records");
        await delivery.PumpAsync(now + 300_000);
        Assert.Equal(3, Objects().Count);
        Assert.Equal(records.Order(), Delivered().Order());
        Assert.Equal(3_000UL, DeliveryPosition.Load(_metadata, "orders").Of(0));
    }

    [Fact]
    public async Task A_delivery_that_stops_with_records_buffered_delivers_them_after_a_restart_and_nothing_twice()
    {
        var first = await PutAsync(3_000, size: 1_000, tag: "a");
        long now = Now;
        await Delivery(sizeMiB: 1, intervalSeconds: 300).PumpAsync(now); // two objects written, the rest buffered: then it stops
        var second = await PutAsync(10, tag: "b");

        var restarted = Delivery(sizeMiB: 1, intervalSeconds: 300);
        await restarted.PumpAsync(now + 1_000);
        await restarted.PumpAsync(now + 301_000);
        Assert.Equal(first.Concat(second).Order(), Delivered().Order());
        Assert.Equal(3_010UL, DeliveryPosition.Load(_metadata, "orders").Of(0));
    }

    [Fact]
    public async Task While_the_destination_fails_the_batch_is_retried_later_and_the_position_held()
    {
        var records = await PutAsync(10);
        Directory.CreateDirectory(_dir);
        File.WriteAllText(_objects, "a file where the directory should be");
        var delivery = Delivery(intervalSeconds: 0);
        long now = Now;
        long? retry = await delivery.PumpAsync(now);
        Assert.NotNull(delivery.LastFailure);
        Assert.InRange(retry!.Value, now + 500, now + 1_000); // the first retry: 1 s with jitter
        Assert.Equal(0UL, DeliveryPosition.Load(_metadata, "orders").Of(0));
        Assert.Equal(retry, await delivery.PumpAsync(retry.Value - 1)); // not yet

        File.Delete(_objects);
        Assert.Null(await delivery.PumpAsync(retry.Value));
        Assert.Null(delivery.LastFailure);
        Assert.Equal(records, Delivered());
        Assert.Equal(10UL, DeliveryPosition.Load(_metadata, "orders").Of(0));
    }
}
