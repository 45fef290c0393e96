using Runnel.Storage.Log;
using static Runnel.Storage.Tests.Crash.CrashTestLog;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// The offset high-water mark (<c>offsets.hwm</c>): whatever a crash or a damaged disk makes recovery cut,
/// an offset handed out once is never handed out to another record, and a clean close leaves no gap.
/// </summary>
[Trait("Category", "CrashConsistency")]
public class HighWaterMarkTests
{
    /// <summary>A crash leaves the mark raised above the last record: the next offset starts there, in a
    /// segment of its own (offsets stay consecutive within a segment), and readers step over the gap.</summary>
    [Fact(Timeout = 30000)]
    public async Task Unclean_close_leaves_the_next_offset_above_every_offset_handed_out()
    {
        using var dir = new TempDirectory();
        await WriteCrashedAsync(dir.Sub("live"), dir.Path, 100);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 100), 100, exact: false);
        Assert.Contains(warnings, w => w.Contains("will not be given again", StringComparison.Ordinal));
        Assert.True(SegmentFile.TryParseBaseOffset(Segments(dir.Path)[^1], out ulong newest));
        Assert.Equal(1 + HighWaterMark.ReservationStep, newest); // the first append reserved [0, 1 + step)
        Assert.Single(Frames(Segments(dir.Path)[^1])); // the record appended after recovery
    }

    /// <summary>A clean close brings the mark down to the next offset: a clean restart continues without a gap.</summary>
    [Fact(Timeout = 30000)]
    public async Task Clean_close_leaves_no_gap_in_offsets()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 100);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 100), 100);
        Assert.Empty(warnings);
        using var log = ShardLog.Open(dir.Path, Options);
        Assert.Equal(101UL, log.NextOffset);
    }

    /// <summary>Records cut from a torn tail after a crash were acknowledged: their offsets are not reused
    /// by the records appended after recovery.</summary>
    [Fact(Timeout = 30000)]
    public async Task Records_cut_from_a_torn_tail_after_a_crash_never_get_their_offsets_again()
    {
        using var dir = new TempDirectory();
        await WriteCrashedAsync(dir.Sub("live"), dir.Path, 100, batchSize: 5);
        string last = Segments(dir.Path)[^1];
        var frames = Frames(last);
        Truncate(last, frames[^3].Position + 3); // the last three records, acknowledged, torn away
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 97), 100, exact: false);
        Assert.Contains(warnings, w => w.Contains("Truncating", StringComparison.Ordinal));
    }

    /// <summary>A missing mark (deleted, or a data directory from before it existed) falls back to the
    /// log's end, with a warning; it is written again at the next append.</summary>
    [Fact(Timeout = 30000)]
    public async Task Missing_high_water_mark_falls_back_to_the_log_end_with_a_warning()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 50);
        File.Delete(HighWaterMark.PathIn(dir.Path));
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 50), 50);
        Assert.Contains(warnings, w => w.Contains("is missing", StringComparison.Ordinal));
        Assert.True(File.Exists(HighWaterMark.PathIn(dir.Path)));
    }

    /// <summary>A damaged mark (both slots bad, short, empty) falls back to the log's end with a warning, and
    /// never stops the open.</summary>
    [Theory(Timeout = 30000)]
    [InlineData("both-slots")]
    [InlineData("short")]
    [InlineData("empty")]
    public async Task Damaged_high_water_mark_falls_back_to_the_log_end_with_a_warning(string damage)
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 50);
        string path = HighWaterMark.PathIn(dir.Path);
        switch (damage)
        {
            case "both-slots":
                FlipByte(path, 17);
                FlipByte(path, HighWaterMark.SlotSize + 17);
                break;
            case "short":
                Truncate(path, 20);
                break;
            default:
                Truncate(path, 0);
                break;
        }
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 50), 50);
        Assert.Contains(warnings, w => w.Contains("is damaged", StringComparison.Ordinal));
        Assert.Equal(HighWaterMark.FileSize, new FileInfo(path).Length); // rewritten whole by the next append
    }

    /// <summary>A crash while the mark was being raised tears one slot: the other slot's older mark still
    /// covers every offset acknowledged so far (it was durable before any of them was handed out).</summary>
    [Fact(Timeout = 30000)]
    public async Task Torn_high_water_mark_update_keeps_the_mark_of_the_other_slot()
    {
        using var dir = new TempDirectory();
        await WriteCrashedAsync(dir.Sub("live"), dir.Path, 30);
        string path = HighWaterMark.PathIn(dir.Path);
        var before = HighWaterMark.Load(dir.Path, expected: true, _ => { }).Value;
        // The slot written last is the one a torn update would not have touched; damage the other.
        var bytes = await File.ReadAllBytesAsync(path);
        int older = BitConverter.ToUInt64(bytes, 8) < BitConverter.ToUInt64(bytes, HighWaterMark.SlotSize + 8) ? 0 : 1;
        FlipByte(path, older * HighWaterMark.SlotSize + 20);
        Assert.Equal(before, HighWaterMark.Load(dir.Path, expected: true, _ => { }).Value);
        await AssertRecoversAsync(dir.Path, Range(0, 30), before, exact: true);
    }
}
