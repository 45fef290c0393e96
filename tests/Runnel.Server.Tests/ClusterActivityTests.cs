using System.Text;
using Runnel.Core.Metrics;
using Runnel.Server.Metrics;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Tests;

/// <summary>
/// What a node publishes for the cluster's pipeline view (<see cref="ClusterActivity"/>, docs/formats/activity.md), on
/// a metadata store two "nodes" share: the other node's snapshot read back whole, never one's own, its mirrors kept
/// from one refresh to the next (rates are keyed by them), left out once older than the staleness limit, and taken
/// away when its node stops.
/// </summary>
public sealed class ClusterActivityTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-activity-" + Guid.NewGuid().ToString("N"));
    private readonly MetadataStore _store;
    private readonly ManualClock _clock = new();

    public ClusterActivityTests() => _store = new MetadataStore(_dir);

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void A_nodes_snapshot_is_read_by_the_other_until_it_is_stale()
    {
        var one = new MetricRegistry();
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var producer = new ClientId("AKIDPRODUCER", "Boto3/1.26.27 Python/3.11");
        one.Activity.Writer("orders", producer).Wrote(4, 40, 1, now);
        one.Activity.Iterator("orders", 0, new ClientId("AKIDREADER", "KCL/2.6")).Read(3, 7, now);
        one.Activity.Consumer("orders", 1, "app").Failed(null, now);
        one.Stream("orders")[StreamMetric.IncomingRecords].Add(4);
        one.DeliveryStream("archive").ReadSource("orders", new Dictionary<int, ulong> { [0] = 9, [1] = 2 });
        using var first = new ClusterActivity("node-1", _store, one, _clock, _ => { });
        using var second = new ClusterActivity("node-2", _store, new MetricRegistry(), _clock, _ => { });

        first.Publish();
        Assert.Empty(second.Refresh().Writers); // nothing until the store's follow tells of it
        Relay(second);
        var seen = second.Refresh();
        var writer = Assert.Single(seen.Writers);
        Assert.Equal(("orders", producer, 4L, 40L, 1L, 1L, now), (writer.StreamName, writer.Client, writer.Records, writer.Bytes, writer.Requests, writer.FailedRecords.Value, writer.LastSeenMillis));
        Assert.Equal(2, seen.Readers.Count);
        var iterator = Assert.Single(seen.Readers, r => r.Kind == ReaderKind.Iterator);
        Assert.Equal(("AKIDREADER KCL/2.6", 0, 3L, 7UL), (iterator.Client.Display, iterator.ShardIndex, iterator.Records, iterator.Position));
        var consumer = Assert.Single(seen.Readers, r => r.Kind == ReaderKind.Consumer);
        Assert.Equal(("app", 1, (ulong?)null, 1L), (consumer.Name, consumer.ShardIndex, consumer.Position, consumer.Errors.Value));
        Assert.Equal(4, Assert.Single(seen.Streams, s => s.Name == "orders").IncomingRecords.Value);
        var delivery = Assert.Single(seen.Deliveries, d => d.Name == "archive");
        Assert.Equal(("orders", 9UL, 2UL), (delivery.Source!.StreamName, delivery.Source.ReadTo[0], delivery.Source.ReadTo[1]));
        Relay(first);
        Assert.Empty(first.Refresh().Writers); // its own is not another's

        // The next snapshot updates the same mirror (a rate is the growth of one object's counter).
        one.Activity.Writer("orders", producer).Wrote(2, 20, 0, now);
        first.Publish();
        Relay(second);
        var again = Assert.Single(second.Refresh().Writers);
        Assert.Same(writer, again);
        Assert.Equal(6, again.Records);

        // A newer format's snapshot is skipped, not misread.
        _store.WriteDocument(ActivitySnapshot.Kind, "node-3", Encoding.UTF8.GetBytes("""{"v":2,"node":"node-3"}"""), 0);
        Relay(second);
        Assert.Single(second.Refresh().Writers);

        // A node that has not published for longer than the staleness limit is taken for gone.
        _clock.Advance(ClusterActivity.Staleness + TimeSpan.FromSeconds(1));
        Assert.Empty(second.Refresh().Writers);
        first.Publish();
        Relay(second);
        Assert.Single(second.Refresh().Writers);

        first.Dispose();
        Assert.Null(_store.ReadDocument(ActivitySnapshot.Kind, "node-1"));
        second.Apply(new MetadataChange.DocumentDeleted(ActivitySnapshot.Kind, "node-1")); // as the follow reports it
        Assert.Empty(second.Refresh().Writers);
    }

    [Fact]
    public void A_node_started_later_reads_the_snapshots_already_published()
    {
        var one = new MetricRegistry();
        one.Activity.Writer("orders", new ClientId("AKIDPRODUCER", "Boto3")).Wrote(1, 10, 1, _clock.GetUtcNow().ToUnixTimeMilliseconds());
        using var first = new ClusterActivity("node-1", _store, one, _clock, _ => { });
        first.Publish();

        using var second = new ClusterActivity("node-2", _store, new MetricRegistry(), _clock, _ => { });
        Assert.Equal("orders", Assert.Single(second.Refresh().Writers).StreamName); // read from the store as it started; no follow yet
        second.Apply(new MetadataChange.DocumentWritten(new MetadataDocument(ActivitySnapshot.Kind, "node-1", [], 0))); // an older revision
        Assert.Single(second.Refresh().Writers); // is not taken over the newer
    }

    /// <summary>What the metadata store's follow tells a node of the snapshots published (the embedded store has none).</summary>
    private void Relay(ClusterActivity to)
    {
        foreach (var document in _store.ReadDocuments(ActivitySnapshot.Kind))
            to.Apply(new MetadataChange.DocumentWritten(document));
    }
}
