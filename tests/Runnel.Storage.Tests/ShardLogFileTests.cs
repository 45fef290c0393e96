using Runnel.Storage.Log;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests;

/// <summary>What the embedded <see cref="ShardLog"/> leaves on disk (the contract suite does not look at files).</summary>
public class ShardLogFileTests
{
    private static readonly LogOptions Small = new() { SegmentBytes = 4096, IndexIntervalBytes = 256, Fsync = FsyncPolicy.Never };

    [Fact(Timeout = 30000)]
    public async Task Segments_are_named_by_base_offset_and_sealed_ones_have_an_index()
    {
        using var dir = new TempDirectory();
        using (var log = ShardLog.Open(dir.Path, Small))
        {
            for (int i = 0; i < 300; i++)
                await AppendAsync(log, $"v{i}-" + new string('s', 30));
            var segments = Directory.GetFiles(dir.Path, "*.seg").Order(StringComparer.Ordinal).ToList();
            Assert.True(segments.Count > 3, "the small segment size forces rolls");
            Assert.Equal(SegmentFile.DataPath(dir.Path, 0), segments[0]);
            var bases = segments.Select(s => { Assert.True(SegmentFile.TryParseBaseOffset(s, out ulong b)); return b; }).ToList();
            var records = ReadAll(log);
            foreach (ulong b in bases)
                Assert.Contains(records, r => r.Offset == b); // each segment starts at a record
            foreach (var sealedSegment in segments.SkipLast(1))
                Assert.True(File.Exists(SegmentFile.IndexPath(sealedSegment)), $"{sealedSegment} has no index");
            Assert.False(File.Exists(SegmentFile.IndexPath(segments[^1])), "the active segment's index is written only on seal or close");
        }
        Assert.True(File.Exists(SegmentFile.IndexPath(Directory.GetFiles(dir.Path, "*.seg").Order(StringComparer.Ordinal).Last())), "a clean close indexes the active segment");
    }

    [Fact(Timeout = 30000)]
    public async Task Sealed_records_start_a_segment_whose_header_admits_them_and_only_that_one_needs_version_2()
    {
        using var dir = new TempDirectory();
        var key = new Runnel.Storage.Encryption.LogKey(1, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var keys = new OneKey(key.Key);
        using (var plain = ShardLog.Open(dir.Path, Small))
        using (var log = new Runnel.Storage.Encryption.EncryptingShardLog(plain, 5, 0, keys))
        {
            await AppendAsync(log, "plain-0");
            using (var batch = new Runnel.Storage.Records.RecordBatch { SealWith = key })
            {
                batch.Add("k", null, "sealed-1"u8);
                await log.AppendAsync(batch);
            }
            await AppendAsync(log, "plain-2"); // into the segment that admits sealed records: no new segment
        }
        var segments = Directory.GetFiles(dir.Path, "*.seg").Order(StringComparer.Ordinal).ToList();
        Assert.Equal([SegmentFile.DataPath(dir.Path, 0), SegmentFile.DataPath(dir.Path, 1)], segments);
        byte[] first = File.ReadAllBytes(segments[0]), second = File.ReadAllBytes(segments[1]);
        Assert.Equal((1, false), (System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(first.AsSpan(6)), SegmentFile.MayHoldSealed(first)));
        Assert.Equal((2, true), (System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(second.AsSpan(6)), SegmentFile.MayHoldSealed(second)));
        Assert.True(second.AsSpan().IndexOf("sealed-1"u8) < 0);

        using var reopened = new Runnel.Storage.Encryption.EncryptingShardLog(ShardLog.Open(dir.Path, Small), 5, 0, keys);
        Assert.Equal(["plain-0", "sealed-1", "plain-2"], ReadAllText(reopened));
    }

    private sealed class OneKey(byte[] key) : Runnel.Storage.Encryption.ILogKeys
    {
        public byte[] Find(long logId, uint keyId) => key;
    }

    [Fact(Timeout = 30000)]
    public async Task Retention_deletes_expired_segment_files_and_keeps_one_to_carry_the_offset()
    {
        using var dir = new TempDirectory();
        using var log = ShardLog.Open(dir.Path, Small);
        for (int i = 0; i < 200; i++)
            await AppendAsync(log, $"old-{i}-" + new string('y', 40));
        Assert.True(Directory.GetFiles(dir.Path, "*.seg").Length > 2);
        log.EnforceRetention(log.LastArrivalMillis + 1);
        var left = Assert.Single(Directory.GetFiles(dir.Path, "*.seg"));
        Assert.Equal(SegmentFile.DataPath(dir.Path, 200), left);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.idx"));
    }
}
