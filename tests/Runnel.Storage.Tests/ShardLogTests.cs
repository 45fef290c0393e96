using System.Text;
using Runnel.Storage.Log;

namespace Runnel.Storage.Tests;

public class ShardLogTests
{
    private static readonly LogOptions Small = new() { SegmentBytes = 4096, IndexIntervalBytes = 256 };

    private static async Task<AppendResult> AppendAsync(IShardLog log, params string[] values)
    {
        using var batch = new RecordBatch();
        foreach (string v in values)
            batch.Add("pk-" + v, null, Encoding.UTF8.GetBytes(v));
        return await log.AppendAsync(batch);
    }

    private static List<string> ReadAll(IShardLog log, ulong from = 0, int max = int.MaxValue, long minArrival = 0)
    {
        using var result = log.Read(from, max, long.MaxValue, minArrival);
        var values = new List<string>();
        foreach (var r in result.Records)
            values.Add(Encoding.UTF8.GetString(result.Data(r)));
        return values;
    }

    [Fact(Timeout = 30000)]
    public async Task Appends_get_consecutive_offsets_and_read_back_in_order()
    {
        using var dir = new TempDirectory();
        using var log = ShardLog.Open(dir.Path, Small);
        var first = await AppendAsync(log, "a", "b", "c");
        var second = await AppendAsync(log, "d");
        Assert.Equal(0UL, first.FirstOffset);
        Assert.Equal(3UL, second.FirstOffset);
        Assert.Equal(4UL, log.NextOffset);
        Assert.Equal(["a", "b", "c", "d"], ReadAll(log));
        Assert.Equal(["c", "d"], ReadAll(log, from: 2));
        Assert.Equal(["b"], ReadAll(log, from: 1, max: 1));
        Assert.Empty(ReadAll(log, from: 4));
    }

    [Fact(Timeout = 30000)]
    public async Task Reads_cross_segment_boundaries_and_find_any_offset()
    {
        using var dir = new TempDirectory();
        using var log = ShardLog.Open(dir.Path, Small);
        var expected = new List<string>();
        for (int i = 0; i < 500; i++)
        {
            string v = $"record-{i:D4}-" + new string('x', i % 50);
            expected.Add(v);
            await AppendAsync(log, v);
        }
        Assert.True(Directory.GetFiles(dir.Path, "*.seg").Length > 5, "the small segment size forces rolls");
        Assert.Equal(expected, ReadAll(log));
        for (int from = 0; from < 500; from += 37)
            Assert.Equal(expected.Skip(from).Take(10), ReadAll(log, (ulong)from, 10));
    }

    [Fact(Timeout = 30000)]
    public async Task Reopening_keeps_every_record_and_continues_the_offsets()
    {
        using var dir = new TempDirectory();
        using (var log = ShardLog.Open(dir.Path, Small))
            for (int i = 0; i < 100; i++)
                await AppendAsync(log, $"v{i}");
        using (var log = ShardLog.Open(dir.Path, Small))
        {
            Assert.Equal(100UL, log.NextOffset);
            var next = await AppendAsync(log, "after");
            Assert.Equal(100UL, next.FirstOffset);
            Assert.Equal(101, ReadAll(log).Count);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Concurrent_appends_are_all_stored_once_in_offset_order()
    {
        using var dir = new TempDirectory();
        using var log = ShardLog.Open(dir.Path, new LogOptions { Fsync = FsyncPolicy.Always });
        var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(() => AppendAsync(log, $"c{i}"))).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(200, results.Select(r => r.FirstOffset).Distinct().Count());
        var stored = ReadAll(log);
        Assert.Equal(200, stored.Count);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"c{i}").OrderBy(s => s), stored.OrderBy(s => s));
        for (int i = 0; i < 200; i++)
            Assert.Equal($"c{i}", stored[(int)results[i].FirstOffset]);
    }

    [Fact(Timeout = 30000)]
    public async Task Records_are_found_by_arrival_time()
    {
        using var dir = new TempDirectory();
        using var log = ShardLog.Open(dir.Path, Small);
        await AppendAsync(log, "early");
        await Task.Delay(20);
        long between = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(20);
        await AppendAsync(log, "late1", "late2");
        Assert.Equal(0UL, log.FirstOffsetAtOrAfter(0));
        Assert.Equal(1UL, log.FirstOffsetAtOrAfter(between));
        Assert.Equal(3UL, log.FirstOffsetAtOrAfter(between + 100_000));
        Assert.Equal(["late1", "late2"], ReadAll(log, 0, minArrival: between));
    }

    [Fact(Timeout = 30000)]
    public async Task Retention_deletes_expired_segments_but_keeps_offsets_growing()
    {
        using var dir = new TempDirectory();
        using (var log = ShardLog.Open(dir.Path, Small))
        {
            for (int i = 0; i < 200; i++)
                await AppendAsync(log, $"old-{i}-" + new string('y', 40));
            long cutoff = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1;
            log.EnforceRetention(cutoff);
            Assert.Single(Directory.GetFiles(dir.Path, "*.seg"));
            Assert.Empty(ReadAll(log));
            Assert.Equal(200UL, log.NextOffset);
        }
        using (var log = ShardLog.Open(dir.Path, Small))
        {
            Assert.Equal(200UL, log.NextOffset);
            Assert.Equal(200UL, (await AppendAsync(log, "new")).FirstOffset);
            Assert.Equal(["new"], ReadAll(log));
        }
    }
}
