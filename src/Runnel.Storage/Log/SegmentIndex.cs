using Runnel.Storage.Records;
using System.Buffers.Binary;

namespace Runnel.Storage.Log;

/// <summary>One sparse index entry: the record at <see cref="Offset"/> starts at byte <see cref="Position"/>
/// of its segment and arrived at <see cref="ArrivalMillis"/>.</summary>
public readonly record struct IndexEntry(ulong Offset, long Position, long ArrivalMillis);

/// <summary>
/// The sparse offset and time index of one segment: an entry at least every <c>interval</c> bytes.
/// Because arrival times never decrease within a shard, the same entries answer "where is offset N" and
/// "where is the first record at or after time T" by binary search. Not thread-safe for writes; the shard
/// writer appends, and readers see <see cref="Published"/>.
/// File layout (version 2, little-endian; docs/formats/index.md):
/// <code>
///   u32 magic 'RNLI', u16 version, u16 minCompatibleVersion, u64 baseOffset,
///   u64 nextOffset, i64 lastArrival, i64 dataLength, i32 count, u32 crc32c(bytes 0..43, then the entries)
///   count × (u64 offset, i64 position, i64 arrivalMillis)
/// </code>
/// Version 1 checked the entries only, so a damaged nextOffset, lastArrival or dataLength was trusted;
/// an index is a cache of its segment, so a version 1 file is simply rebuilt.
/// </summary>
public sealed class SegmentIndex
{
    public const uint Magic = 0x494C4E52; // "RNLI" little-endian
    public const ushort Version = 2;
    public const ushort MinCompatibleVersion = 2;
    public const int HeaderSize = 4 + 2 + 2 + 8 + 8 + 8 + 8 + 4 + 4;
    private const int CrcPosition = HeaderSize - 4;
    public const int EntrySize = 24;

    /// <summary>Entries per chunk: 2,048 × 24 bytes = 48 KiB, under the 85,000 bytes at which .NET puts an array
    /// in the large object heap, which only a full collection frees. A 64 MiB segment's index used to be one
    /// array of 4,097 entries or more (96 KiB, or 192 KiB after a doubling): a large object per segment
    /// written, garbage that piled up under a long write until a full collection (issue 12).</summary>
    public const int ChunkSize = 2048;
    internal const int ChunkShift = 11;
    private const int FirstChunkSize = 16;

    // Only the first chunk grows (by doubling, up to ChunkSize); later chunks are allocated whole. A snapshot
    // keeps the chunk arrays it was taken with; the writer only ever writes past a snapshot's count, or into
    // a new first chunk, so a snapshot never changes under a reader.
    private IndexEntry[][] _chunks = [];
    private int _count;

    public int Count => _count;

    public IndexEntry this[int i] => _chunks[i >> ChunkShift][i & (ChunkSize - 1)];

    public void Add(IndexEntry entry)
    {
        int chunk = _count >> ChunkShift, slot = _count & (ChunkSize - 1);
        if (chunk == _chunks.Length)
        {
            _chunks = [.. _chunks, new IndexEntry[chunk == 0 ? FirstChunkSize : ChunkSize]];
        }
        else if (slot == _chunks[chunk].Length)
        {
            var grown = new IndexEntry[Math.Min(slot * 2, ChunkSize)];
            _chunks[chunk].CopyTo(grown, 0);
            var chunks = (IndexEntry[][])_chunks.Clone();
            chunks[chunk] = grown;
            _chunks = chunks;
        }
        _chunks[chunk][slot] = entry;
        _count++;
    }

    /// <summary>The entries so far, for readers: immutable (see the note on the chunks).</summary>
    public IndexSnapshot Published => new(_chunks, _count);

    /// <summary>Bytes of the file <see cref="Serialize(Span{byte}, ulong, ulong, long, long)"/> writes.</summary>
    public int SerializedLength => HeaderSize + _count * EntrySize;

    /// <summary>The file's bytes in a new array (tests and tools; the log writes through a pooled buffer).</summary>
    public byte[] Serialize(ulong baseOffset, ulong nextOffset, long lastArrival, long dataLength)
    {
        var bytes = new byte[SerializedLength];
        Serialize(bytes, baseOffset, nextOffset, lastArrival, dataLength);
        return bytes;
    }

