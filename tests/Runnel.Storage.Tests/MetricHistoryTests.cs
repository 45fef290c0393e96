using Runnel.Core.Metrics;
using Runnel.Storage.Metrics;

namespace Runnel.Storage.Tests;

/// <summary>The metrics' minute history on disk: minutes read back by series and range, series listed after a restart,
/// a line cut by a crash skipped, hours past the retention deleted; distributions read back after a restart, merged
/// across minutes, and lines of version 1 (no distributions) still read.</summary>
public sealed class MetricHistoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-metric-history-" + Guid.NewGuid().ToString("N"));
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private static MetricSeries Incoming(string stream) => new("AWS/Kinesis", "IncomingBytes", [new("StreamName", stream)], "Bytes");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void Minutes_are_read_back_by_series_and_range_and_survive_a_restart()
    {
        var history = new MetricHistory(_dir, TimeSpan.FromHours(24));
        long t0 = Start.ToUnixTimeSeconds();
        for (int i = 0; i < 90; i++) // an hour and a half: two files
            history.Append(t0 + i * 60, [(Incoming("a"), new StatisticSet(2, 100 + i, 10, 90 + i)), (Incoming("b"), new StatisticSet(1, 5, 5, 5))]);
        Assert.Equal(2, Directory.GetFiles(_dir, "*.jsonl").Length);

        var read = history.Read(Incoming("a").Key, t0 + 55 * 60, t0 + 65 * 60);
        Assert.Equal(Enumerable.Range(55, 10).Select(i => t0 + i * 60), read.Select(r => r.Minute));
        Assert.All(read, r => Assert.Equal("Bytes", r.Unit));
        Assert.Equal(new StatisticSet(2, 155, 10, 145), read[0].Statistics);

        File.AppendAllText(Path.Combine(_dir, "2026120511.jsonl"), "{\"t\":17"); // a write cut by a crash
        var reopened = new MetricHistory(_dir, TimeSpan.FromHours(24));
        Assert.Equal(["a", "b"], reopened.Series().Select(s => s.Series.Dimensions[0].Value).Order());
        Assert.Equal(t0 + 89 * 60, reopened.Series().Single(s => s.Series.Dimensions[0].Value == "a").LastMinute);
        Assert.Equal(90, reopened.Read(Incoming("b").Key, t0, t0 + 2 * 3600).Count);
        Assert.Empty(reopened.Read(Incoming("c").Key, t0, t0 + 2 * 3600));
    }

    [Fact]
    public void Hours_past_the_retention_are_deleted_and_their_series_forgotten()
    {
        var history = new MetricHistory(_dir, TimeSpan.FromHours(2));
        long t0 = Start.ToUnixTimeSeconds();
        history.Append(t0, [(Incoming("old"), new StatisticSet(1, 1, 1, 1))]);
        history.Append(t0 + 4 * 3600, [(Incoming("new"), new StatisticSet(1, 1, 1, 1))]);
        history.Trim(Start.AddHours(4));
        Assert.Equal(["2026120514.jsonl"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal("new", Assert.Single(history.Series()).Series.Dimensions[0].Value);
    }

    [Fact]
    public void Statistic_sets_merge_as_CloudWatch_aggregates_them()
    {
        var merged = new StatisticSet(2, 10, 3, 7).Merge(new StatisticSet(1, 1, 1, 1));
        Assert.Equal(new StatisticSet(3, 11, 1, 7), merged);
    }

    private static MetricSeries Latency(string stream) => new("AWS/Kinesis", "PutRecord.Latency", [new("StreamName", stream)], "Milliseconds");

    /// <summary>A minute of latencies recorded as the server records them (microseconds, published in milliseconds).</summary>
    private static StatisticSet Minute(IReadOnlyList<long> micros)
    {
        var cell = new MetricCell();
        foreach (long value in micros)
            cell.Add(value);
        return new StatisticSet(micros.Count, micros.Sum() * 0.001, micros.Min() * 0.001, micros.Max() * 0.001) { Distribution = cell.TakeDistribution(0.001) };
    }

    [Fact(Timeout = 10000)]
    public async Task Distributions_are_read_back_after_a_restart_and_merge_across_minutes()
    {
        await Task.Yield();
        var history = new MetricHistory(_dir, TimeSpan.FromHours(24));
        long t0 = Start.ToUnixTimeSeconds();
        // Two minutes: 1..1000 ms, then 1001..2000 ms; the five-minute p99 is the 1,980th value, 1,980 ms.
        var first = Minute(Enumerable.Range(1, 1000).Select(i => i * 1000L).ToList());
        var second = Minute(Enumerable.Range(1001, 1000).Select(i => i * 1000L).ToList());
        history.Append(t0, [(Latency("a"), first)]);
        history.Append(t0 + 60, [(Latency("a"), second)]);

        var reopened = new MetricHistory(_dir, TimeSpan.FromHours(24));
        var read = reopened.Read(Latency("a").Key, t0, t0 + 300);
        Assert.Equal(new[] { first, second }, read.Select(r => r.Statistics));
        var period = read.Select(r => r.Statistics).Aggregate((a, b) => a.Merge(b));
        Assert.Equal(2000, period.Distribution!.Total);
        Assert.InRange(period.Percentile(99)!.Value, 1980 * (1 - LogLinearBuckets.RelativeError), 1980 * (1 + LogLinearBuckets.RelativeError));
        Assert.InRange(read[0].Statistics.Percentile(50)!.Value, 500 * (1 - LogLinearBuckets.RelativeError), 500 * (1 + LogLinearBuckets.RelativeError));
        Assert.Equal(2000, period.Percentile(100)); // never beyond the Maximum
        Assert.Equal(1, period.Percentile(0)); // nor below the Minimum
    }

    [Fact(Timeout = 10000)]
    public async Task Lines_of_version_1_are_read_and_give_percentiles_only_where_all_samples_were_equal()
    {
        await Task.Yield();
        Directory.CreateDirectory(_dir);
        long t0 = Start.ToUnixTimeSeconds();
        // As version 1 wrote them: no "v", eight members an entry.
        File.WriteAllText(Path.Combine(_dir, "2026120510.jsonl"),
            $$"""{"t":{{t0}},"m":[["AWS/Kinesis","PutRecord.Latency",{"StreamName":"a"},"Milliseconds",3,12,2,6],["AWS/Kinesis","PutRecord.Latency",{"StreamName":"b"},"Milliseconds",4,8,2,2]]}""" + "\n");
        var history = new MetricHistory(_dir, TimeSpan.FromHours(24));
        history.Append(t0 + 60, [(Latency("b"), Minute([2000, 4000]))]);

        var a = Assert.Single(history.Read(Latency("a").Key, t0, t0 + 60)).Statistics;
        Assert.Equal(new StatisticSet(3, 12, 2, 6), a);
        Assert.Null(a.Distribution);
        Assert.Null(a.Percentile(99)); // samples that differed, not kept: no percentile (as CloudWatch for statistic sets)
        var b = history.Read(Latency("b").Key, t0, t0 + 120).Select(r => r.Statistics).ToList();
        Assert.Equal(2, b[0].Percentile(99)); // all four samples were 2 ms
        var period = b[0].Merge(b[1]); // the old minute's four samples of 2 ms join the new minute's buckets
        Assert.Equal(6, period.Distribution!.Total);
        Assert.InRange(period.Percentile(50)!.Value, 2, 2 * (1 + LogLinearBuckets.RelativeError));
        Assert.Equal(4, period.Percentile(100));
        Assert.Null(a.Merge(b[1]).Percentile(99)); // a minute without its samples leaves the period's percentiles unknown
    }

    [Fact(Timeout = 30000)]
    public async Task A_line_torn_at_any_byte_loses_its_minute_only_and_the_next_minute_appended_is_read()
    {
        await Task.Yield();
        long t0 = Start.ToUnixTimeSeconds();
        var whole = Minute(Enumerable.Range(1, 300).Select(i => i * 997L).ToList());
        var line = new MemoryStream();
        MetricHistory.Encode(line, t0 + 60, [(Latency("a"), whole)]);
        byte[] torn = line.ToArray();
        string file = Path.Combine(_dir, "2026120510.jsonl");
        for (int cut = 1; cut < torn.Length; cut += 1 + (cut / 64))
        {
            if (Directory.Exists(_dir))
                Directory.Delete(_dir, recursive: true);
            new MetricHistory(_dir, TimeSpan.FromHours(24)).Append(t0, [(Latency("a"), whole)]);
            using (var append = new FileStream(file, FileMode.Append))
                append.Write(torn, 0, cut); // the second minute's write, cut by a crash
            var reopened = new MetricHistory(_dir, TimeSpan.FromHours(24));
            reopened.Append(t0 + 120, [(Latency("a"), whole)]);
            var read = new MetricHistory(_dir, TimeSpan.FromHours(24)).Read(Latency("a").Key, t0, t0 + 180);
            Assert.Equal(new[] { t0, t0 + 120 }, read.Select(r => r.Minute));
            Assert.All(read, r => Assert.Equal(whole, r.Statistics));
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_negative_sample_leaves_percentiles_unknown()
    {
        await Task.Yield();
        Assert.Null(new StatisticSet(2, -1, -3, 2) { Distribution = new ValueDistribution(1, [0, 2], [1, 1]) }.Percentile(50));
        Assert.Equal(7, new StatisticSet(1, 7, 7, 7).Percentile(10)); // one sample: it is every percentile
    }

    [Fact(Timeout = 10000)]
    public async Task A_minute_too_long_for_one_message_is_published_in_lines_that_read_back_whole()
    {
        await Task.Yield();
        var random = new Random(5);
        var entries = Enumerable.Range(0, 3000)
            .Select(i => (Latency("stream-" + i), Minute(Enumerable.Range(0, 200).Select(_ => random.NextInt64(1, 10_000_000)).ToList())))
            .ToArray();
        var lines = Runnel.Storage.JetStream.JetStreamMetricHistory.Lines(1_800_000_000, entries, "node\n");
        Assert.True(lines.Count > 1);
        Assert.All(lines, l => Assert.True(l.Length <= Runnel.Storage.JetStream.JetStreamMetricHistory.MaxMessageBytes));
        var read = lines.SelectMany(l =>
        {
            string text = System.Text.Encoding.UTF8.GetString(l);
            Assert.StartsWith("node\n", text, StringComparison.Ordinal);
            var minute = MetricHistory.Parse(text["node\n".Length..])!.Value;
            Assert.Equal(1_800_000_000, minute.Minute);
            return minute.Entries;
        }).ToList();
        Assert.Equal(entries.Select(e => (e.Item1.Key, e.Item2)), read.Select(e => (e.Series.Key, e.Statistics)));
    }
}
