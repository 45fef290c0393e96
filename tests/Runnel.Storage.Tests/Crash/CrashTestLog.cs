using Runnel.Storage.Records;
using System.Text;
using Runnel.Storage.Log;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.Crash;

/// <summary>Where one frame lies in a segment file, found by walking the file.</summary>
public readonly record struct FrameLocation(ulong Offset, long Position, int Length)
{
    public long End => Position + Length;
}

/// <summary>
/// Builds logs whose every record can be recognised from its offset alone, puts their files in the
/// states crashes and disks leave, and checks what recovery makes of them.
/// </summary>
public static class CrashTestLog
{
    /// <summary>Small segments (a few dozen records each) and a dense index.</summary>
    public static readonly LogOptions Options = new() { SegmentBytes = 2048, IndexIntervalBytes = 128, Fsync = FsyncPolicy.Never };

    /// <summary>The data of the record at <paramref name="offset"/>: the offset itself, padded to a varying length.</summary>
    public static string Payload(ulong offset) => $"rec-{offset:D6}-" + new string((char)('a' + (int)(offset % 26)), (int)(offset % 40));

    /// <summary>Appends records <c>0..count-1</c> in batches of <paramref name="batchSize"/>, then closes the log cleanly.</summary>
    public static async Task WriteAsync(string directory, int count, int batchSize = 1, LogOptions? options = null)
    {
        using var log = ShardLog.Open(directory, options ?? Options);
        await AppendRangeAsync(log, (ulong)count, batchSize);
    }

    /// <summary>
    /// Appends records <c>0..count-1</c> to a log in <paramref name="live"/> and copies its files to
    /// <paramref name="directory"/> while it is still open: the copy is what a crash (kill -9) leaves, with
    /// no clean-close index and the offset high-water mark still raised. The live log is closed afterwards.
    /// </summary>
    public static async Task WriteCrashedAsync(string live, string directory, int count, int batchSize = 1, LogOptions? options = null)
    {
        using var log = ShardLog.Open(live, options ?? Options);
        await AppendRangeAsync(log, (ulong)count, batchSize);
        CopyDirectory(live, directory);
    }

    public static async Task AppendRangeAsync(IShardLog log, ulong count, int batchSize)
    {
        ulong first = log.NextOffset;
        for (ulong offset = first; offset < first + count; offset += (ulong)batchSize)
        {
            using var batch = new RecordBatch();
            for (ulong o = offset; o < Math.Min(offset + (ulong)batchSize, first + count); o++)
                batch.Add("pk-" + o, null, Encoding.UTF8.GetBytes(Payload(o)));
            var appended = await log.AppendAsync(batch);
            Assert.Equal(offset, appended.FirstOffset);
        }
    }

    /// <summary>
    /// Removes the active (last) segment's index. A clean close writes it; a crash never does, so this is
    /// the state a crash leaves the files in (everything written is in the file, as after kill -9).
    /// </summary>
    public static void RemoveActiveIndex(string directory)
    {
        string index = SegmentFile.IndexPath(Segments(directory)[^1]);
        if (File.Exists(index))
            File.Delete(index);
    }

    /// <summary>The segment files, oldest first.</summary>
    public static List<string> Segments(string directory) =>
        Directory.GetFiles(directory, "*" + SegmentFile.DataExtension).Order(StringComparer.Ordinal).ToList();

    /// <summary>The intact frames of a segment file, walked from its header.</summary>
    public static List<FrameLocation> Frames(string segmentPath)
    {
        var bytes = File.ReadAllBytes(segmentPath);
        var frames = new List<FrameLocation>();
        int position = SegmentFile.HeaderSize;
        while (position < bytes.Length)
        {
            int length = RecordFrame.Validate(bytes.AsSpan(position));
            if (length <= 0)
                break;
            frames.Add(new FrameLocation(RecordFrame.ReadOffset(bytes.AsSpan(position)), position, length));
            position += length;
        }
        return frames;
    }

    public static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
    }

    public static void Truncate(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.SetLength(length);
    }

    /// <summary>Flips <paramref name="count"/> consecutive bytes from <paramref name="position"/>.</summary>
    public static void FlipBytes(string path, long position, int count)
    {
        for (int i = 0; i < count; i++)
            FlipByte(path, position + i);
    }

    public static void FlipByte(string path, long position, byte mask = 0x5A)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = position;
        int b = stream.ReadByte();
        stream.Position = position;
        stream.WriteByte((byte)(b ^ mask));
    }

    /// <summary>
    /// Opens the damaged log and checks the promise recovery makes: exactly <paramref name="survivors"/> are
    /// readable, each intact, in order, none twice; the next append's offset is above every offset ever
    /// handed out (<paramref name="handedOutEnd"/> is one past the highest), and equal to it when
    /// <paramref name="exact"/> (the files come from a clean close, which leaves no reservation); and a
    /// second open finds nothing more to repair and the same records plus the new one.
    /// Returns the warnings of the first open.
    /// </summary>
    public static async Task<List<string>> AssertRecoversAsync(string directory, IEnumerable<ulong> survivors, ulong handedOutEnd, bool exact = true)
    {
        var expected = survivors.ToList();
        var warnings = new List<string>();
        ulong nextOffset;
        using (var log = ShardLog.Open(directory, Options, warnings.Add))
        {
            nextOffset = log.NextOffset;
            if (exact)
                Assert.Equal(handedOutEnd, nextOffset);
            else
                Assert.True(nextOffset >= handedOutEnd, $"next offset {nextOffset} is below {handedOutEnd}, which was handed out before");
            AssertHolds(log, expected, nextOffset);
            using var batch = new RecordBatch();
            batch.Add("pk-" + nextOffset, null, Encoding.UTF8.GetBytes(Payload(nextOffset)));
            Assert.Equal(nextOffset, (await log.AppendAsync(batch)).FirstOffset);
        }
        var again = new List<string>();
        using (var log = ShardLog.Open(directory, Options, again.Add))
        {
            AssertHolds(log, [.. expected, nextOffset], nextOffset + 1);
            // A gap between segments (an unused reservation, a lost segment) is reported at every open, and
            // readers report the damaged bytes they skip at every read; anything else means the first open
            // left something unrepaired.
            var repairs = again.Where(w => !w.Contains("hold no records", StringComparison.Ordinal)
                && !w.Contains("cannot be read and are skipped", StringComparison.Ordinal)).ToList();
            Assert.True(repairs.Count == 0, "the second open still repaired: " + string.Join(" | ", repairs));
        }
        return warnings;
    }

    private static void AssertHolds(IShardLog log, List<ulong> expected, ulong nextOffset)
    {
        Assert.Equal(nextOffset, log.NextOffset);
        var records = ReadAll(log);
        AssertInOrder(records, contiguous: false);
        Assert.Equal(expected, records.Select(r => r.Offset));
        foreach (var r in records)
            Assert.Equal(Payload(r.Offset), r.Text);
        // Every surviving record is also found directly, through the index, not only by reading from 0.
        foreach (ulong offset in expected.Where((_, i) => i % 17 == 0))
            Assert.Equal(offset, Assert.Single(ReadOnce(log, offset, maxRecords: 1).Records).Offset);
    }

    public static IEnumerable<ulong> Range(ulong from, ulong toExclusive)
    {
        for (ulong o = from; o < toExclusive; o++)
            yield return o;
    }
}
