using System.Text;
using Runnel.Storage.Log;

namespace Runnel.Storage.Tests.Crash;

/// <summary>Damage the files on purpose, the way crashes and disks do, and check what recovery keeps.</summary>
[Trait("Category", "CrashConsistency")]
public class CrashRecoveryTests
{
    private static readonly LogOptions Small = new() { SegmentBytes = 2048, IndexIntervalBytes = 128 };

    private static async Task FillAsync(string dir, int count)
    {
        using var log = ShardLog.Open(dir, Small);
        for (int i = 0; i < count; i++)
        {
            using var batch = new RecordBatch();
            batch.Add("k", null, Encoding.UTF8.GetBytes($"value-{i:D5}"));
            await log.AppendAsync(batch);
        }
    }

    private static List<string> ReadAll(IShardLog log)
    {
        using var result = log.Read(0, int.MaxValue, long.MaxValue, 0);
        var values = new List<string>();
        foreach (var r in result.Records)
            values.Add(Encoding.UTF8.GetString(result.Data(r)));
        return values;
    }

    private static string LastSegment(string dir) => Directory.GetFiles(dir, "*.seg").OrderBy(p => p).Last();

    [Fact(Timeout = 30000)]
    public async Task Torn_tail_is_cut_off_and_every_whole_record_kept()
    {
        using var dir = new TempDirectory();
        await FillAsync(dir.Path, 100);
        string last = LastSegment(dir.Path);
        File.Delete(Path.ChangeExtension(last, ".idx")); // as after a crash: no index for the active segment
        using (var stream = new FileStream(last, FileMode.Open))
            stream.SetLength(stream.Length - 5); // the last record was half written
        var warnings = new List<string>();
        using var log = ShardLog.Open(dir.Path, Small, warnings.Add);
        var values = ReadAll(log);
        Assert.Equal(99, values.Count);
        Assert.Equal(Enumerable.Range(0, 99).Select(i => $"value-{i:D5}"), values);
        Assert.Contains(warnings, w => w.Contains("Truncating", StringComparison.Ordinal));
        using var batch = new RecordBatch();
        batch.Add("k", null, "next"u8);
        Assert.Equal(99UL, (await log.AppendAsync(batch)).FirstOffset);
    }

    [Fact(Timeout = 30000)]
    public async Task Garbage_after_the_last_record_is_removed()
    {
        using var dir = new TempDirectory();
        await FillAsync(dir.Path, 10);
        string last = LastSegment(dir.Path);
        File.Delete(Path.ChangeExtension(last, ".idx"));
        await File.AppendAllTextAsync(last, "\0\0\0\0\0\0garbage written by a dying kernel");
        using var log = ShardLog.Open(dir.Path, Small);
        Assert.Equal(10, ReadAll(log).Count);
        Assert.Equal(10UL, log.NextOffset);
    }

    [Fact(Timeout = 30000)]
    public async Task Corrupt_index_is_rebuilt_from_the_segment()
    {
        using var dir = new TempDirectory();
        await FillAsync(dir.Path, 300);
        var index = Directory.GetFiles(dir.Path, "*.idx").OrderBy(p => p).First();
        var bytes = await File.ReadAllBytesAsync(index);
        bytes[^3] ^= 0xFF;
        await File.WriteAllBytesAsync(index, bytes);
        var warnings = new List<string>();
        using var log = ShardLog.Open(dir.Path, Small, warnings.Add);
        Assert.Equal(300, ReadAll(log).Count);
        Assert.Contains(warnings, w => w.Contains("rebuilding", StringComparison.Ordinal));
        using var again = log.Read(150, 1, long.MaxValue, 0);
        Assert.Equal(150UL, again.Records[0].Offset);
    }

    [Fact(Timeout = 30000)]
    public async Task Truncated_sealed_segment_keeps_its_intact_prefix_and_later_segments()
    {
        using var dir = new TempDirectory();
        await FillAsync(dir.Path, 300);
        var segments = Directory.GetFiles(dir.Path, "*.seg").OrderBy(p => p).ToList();
        Assert.True(segments.Count >= 3);
        using (var stream = new FileStream(segments[1], FileMode.Open))
            stream.SetLength(stream.Length / 2);
        var warnings = new List<string>();
        using var log = ShardLog.Open(dir.Path, Small, warnings.Add);
        var values = ReadAll(log);
        Assert.Equal(300UL, log.NextOffset);
        Assert.True(values.Count < 300 && values.Count > 200, $"{values.Count} records survive");
        Assert.Equal(values.OrderBy(v => v, StringComparer.Ordinal), values); // still in order
        Assert.Contains("value-00299", values);
    }
}
