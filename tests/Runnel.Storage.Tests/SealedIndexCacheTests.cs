using Runnel.Storage.Log;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests;

/// <summary>
/// The indexes of sealed segments leave memory for a bounded cache (issue 12: memory grew with the data
/// written, 1.5 MiB per GiB kept), and reads stay exact when an index has to come back from its file, or
/// cannot, because its file is damaged.
/// </summary>
public class SealedIndexCacheTests
{
    [Fact(Timeout = 30000)]
    public async Task Memory_for_sealed_indexes_stays_under_the_cap_however_much_is_written()
    {
        using var dir = new TempDirectory();
        var cache = new SealedIndexCache(maxBytes: 2 * 1024);
        var options = new LogOptions { SegmentBytes = 4096, IndexIntervalBytes = 256, Fsync = FsyncPolicy.Never, IndexCache = cache };
        using var log = ShardLog.Open(dir.Path, options);
        for (int i = 0; i < 2000; i++)
            await AppendAsync(log, $"v{i}-" + new string('s', 60));
        int sealedSegments = Directory.GetFiles(dir.Path, "*.seg").Length - 1;
        Assert.True(sealedSegments > 40, $"only {sealedSegments} sealed segments");
        Assert.InRange(cache.Bytes, 1, cache.MaxBytes);

        // Reading everything back, from the start and from the middle of old segments, loads their indexes
        // from the files again and finds every record exactly once, in order.
        var all = ReadAll(log, pageRecords: 37);
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => (ulong)i), all.Select(r => r.Offset));
        Assert.Equal("v1234-" + new string('s', 60), ReadOnce(log, 1234, maxRecords: 1).Records.Single().Text);
        Assert.InRange(cache.Bytes, 1, cache.MaxBytes);
    }

    [Fact(Timeout = 30000)]
    public async Task A_damaged_index_file_of_a_sealed_segment_is_read_around_by_scanning()
    {
        using var dir = new TempDirectory();
        var cache = new SealedIndexCache(maxBytes: 64); // holds nothing: every read goes to the files
        var warnings = new List<string>();
        var options = new LogOptions { SegmentBytes = 4096, IndexIntervalBytes = 256, Fsync = FsyncPolicy.Never, IndexCache = cache };
        using var log = ShardLog.Open(dir.Path, options, warnings.Add);
        for (int i = 0; i < 300; i++)
            await AppendAsync(log, $"v{i}-" + new string('s', 60));
        string index = SegmentFile.IndexPath(Directory.GetFiles(dir.Path, "*.seg").Order(StringComparer.Ordinal).Skip(1).First());
        var bytes = File.ReadAllBytes(index);
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(index, bytes);

        Assert.Equal(Enumerable.Range(0, 300).Select(i => (ulong)i), ReadAll(log).Select(r => r.Offset));
        Assert.Contains(warnings, w => w.Contains(index, StringComparison.Ordinal) && w.Contains("damaged", StringComparison.Ordinal));
    }
}
