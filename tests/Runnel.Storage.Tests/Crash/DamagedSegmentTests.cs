using Runnel.Storage.Records;
using System.Buffers.Binary;
using Runnel.Storage.Log;
using Xunit.Abstractions;
using static Runnel.Storage.Tests.Crash.CrashTestLog;

namespace Runnel.Storage.Tests.Crash;

/// <summary>Segment files damaged in other ways than a torn tail: bit rot, truncation, a crash during
/// segment creation, a damaged header, temporary files left behind.</summary>
[Trait("Category", "CrashConsistency")]
public class DamagedSegmentTests(ITestOutputHelper output)
{
    /// <summary>A frame in the middle of the active segment fails its check after a crash (a bad sector,
    /// bit rot in the page cache). Only that frame is lost: the acknowledged frames after it survive and
    /// are readable, and the next offset is above every offset handed out before.</summary>
    [Theory(Timeout = 30000)]
    [InlineData("data")]
    [InlineData("crc")]
    [InlineData("length")]
    [InlineData("offset")]
    public async Task Corrupt_frame_in_the_middle_of_the_active_segment_loses_only_that_frame(string field)
    {
        using var dir = new TempDirectory();
        await WriteCrashedAsync(dir.Sub("live"), dir.Path, 100);
        string last = Segments(dir.Path)[^1];
        var frames = Frames(last);
        Assert.True(frames.Count >= 6);
        var victim = frames[frames.Count / 2];
        long at = field switch
        {
            "length" => victim.Position + 1,
            "crc" => victim.Position + RecordFrame.LengthFieldSize,
            "offset" => victim.Position + RecordFrame.OffsetPosition,
            _ => victim.End - 2,
        };
        FlipByte(last, at);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 100).Where(o => o != victim.Offset), 100, exact: false);
        Assert.Contains(warnings, w => w.Contains("Corrupt record frame", StringComparison.Ordinal) && w.Contains($"offsets {victim.Offset}..{victim.Offset}", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Contains("Truncating", StringComparison.Ordinal));
        using var log = ShardLog.Open(dir.Path, Options);
        var (fromHole, _) = LogContents.ReadOnce(log, victim.Offset, maxRecords: 1); // a reader starting in the hole
        Assert.Equal(victim.Offset + 1, Assert.Single(fromHole).Offset);
    }

    /// <summary>Four bytes flipped in the middle of the newest segment after a kill -9, with far more than 64
    /// acknowledged records behind them: every record outside the damaged frames is kept, and no offset is
    /// given twice.</summary>
    [Fact(Timeout = 30000)]
    public async Task Four_bytes_flipped_mid_active_segment_after_a_crash_keep_every_record_after_them()
    {
        using var dir = new TempDirectory();
        var options = Options with { SegmentBytes = 1 << 20 };
        await WriteCrashedAsync(dir.Sub("live"), dir.Path, 200, options: options);
        string last = Assert.Single(Segments(dir.Path));
        var frames = Frames(last);
        long middle = new FileInfo(last).Length / 2;
        FlipBytes(last, middle, 4);
        var damaged = frames.Where(f => f.Position < middle + 4 && f.End > middle).Select(f => f.Offset).ToHashSet();
        Assert.InRange(damaged.Count, 1, 2);
        Assert.True(frames.Count(f => f.Position >= middle + 4) >= 64, "at least 64 records after the damage");
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 200).Where(o => !damaged.Contains(o)), 200, exact: false);
        Assert.DoesNotContain(warnings, w => w.Contains("Truncating", StringComparison.Ordinal));
        using var log = ShardLog.Open(dir.Path, Options);
        output.WriteLine($"damaged {damaged.Count} record(s), kept {frames.Count(f => f.Position >= middle + 4)}/{frames.Count(f => f.Position >= middle + 4)} after them; next offset {log.NextOffset - 1} (the one appended by the check) > 199 acknowledged before");
    }

    /// <summary>A length field damaged so that it points inside the file but not at the next frame: the
    /// shortcut through the length fails and recovery finds the next frame by searching forward.</summary>
    [Fact(Timeout = 30000)]
    public async Task Corrupt_length_field_pointing_inside_the_segment_is_resynced_by_a_forward_search()
    {
        using var dir = new TempDirectory();
        await WriteCrashedAsync(dir.Sub("live"), dir.Path, 100);
        string last = Segments(dir.Path)[^1];
        var frames = Frames(last);
        var victim = frames[frames.Count / 2];
        var bytes = await File.ReadAllBytesAsync(last);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan((int)victim.Position), victim.Length + 7);
        await File.WriteAllBytesAsync(last, bytes);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 100).Where(o => o != victim.Offset), 100, exact: false);
        Assert.Contains(warnings, w => w.Contains($"bytes {victim.Position}..{victim.End - 1}:", StringComparison.Ordinal));
    }

    /// <summary>A sealed segment lost its end (a truncating fsck, a partial copy of the data directory).
    /// Its intact prefix and every later segment survive; the lost offsets are a reported gap and are never given again.</summary>
    [Theory(Timeout = 30000)]
    [InlineData(0.5)]
    [InlineData(0.0)]
    [InlineData(-1.0)] // inside the header
    public async Task Truncated_sealed_segment_keeps_its_intact_prefix_and_every_later_segment(double keep)
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 300);
        RemoveActiveIndex(dir.Path);
        var segments = Segments(dir.Path);
        Assert.True(segments.Count >= 4);
        var frames = Frames(segments[1]);
        long cut = keep < 0 ? SegmentFile.HeaderSize / 2 : SegmentFile.HeaderSize + (long)((frames[^1].End - SegmentFile.HeaderSize) * keep);
        Truncate(segments[1], cut);
        var lost = frames.Where(f => f.End > cut).Select(f => f.Offset).ToHashSet();
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 300).Where(o => !lost.Contains(o)), 300);
        Assert.Contains(warnings, w => w.Contains("hold no records", StringComparison.Ordinal));
    }

    /// <summary>A crash right after a new segment file was created, before (or while) its header was
    /// written: the file is empty or holds part of a header. It becomes the active segment and the log
    /// carries on at the offset in its name.</summary>
    [Theory(Timeout = 30000)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(SegmentFile.HeaderSize)]
    public async Task Empty_or_headless_last_segment_after_a_crash_right_after_create(int headerBytes)
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 120); // a clean close: the last segment is indexed, as after a seal
        string created = SegmentFile.DataPath(dir.Path, 120);
        await File.WriteAllBytesAsync(created, SegmentFile.BuildHeader(120, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).AsSpan(0, headerBytes).ToArray());
        await AssertRecoversAsync(dir.Path, Range(0, 120), 120);
        Assert.Equal(created, Segments(dir.Path)[^1]);
        Assert.NotNull(SegmentFile.TryReadHeader(File.ReadAllBytes(created), 120));
        Assert.Single(Frames(created)); // the record appended after recovery went into the new segment
    }

    /// <summary>A damaged header (magic, CRC, or the base offset it claims) is rewritten; the records
    /// behind it are kept, whether an index vouches for them (sealed) or they must be scanned (active).</summary>
    [Theory(Timeout = 30000)]
    [InlineData(0, true)]
    [InlineData(0, false)]
    [InlineData(10, true)]
    [InlineData(10, false)]
    [InlineData(29, true)]
    [InlineData(29, false)]
    public async Task Damaged_segment_header_is_rewritten_and_its_records_kept(int headerByte, bool sealedSegment)
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 200);
        RemoveActiveIndex(dir.Path);
        var segments = Segments(dir.Path);
        string victim = sealedSegment ? segments[2] : segments[^1];
        FlipByte(victim, headerByte);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 200), 200);
        Assert.Contains(warnings, w => w.Contains("Header", StringComparison.Ordinal));
        Assert.True(SegmentFile.TryParseBaseOffset(victim, out ulong baseOffset));
        Assert.NotNull(SegmentFile.TryReadHeader(File.ReadAllBytes(victim), baseOffset));
    }

    /// <summary>A segment written by a newer Runnel whose format this one cannot read is refused, loudly,
    /// rather than "repaired" into data loss.</summary>
    [Fact(Timeout = 30000)]
    public async Task Segment_from_a_newer_incompatible_version_is_refused()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 10);
        string segment = Segments(dir.Path)[0];
        var bytes = await File.ReadAllBytesAsync(segment);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), SegmentFile.Version + 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), SegmentFile.Version + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), RecordFrame.Crc32C(bytes.AsSpan(0, 28)));
        await File.WriteAllBytesAsync(segment, bytes);
        var refused = Assert.Throws<InvalidDataException>(() => ShardLog.Open(dir.Path, Options));
        Assert.Contains("Upgrade", refused.Message, StringComparison.Ordinal);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(segment)); // left as it was
    }

    /// <summary>A newer Runnel that still writes frames this one reads (minCompatibleVersion unchanged) is opened.</summary>
    [Fact(Timeout = 30000)]
    public async Task Segment_from_a_newer_compatible_version_is_read()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 10);
        string segment = Segments(dir.Path)[0];
        var bytes = await File.ReadAllBytesAsync(segment);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), SegmentFile.Version + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), RecordFrame.Crc32C(bytes.AsSpan(0, 28)));
        await File.WriteAllBytesAsync(segment, bytes);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 10), 10);
        Assert.Empty(warnings);
    }

    /// <summary>A crash while an index was being written leaves <c>.idx.tmp</c> (the rename never happened);
    /// such files are removed, and the segment is indexed afresh if it has no index.</summary>
    [Fact(Timeout = 30000)]
    public async Task Stray_tmp_files_are_removed_and_a_missing_index_rebuilt()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 200);
        var segments = Segments(dir.Path);
        string index = SegmentFile.IndexPath(segments[1]);
        File.Move(index, index + ".tmp"); // written, never renamed
        await File.WriteAllTextAsync(SegmentFile.IndexPath(segments[2]) + ".tmp", "half an index");
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "other.tmp"), []);
        await AssertRecoversAsync(dir.Path, Range(0, 200), 200);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        Assert.True(File.Exists(index));
    }

    /// <summary>Retention deletes a segment's index, then the segment. A crash between the two leaves an
    /// expired segment with no index: it is recovered like any other and removed by the next retention pass.</summary>
    [Fact(Timeout = 30000)]
    public async Task Crash_between_deleting_an_index_and_its_segment_is_finished_by_the_next_retention()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 200);
        var segments = Segments(dir.Path);
        File.Delete(SegmentFile.IndexPath(segments[0]));
        await AssertRecoversAsync(dir.Path, Range(0, 200), 200);
        using var log = ShardLog.Open(dir.Path, Options);
        log.EnforceRetention(long.MaxValue);
        Assert.False(File.Exists(segments[0]));
        Assert.Equal(201UL, log.NextOffset);
    }

    /// <summary>An index whose segment is gone (deleted by hand, or a crash in a retention that deleted in
    /// the other order) is ignored: the segment file is the truth.</summary>
    [Fact(Timeout = 30000)]
    public async Task An_index_without_its_segment_is_ignored()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 200);
        var segments = Segments(dir.Path);
        var firstOfSecond = Frames(segments[1])[0].Offset;
        File.Delete(segments[0]);
        var warnings = await AssertRecoversAsync(dir.Path, Range(firstOfSecond, 200), 200);
        Assert.Empty(warnings);
    }

    /// <summary>Disk corruption inside a sealed segment that recovery trusts (its index is intact): readers
    /// skip from the damaged record to the next indexed one instead of stopping there for good.</summary>
    [Fact(Timeout = 30000)]
    public async Task Corrupt_record_in_a_trusted_sealed_segment_is_skipped_not_a_dead_end()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 200);
        var segments = Segments(dir.Path);
        var frames = Frames(segments[1]);
        var victim = frames[frames.Count / 2];
        FlipByte(segments[1], victim.Position + RecordFrame.HeaderSize + 20); // inside the body: the CRC fails
        var warnings = new List<string>();
        using var log = ShardLog.Open(dir.Path, Options, warnings.Add);
        var offsets = new List<ulong>();
        ulong from = 0;
        for (int round = 0; round < 50 && from < log.NextOffset; round++)
        {
            using var page = log.Read(from, 30, long.MaxValue, 0);
            foreach (var r in page.Records)
                offsets.Add(r.Offset);
            Assert.True(page.NextOffset > from, "every read makes progress");
            from = page.NextOffset;
        }
        Assert.DoesNotContain(victim.Offset, offsets);
        Assert.Contains(199UL, offsets);
        Assert.Equal(offsets.Order(), offsets);
        Assert.True(offsets.Count >= 190, $"only the records up to the next index entry are lost ({offsets.Count} read)");
        Assert.Contains(warnings, w => w.Contains("cannot be read and are skipped", StringComparison.Ordinal));
    }
}
