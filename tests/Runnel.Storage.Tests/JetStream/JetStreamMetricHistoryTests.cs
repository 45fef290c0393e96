using NATS.Client.Core;
using NATS.Client.JetStream;
using Runnel.Core.Metrics;
using Runnel.Storage.JetStream;
using Runnel.Storage.Metrics;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>
/// The cluster's metric history against a real three-node cluster: two nodes' minutes of one series merge, their
/// distributions bucket by bucket, and a node started afresh reads them back from the stream.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class JetStreamMetricHistoryTests(NatsClusterFixture nats)
{
    private static StatisticSet Minute(IEnumerable<long> micros)
    {
        var cell = new MetricCell();
        var values = micros.ToList();
        foreach (long value in values)
            cell.Add(value);
        return new StatisticSet(values.Count, values.Sum() * 0.001, values.Min() * 0.001, values.Max() * 0.001) { Distribution = cell.TakeDistribution(0.001) };
    }

    private async Task<(NatsConnection Connection, JetStreamMetricHistory History)> NodeAsync(string node)
    {
        var connection = new NatsConnection(new NatsOpts { Url = nats.Cluster.Urls, Name = "runnel-metrics-" + node, RequestTimeout = TimeSpan.FromSeconds(30) });
        await connection.ConnectAsync();
        return (connection, new JetStreamMetricHistory(new NatsJSContext(connection), node, TimeSpan.FromHours(24), 3));
    }

    [Fact(Timeout = 120000)]
    public async Task Two_nodes_distributions_merge_and_are_read_back_by_a_node_started_afresh()
    {
        string stream = "percentiles-" + Guid.NewGuid().ToString("N")[..8];
        var series = new MetricSeries("AWS/Kinesis", "PutRecord.Latency", [new("StreamName", stream)], "Milliseconds");
        long minute = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60;
        // Node a saw 1..990 ms, node b ten calls of 5 s: of the 1,000, the p99 is the 990th (990 ms), the p99.5 5 s.
        var fromA = Minute(Enumerable.Range(1, 990).Select(i => i * 1000L));
        var fromB = Minute(Enumerable.Repeat(5_000_000L, 10));
        var (ca, a) = await NodeAsync("pa-" + stream);
        var (cb, b) = await NodeAsync("pb-" + stream);
        try
        {
            await Task.Run(() => a.Append(minute, [(series, fromA)]));
            await Task.Run(() => b.Append(minute, [(series, fromB)]));
            StatisticSet merged = default;
            for (int i = 0; i < 200 && merged.SampleCount < 1000; i++, await Task.Delay(50))
                merged = a.Read(series.Key, minute, minute + 60).Select(m => m.Statistics).FirstOrDefault();
            Assert.Equal(fromA.Merge(fromB), merged);
            Assert.InRange(merged.Percentile(99)!.Value, 990 * (1 - LogLinearBuckets.RelativeError), 990 * (1 + LogLinearBuckets.RelativeError));
            Assert.Equal(5000, merged.Percentile(99.5));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
            await ca.DisposeAsync();
            await cb.DisposeAsync();
        }

        var (cc, fresh) = await NodeAsync("pc-" + stream);
        try
        {
            StatisticSet read = default;
            for (int i = 0; i < 200 && read.SampleCount < 1000; i++, await Task.Delay(50))
                read = fresh.Read(series.Key, minute, minute + 60).Select(m => m.Statistics).FirstOrDefault();
            Assert.Equal(fromA.Merge(fromB), read);
        }
        finally
        {
            await fresh.DisposeAsync();
            await cc.DisposeAsync();
        }
    }
}
