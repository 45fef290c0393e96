using Runnel.Storage.Records;
using System.Buffers.Binary;
using Runnel.Storage.Log;
using static Runnel.Storage.Tests.Crash.CrashTestLog;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// An index is only a cache of its segment: whatever is wrong with it, recovery must notice, rebuild it
/// from the segment, and lose nothing. Every field of the file is damaged in turn.
/// </summary>
[Trait("Category", "CrashConsistency")]
public class CorruptIndexTests
{
    // Byte positions in the index header (docs/formats/index.md).
    private const int VersionAt = 4, MinVersionAt = 6, BaseOffsetAt = 8, NextOffsetAt = 16, LastArrivalAt = 24, DataLengthAt = 32, CountAt = 40, CrcAt = 44;

    public static TheoryData<string> Damages =>
    [
        "bad-magic", "entry-bit-flip", "crc-field", "truncated", "extra-bytes", "count-field", "empty-file",
        "claims-more-data-than-the-file", "claims-less-data-than-the-file", "wrong-base-offset", "newer-min-version",
        "next-offset-field", "last-arrival-field", "version-field",
    ];

    private static byte[] Damage(byte[] index, string damage)
    {
        var b = index.ToArray();
        switch (damage)
        {
            case "bad-magic": b[0] ^= 0xFF; break;
            case "entry-bit-flip": b[^3] ^= 0x01; break;
            case "crc-field": b[CrcAt] ^= 0x01; break;
            case "truncated": return b[..^1];
            case "extra-bytes": return [.. b, .. new byte[SegmentIndex.EntrySize]];
            case "count-field": Add32(b, CountAt, 1); break;
            case "empty-file": return [];
            case "claims-more-data-than-the-file": Add64(b, DataLengthAt, 100); break;
            case "claims-less-data-than-the-file": Add64(b, DataLengthAt, -1); break;
            case "wrong-base-offset": Add64(b, BaseOffsetAt, 1); break;
            case "newer-min-version": BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(MinVersionAt), SegmentIndex.Version + 1); break;
            case "next-offset-field": Add64(b, NextOffsetAt, -1); break;
            case "last-arrival-field": Add64(b, LastArrivalAt, 1_000_000); break;
            case "version-field": BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(VersionAt), 0); break;
            default: throw new ArgumentOutOfRangeException(nameof(damage));
        }
        return b;
    }

    private static void Add64(byte[] b, int at, long delta) => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at), BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(at)) + delta);

    private static void Add32(byte[] b, int at, int delta) => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at)) + delta);

    /// <summary>The index of a sealed segment in the middle of the log is damaged.</summary>
    [Theory(Timeout = 30000)]
    [MemberData(nameof(Damages))]
    public async Task Corrupt_index_of_a_sealed_segment_is_rebuilt_from_the_segment(string damage)
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 300, batchSize: 3);
        RemoveActiveIndex(dir.Path);
        var segments = Segments(dir.Path);
        Assert.True(segments.Count >= 4);
        string index = SegmentFile.IndexPath(segments[1]);
        var pristine = await File.ReadAllBytesAsync(index);
        await File.WriteAllBytesAsync(index, Damage(pristine, damage));

        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 300), 300);
        Assert.Contains(warnings, w => w.Contains("rebuilding", StringComparison.Ordinal));
        Assert.True(SegmentFile.TryParseBaseOffset(segments[1], out ulong baseOffset));
        var rebuilt = SegmentIndex.TryDeserialize(await File.ReadAllBytesAsync(index), baseOffset);
        var truth = SegmentIndex.TryDeserialize(pristine, baseOffset)!.Value;
        Assert.NotNull(rebuilt);
        Assert.Equal(truth.NextOffset, rebuilt.Value.NextOffset);
        Assert.Equal(truth.LastArrival, rebuilt.Value.LastArrival);
        Assert.Equal(truth.DataLength, rebuilt.Value.DataLength);
    }

    /// <summary>The index a clean close left for the active segment is damaged. It is consulted only for
    /// where to start scanning, and the log must still end, and continue, at the right offset.</summary>
    [Theory(Timeout = 30000)]
    [MemberData(nameof(Damages))]
    public async Task Corrupt_index_of_the_cleanly_closed_active_segment_is_not_trusted(string damage)
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 300, batchSize: 3);
        string index = SegmentFile.IndexPath(Segments(dir.Path)[^1]);
        await File.WriteAllBytesAsync(index, Damage(await File.ReadAllBytesAsync(index), damage));
        await AssertRecoversAsync(dir.Path, Range(0, 300), 300);
    }

    /// <summary>A version 1 index (its CRC covered the entries only) written by an older Runnel is rebuilt
    /// as version 2 rather than trusted.</summary>
    [Fact(Timeout = 30000)]
    public async Task Version_1_index_from_an_older_Runnel_is_rebuilt()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 300);
        RemoveActiveIndex(dir.Path);
        string index = SegmentFile.IndexPath(Segments(dir.Path)[1]);
        var b = await File.ReadAllBytesAsync(index);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(VersionAt), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(MinVersionAt), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(CrcAt), RecordFrame.Crc32C(b.AsSpan(SegmentIndex.HeaderSize)));
        await File.WriteAllBytesAsync(index, b);
        var warnings = await AssertRecoversAsync(dir.Path, Range(0, 300), 300);
        Assert.Contains(warnings, w => w.Contains("rebuilding", StringComparison.Ordinal));
        Assert.Equal(SegmentIndex.Version, BinaryPrimitives.ReadUInt16LittleEndian((await File.ReadAllBytesAsync(index)).AsSpan(VersionAt)));
    }

    /// <summary>Every sealed segment lost its index (a copy of the data directory that skipped them).</summary>
    [Fact(Timeout = 30000)]
    public async Task Missing_indexes_of_sealed_segments_are_rebuilt()
    {
        using var dir = new TempDirectory();
        await WriteAsync(dir.Path, 300);
        var segments = Segments(dir.Path);
        foreach (var index in Directory.GetFiles(dir.Path, "*.idx"))
            File.Delete(index);
        await AssertRecoversAsync(dir.Path, Range(0, 300), 300);
        foreach (var segment in segments)
            Assert.True(File.Exists(SegmentFile.IndexPath(segment)), $"{segment} was not indexed again");
    }
}
