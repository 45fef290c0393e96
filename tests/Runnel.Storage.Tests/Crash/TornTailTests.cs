using Runnel.Storage.Log;
using static Runnel.Storage.Tests.Crash.CrashTestLog;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// A crash in the middle of a write leaves the last frames of the active segment partly on disk. Recovery
/// must cut exactly the incomplete frames and keep every whole one.
/// </summary>
[Trait("Category", "CrashConsistency")]
public class TornTailTests
{
    /// <summary>
    /// The last write was a group of three records; the crash tore it at every possible byte. Whatever
    /// frames lie wholly before the cut survive; the rest is cut off, and the log carries on from there.
    /// With <paramref name="cleanCloseIndex"/>, an index from an earlier clean close claims more than the
    /// file now holds and must be distrusted.
    /// </summary>
    [Theory(Timeout = 60000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Torn_tail_at_every_byte_of_the_last_write_keeps_every_whole_record(bool cleanCloseIndex)
    {
        using var dir = new TempDirectory();
        string pristine = dir.Sub("pristine");
        var options = Options with { SegmentBytes = 1 << 20 };
        await WriteAsync(pristine, 20, options: options);
        using (var log = ShardLog.Open(pristine, options))
            await AppendRangeAsync(log, 3, batchSize: 3); // offsets 20..22 in one write
        if (!cleanCloseIndex)
            RemoveActiveIndex(pristine);
        string segmentName = Path.GetFileName(Assert.Single(Segments(pristine)));
        var frames = Frames(Path.Combine(pristine, segmentName));
        Assert.Equal(23, frames.Count);
        long groupStart = frames[20].Position, fileEnd = frames[^1].End;

        for (long cut = groupStart; cut < fileEnd; cut++)
        {
            string copy = dir.Sub($"cut-{cut}");
            CopyDirectory(pristine, copy);
            string segment = Path.Combine(copy, segmentName);
            Truncate(segment, cut);
            int whole = frames.Count(f => f.End <= cut);
            // Offsets of the cut records were handed out before the crash: they are not given again.
            var warnings = await AssertRecoversAsync(copy, Range(0, (ulong)whole), (ulong)frames.Count);
            if (cut != frames[whole - 1].End)
                Assert.Contains(warnings, w => w.Contains("Truncating", StringComparison.Ordinal));
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Torn_first_frame_of_a_new_segment_leaves_it_empty_and_keeps_the_older_segments()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 200);
        RemoveActiveIndex(dir.Path);
        var segments = Segments(dir.Path);
        Assert.True(segments.Count > 3);
        var last = Frames(segments[^1]);
        Truncate(segments[^1], last[0].Position + last[0].Length / 2);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, last[0].Offset), 200);
        Assert.Contains(warnings, w => w.Contains("Truncating", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task Garbage_after_the_last_record_is_cut_off()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 10);
        RemoveActiveIndex(dir.Path);
        await File.AppendAllTextAsync(Segments(dir.Path)[^1], "\0\0\0\0\0\0garbage written by a dying kernel");
        await AssertRecoversAsync(dir.Path, Range(0, 10), 10);
    }

    /// <summary>A file extended but never written (a filesystem that allocated blocks before the data
    /// reached them) reads as zeros: a zero length field is corruption, not a record.</summary>
    [Fact(Timeout = 30000)]
    public async Task Zeros_after_the_last_record_are_cut_off()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 10);
        RemoveActiveIndex(dir.Path);
        string last = Segments(dir.Path)[^1];
        Truncate(last, new FileInfo(last).Length + 4096);
        await AssertRecoversAsync(dir.Path, Range(0, 10), 10);
        var frames = Frames(last);
        Assert.Equal(10UL, frames[^1].Offset); // the record appended after recovery follows the last intact one
        Assert.Equal(frames[^1].End, new FileInfo(last).Length);
    }

    /// <summary>
    /// A whole, intact frame whose offset is not the next one (a write replayed after a crash, or a block
    /// of an older file) must not be taken as a new record: that would give an offset twice.
    /// </summary>
    [Fact(Timeout = 30000)]
    public async Task A_replayed_frame_at_the_tail_is_cut_not_taken_as_a_second_record()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 30);
        RemoveActiveIndex(dir.Path);
        string last = Segments(dir.Path)[^1];
        var frames = Frames(last);
        var bytes = await File.ReadAllBytesAsync(last);
        var replayed = bytes.AsSpan((int)frames[^2].Position, frames[^2].Length).ToArray();
        using (var stream = new FileStream(last, FileMode.Append))
            stream.Write(replayed);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 30), 30);
        Assert.Contains(warnings, w => w.Contains("Truncating", StringComparison.Ordinal));
    }
}
