using Runnel.Storage.Metrics;

namespace Runnel.Storage.Tests;

/// <summary>The metrics' minute history on disk: minutes read back by series and range, series listed after a restart,
/// a line cut by a crash skipped, hours past the retention deleted.</summary>
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
}
