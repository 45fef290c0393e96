using Runnel.Storage.Records;
using System.Buffers.Binary;
using System.Text;
using Runnel.Storage.Log;

namespace Runnel.Storage.Tests.Formats;

/// <summary>
/// Pins the on-disk byte layouts to the pages that describe them (docs/formats/segment.md,
/// docs/formats/index.md and docs/formats/hwm.md): a change to a layout fails here until the page and the version fields
/// are changed with it.
/// </summary>
public class FormatLayoutTests
{
    [Fact(Timeout = 10000)]
    public async Task Checksums_are_standard_CRC32C()
    {
        await Task.Yield();
        Assert.Equal(0xE3069283u, RecordFrame.Crc32C("123456789"u8)); // the CRC-32C check value
        Assert.Equal(RecordFrame.Crc32C("123456789"u8), RecordFrame.Crc32C("1234"u8, "56789"u8));
        Assert.Equal(0u, RecordFrame.Crc32C([]));
    }

    [Fact(Timeout = 10000)]
    public async Task Segment_header_layout_version_2()
    {
        await Task.Yield();
        var h = SegmentFile.BuildHeader(42, 1_700_000_000_123);
        Assert.Equal(32, h.Length);
        Assert.Equal("RNLS", Encoding.ASCII.GetString(h, 0, 4));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(4)));  // version
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(6)));  // minCompatibleVersion: no sealed records
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(8)));
        Assert.Equal(1_700_000_000_123L, BinaryPrimitives.ReadInt64LittleEndian(h.AsSpan(16)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(24))); // flags
        Assert.Equal(RecordFrame.Crc32C(h.AsSpan(0, 28)), BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(28)));
        Assert.Equal("00000000000000000042.seg", Path.GetFileName(SegmentFile.DataPath("/d", 42)));
        Assert.Equal("00000000000000000042.idx", Path.GetFileName(SegmentFile.IndexPath(SegmentFile.DataPath("/d", 42))));

        // A segment that may hold sealed records says so, and a version 1 reader may not read it.
        var sealedHeader = SegmentFile.BuildHeader(42, 1_700_000_000_123, mayHoldSealed: true);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(sealedHeader.AsSpan(6)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(sealedHeader.AsSpan(24)));
        Assert.True(SegmentFile.MayHoldSealed(sealedHeader));
        Assert.False(SegmentFile.MayHoldSealed(h));
    }

    [Fact(Timeout = 10000)]
    public async Task Sealed_record_layout_version_1()
    {
        await Task.Yield();
        byte[] key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        byte[] body = new byte[Runnel.Storage.Encryption.RecordCipher.SealedSize(2, 2, 4)];
        using (var sealer = new Runnel.Storage.Encryption.RecordCipher.Sealer(new Runnel.Storage.Encryption.LogKey(3, key), 7, 1))
            sealer.Seal("pk"u8, "12"u8, "data"u8, body);
        Assert.Equal(1 + 16 + 12 + (2 + 2 + 1 + 2 + 4) + 16, body.Length);
        Assert.Equal(1, body[0]); // version
        Assert.Equal(new byte[12], body.AsSpan(17, 12).ToArray()); // nonce: the record's index in its append, from 0

        using var batch = new RecordBatch();
        batch.AddEncrypted(3, body);
        batch.Seal(9, 1234);
        var f = batch.Frames.Span;
        Assert.Equal(RecordFrame.FlagEncrypted, f[8 + 16]); // flags: sealed, no key in the clear
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(f[(8 + 17)..])); // keyId
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(f[(8 + 21)..])); // no partition key in the clear
        Assert.Equal(0, f[8 + 23]); // nor explicit hash key
        Assert.Equal(body.Length, BinaryPrimitives.ReadInt32LittleEndian(f[(8 + 24)..]));

        // It opens under the same key, log, shard and key id, and under no other.
        var keys = new FixedKeys(key);
        using var opener = new Runnel.Storage.Encryption.RecordCipher.Opener(keys, 7, 1);
        byte[] plain = new byte[body.Length];
        var (pk, ehk, data) = opener.Open(3, body, plain);
        Assert.Equal(("pk", "12", "data"), (Encoding.UTF8.GetString(plain[pk]), Encoding.UTF8.GetString(plain[ehk]), Encoding.UTF8.GetString(plain[data])));
        using var elsewhere = new Runnel.Storage.Encryption.RecordCipher.Opener(keys, 7, 2);
        Assert.Throws<InvalidDataException>(() => elsewhere.Open(3, body, plain));
        body[^1] ^= 1;
        using var fresh = new Runnel.Storage.Encryption.RecordCipher.Opener(keys, 7, 1);
        Assert.Throws<InvalidDataException>(() => fresh.Open(3, body, plain));
    }

    private sealed class FixedKeys(byte[] key) : Runnel.Storage.Encryption.ILogKeys
    {
        public byte[] Find(long logId, uint keyId) => key;
    }

    [Fact(Timeout = 10000)]
    public async Task Record_frame_layout_version_1()
    {
        await Task.Yield();
        using var batch = new RecordBatch();
        batch.Add("pk", "12", "data"u8);
        batch.Add("k", null, ""u8);
        batch.Seal(7, 1234);
        var f = batch.Frames.ToArray();

        byte[] expectedBody =
        [
            7, 0, 0, 0, 0, 0, 0, 0,           // offset
            0xD2, 0x04, 0, 0, 0, 0, 0, 0,     // arrivalMillis 1234
            0x02,                             // flags: explicit hash key present
            0, 0, 0, 0,                       // keyId
            2, 0, (byte)'p', (byte)'k',       // u16 length, partition key
            2, (byte)'1', (byte)'2',          // u8 length, explicit hash key
            4, 0, 0, 0, (byte)'d', (byte)'a', (byte)'t', (byte)'a', // u32 length, data
        ];
        Assert.Equal(8 + expectedBody.Length, RecordFrame.SizeOf(2, 2, 4));
        Assert.Equal(4 + expectedBody.Length, BinaryPrimitives.ReadInt32LittleEndian(f)); // bytes after the length field
        Assert.Equal(RecordFrame.Crc32C(expectedBody), BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(4)));
        Assert.Equal(expectedBody, f.AsSpan(8, expectedBody.Length).ToArray());

        // The second frame follows directly: no padding, no explicit hash key, empty data.
        var second = f.AsSpan(8 + expectedBody.Length);
        Assert.Equal(RecordFrame.SizeOf(1, 0, 0), second.Length);
        Assert.Equal(8UL, RecordFrame.ReadOffset(second));
        Assert.Equal(0, second[8 + 16]); // flags
        Assert.Equal(second.Length, RecordFrame.Validate(second));
    }

    [Fact(Timeout = 10000)]
    public async Task Index_layout_version_2()
    {
        await Task.Yield();
        var index = new SegmentIndex();
        index.Add(new IndexEntry(100, 32, 5000));
        index.Add(new IndexEntry(140, 4200, 5007));
        var b = index.Serialize(baseOffset: 100, nextOffset: 170, lastArrival: 5009, dataLength: 9000);
        Assert.Equal(48 + 2 * 24, b.Length);
        Assert.Equal("RNLI", Encoding.ASCII.GetString(b, 0, 4));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)));   // version
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));   // minCompatibleVersion
        Assert.Equal(100UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8)));
        Assert.Equal(170UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16)));
        Assert.Equal(5009L, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(24)));
        Assert.Equal(9000L, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(32)));
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(40)));
        Assert.Equal(RecordFrame.Crc32C(b.AsSpan(0, 44), b.AsSpan(48)), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(44)));
        Assert.Equal(140UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(48 + 24)));
        Assert.Equal(4200L, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(48 + 24 + 8)));
        Assert.Equal(5007L, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(48 + 24 + 16)));

        var read = SegmentIndex.TryDeserialize(b, 100);
        Assert.NotNull(read);
        Assert.Equal((170UL, 5009L, 9000L, 2), (read.Value.NextOffset, read.Value.LastArrival, read.Value.DataLength, read.Value.Index.Count));
        Assert.Null(SegmentIndex.TryDeserialize(b, 101)); // for another segment
    }

    [Fact(Timeout = 10000)]
    public async Task High_water_mark_layout_version_1()
    {
        using var dir = new TempDirectory();
        await Task.Yield();
        var slot = HighWaterMark.BuildSlot(sequence: 3, value: 70_000);
        Assert.Equal(32, slot.Length);
        Assert.Equal("RNLH", Encoding.ASCII.GetString(slot, 0, 4));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(slot.AsSpan(4)));  // version
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(slot.AsSpan(6)));  // minCompatibleVersion
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64LittleEndian(slot.AsSpan(8)));       // sequence
        Assert.Equal(70_000UL, BinaryPrimitives.ReadUInt64LittleEndian(slot.AsSpan(16))); // highWaterMark
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(slot.AsSpan(24)));       // flags
        Assert.Equal(RecordFrame.Crc32C(slot.AsSpan(0, 28)), BinaryPrimitives.ReadUInt32LittleEndian(slot.AsSpan(28)));
        Assert.Equal(65_536UL, HighWaterMark.ReservationStep);

        // The file: two slots, the newest intact one wins; written in place, alternating.
        Assert.Equal("offsets.hwm", Path.GetFileName(HighWaterMark.PathIn(dir.Path)));
        await File.WriteAllBytesAsync(HighWaterMark.PathIn(dir.Path), [.. HighWaterMark.BuildSlot(5, 100), .. HighWaterMark.BuildSlot(4, 200)]);
        var mark = HighWaterMark.Load(dir.Path, expected: true, _ => { });
        Assert.Equal(100UL, mark.Value);
        mark.Set(300); // goes to slot 1, the older one
        var bytes = await File.ReadAllBytesAsync(HighWaterMark.PathIn(dir.Path));
        Assert.Equal(64, bytes.Length);
        Assert.Equal(HighWaterMark.BuildSlot(5, 100), bytes[..32]);
        Assert.Equal(HighWaterMark.BuildSlot(6, 300), bytes[32..]);
    }
}
