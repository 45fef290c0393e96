using Runnel.Core.Metrics;
using Xunit;

namespace Runnel.Core.Tests;

/// <summary>The registry with metrics off records nothing (so the on/off benchmark measures recording), and with them on every call adds its samples.</summary>
public sealed class MetricRegistryTests
{
    [Fact]
    public void With_metrics_off_nothing_is_recorded_or_listed()
    {
        var off = new MetricRegistry(enabled: false);
        off.Stream("s").PutRecords(1_000, 10, 9, 1, 250);
        off.Stream("s").GetRecords(500, 5, 0, 100);
        off.Consumer("s", "c").Subscribed(refusedForRate: false);
        off.DeliveryStream("d")[FirehoseMetric.IncomingRecords].Add(3);
        off.Channel("s", "n", "id").Delivered(true, 4, 400);

        Assert.Empty(off.Streams);
        Assert.Empty(off.Consumers);
        Assert.Empty(off.DeliveryStreams);
        Assert.Empty(off.Channels);
        foreach (var metric in Enum.GetValues<StreamMetric>())
        {
            var cell = off.Stream("s")[metric];
            Assert.Equal(0, cell.Count);
            Assert.Equal(0, cell.Sum);
            Assert.Null(cell.PeekExtremes());
            Assert.Null(cell.PeekDistribution(1));
        }
    }

    [Fact]
    public void With_metrics_on_each_call_adds_its_samples()
    {
        var on = new MetricRegistry();
        on.Stream("s").PutRecords(1_000, 10, 9, 1, 250);
        on.Stream("s").PutRecords(100, 1, 1, 0, 50);

        var metrics = Assert.Single(on.Streams);
        Assert.Equal(2, metrics[StreamMetric.PutRecordsLatency].Count);
        Assert.Equal(300, metrics[StreamMetric.PutRecordsLatency].Sum);
        Assert.Equal(10, metrics[StreamMetric.IncomingRecords].Sum);
        Assert.Equal(1, metrics[StreamMetric.PutRecordsThrottledRecords].Sum);
        Assert.Equal((50L, 250L), metrics[StreamMetric.PutRecordsLatency].PeekExtremes());
    }
}
