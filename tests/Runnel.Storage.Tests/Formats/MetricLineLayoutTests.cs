using System.Text;
using Runnel.Core.Metrics;
using Runnel.Storage.Metrics;

namespace Runnel.Storage.Tests.Formats;

/// <summary>
/// Pins a metric history line to docs/formats/metrics.md: the example there is what <see cref="MetricHistory.Encode"/>
/// writes for its minute, and reads back to the same minute. A change to the line fails here until the page and
/// <see cref="MetricHistory.Version"/> change with it.
/// </summary>
public sealed class MetricLineLayoutTests
{
    [Fact(Timeout = 10000)]
    public async Task A_minute_line_of_version_2_is_as_the_page_shows()
    {
        await Task.Yield();
        var latency = new MetricCell();
        foreach (long micros in new long[] { 2500, 2500, 4000 })
            latency.Add(micros);
        (MetricSeries, StatisticSet)[] entries =
        [
            (new("AWS/Kinesis", "IncomingRecords", [new("StreamName", "orders")], "Count"), new StatisticSet(2, 5, 2, 3) { Distribution = new ValueDistribution(1, [2, 3], [1, 1]) }),
            (new("AWS/Kinesis", "PutRecord.Latency", [new("StreamName", "orders")], "Milliseconds"), new StatisticSet(3, 9, 2.5, 4) { Distribution = latency.TakeDistribution(0.001) }),
            (new("AWS/Firehose", "DeliveryToS3.Bytes", [new("DeliveryStreamName", "to-lake")], "Bytes"), new StatisticSet(1, 4096, 4096, 4096) { Distribution = ValueDistribution.Of(4096, 1, 1) }),
        ];
        var line = new MemoryStream();
        MetricHistory.Encode(line, 1_800_000_000, entries);
        string text = Encoding.UTF8.GetString(line.ToArray());
        Assert.Equal(
            """{"v":2,"t":1800000000,"m":[["AWS/Kinesis","IncomingRecords",{"StreamName":"orders"},"Count",2,5,2,3,[1,2,1,1,1]],"""
            + """["AWS/Kinesis","PutRecord.Latency",{"StreamName":"orders"},"Milliseconds",3,9,2.5,4,[0.001,398,2,47,1]],"""
            + """["AWS/Firehose","DeliveryToS3.Bytes",{"DeliveryStreamName":"to-lake"},"Bytes",1,4096,4096,4096,[1,448,1]]]}""",
            text);
        Assert.Equal(2, MetricHistory.Version);
        var (minute, read) = MetricHistory.Parse(text)!.Value;
        Assert.Equal(1_800_000_000, minute);
        Assert.Equal(entries.Select(e => (e.Item1.Key, e.Item2)), read.Select(e => (e.Series.Key, e.Statistics)));
    }

    [Fact(Timeout = 10000)]
    public async Task Bucket_indexes_are_as_the_page_defines_them()
    {
        await Task.Yield();
        Assert.Equal((0, 5, 127, 128, 398, 445, 448, 3711), (LogLinearBuckets.Index(-1), LogLinearBuckets.Index(5), LogLinearBuckets.Index(127), LogLinearBuckets.Index(128),
            LogLinearBuckets.Index(2500), LogLinearBuckets.Index(4000), LogLinearBuckets.Index(4096), LogLinearBuckets.Index(long.MaxValue)));
        Assert.Equal((2496L, 32L), (LogLinearBuckets.Lower(398), LogLinearBuckets.Width(398)));
        Assert.Equal(1.0 / 128, LogLinearBuckets.RelativeError);
    }

    [Fact(Timeout = 10000)]
    public async Task A_damaged_distribution_makes_its_line_unread_as_a_torn_line_is()
    {
        await Task.Yield();
        Assert.Null(MetricHistory.Parse("""{"v":2,"t":60,"m":[["AWS/Kinesis","IncomingRecords",{},"Count",1,1,1,1,[1,5]]]}""")); // a bucket without its count
        Assert.Null(MetricHistory.Parse("""{"v":2,"t":60,"m":[["AWS/Kinesis","IncomingRecords",{},"Count",1,1,1,1,[1,5,1,0,1]]]}""")); // a bucket twice
        Assert.Null(MetricHistory.Parse("""{"v":2,"t":60,"m":[["AWS/Kinesis","IncomingRecords",{},"Count",1,1,1,1,[0,5,1]]]}""")); // no scale
        Assert.NotNull(MetricHistory.Parse("""{"v":2,"t":60,"m":[["AWS/Kinesis","IncomingRecords",{},"Count",1,1,1,1,[1,5,1],"later"]]}""")); // reserved elements ignored
    }
}