    /// <summary>Writes the file's <see cref="SerializedLength"/> bytes into <paramref name="bytes"/>.</summary>
    public void Serialize(Span<byte> bytes, ulong baseOffset, ulong nextOffset, long lastArrival, long dataLength)
    {
        bytes = bytes[..SerializedLength];
        var body = bytes[HeaderSize..];
        for (int i = 0; i < _count; i++)
        {
            var e = this[i];
            var slot = body.Slice(i * EntrySize, EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(slot, e.Offset);
            BinaryPrimitives.WriteInt64LittleEndian(slot[8..], e.Position);
            BinaryPrimitives.WriteInt64LittleEndian(slot[16..], e.ArrivalMillis);
        }
        var h = bytes;
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], MinCompatibleVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], baseOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[16..], nextOffset);
        BinaryPrimitives.WriteInt64LittleEndian(h[24..], lastArrival);
        BinaryPrimitives.WriteInt64LittleEndian(h[32..], dataLength);
        BinaryPrimitives.WriteInt32LittleEndian(h[40..], _count);
        BinaryPrimitives.WriteUInt32LittleEndian(h[CrcPosition..], RecordFrame.Crc32C(h[..CrcPosition], body));
    }

    /// <summary>Reads an index file; null when it is damaged, of a version we cannot read, or for another segment.</summary>
    public static (SegmentIndex Index, ulong NextOffset, long LastArrival, long DataLength)? TryDeserialize(ReadOnlySpan<byte> bytes, ulong expectedBaseOffset)
    {
        if (bytes.Length < HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) < MinCompatibleVersion
            || BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]) > Version
            || BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]) != expectedBaseOffset)
            return null;
        int count = BinaryPrimitives.ReadInt32LittleEndian(bytes[40..]);
        if (count < 0 || bytes.Length != HeaderSize + (long)count * EntrySize)
            return null;
        var body = bytes[HeaderSize..];
        if (RecordFrame.Crc32C(bytes[..CrcPosition], body) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[CrcPosition..]))
            return null;
        var index = new SegmentIndex();
        for (int i = 0; i < count; i++)
        {
            var slot = body.Slice(i * EntrySize, EntrySize);
            index.Add(new IndexEntry(
                BinaryPrimitives.ReadUInt64LittleEndian(slot),
                BinaryPrimitives.ReadInt64LittleEndian(slot[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(slot[16..])));
        }
        return (index,
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]));
    }
}

/// <summary>
/// The first <see cref="Count"/> entries of a segment's index as readers see them: immutable, searched by
/// binary search (offsets, positions and arrival times all grow along the index).
/// </summary>
public readonly struct IndexSnapshot(IndexEntry[][] chunks, int count)
{
    public static IndexSnapshot Empty => new([], 0);

    public int Count => count;

    public IndexEntry this[int i] => chunks[i >> SegmentIndex.ChunkShift][i & (SegmentIndex.ChunkSize - 1)];

    /// <summary>Bytes its arrays hold (for the cache's bound).</summary>
    public long Footprint
    {
        get
        {
            long entries = 0;
            foreach (var chunk in chunks ?? [])
                entries += chunk.Length;
            return entries * SegmentIndex.EntrySize;
        }
    }

    /// <summary>The last entry whose offset is at most <paramref name="offset"/>, or null.</summary>
    public IndexEntry? Floor(ulong offset)
    {
        int lo = 0, hi = count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (this[mid].Offset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? null : this[found];
    }

    /// <summary>The last entry that arrived strictly before <paramref name="millis"/> (a safe place to
    /// start scanning for the first record at or after it), or null.</summary>
    public IndexEntry? LastBefore(long millis)
    {
        int lo = 0, hi = count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (this[mid].ArrivalMillis < millis) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? null : this[found];
    }

    /// <summary>The first entry that starts after byte <paramref name="position"/>, or null.</summary>
    public IndexEntry? FirstAfter(long position)
    {
        int lo = 0, hi = count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (this[mid].Position > position) { found = mid; hi = mid - 1; }
            else lo = mid + 1;
        }
        return found < 0 ? null : this[found];
    }
}
