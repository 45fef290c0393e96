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

    private IndexEntry[] _entries = new IndexEntry[16];
    private int _count;

    public int Count => _count;

    public IndexEntry this[int i] => _entries[i];

    public void Add(IndexEntry entry)
    {
        if (_count == _entries.Length)
            Array.Resize(ref _entries, _count * 2);
        _entries[_count++] = entry;
    }

    /// <summary>
    /// The entries published so far, for readers. The writer only ever appends past <see cref="Count"/>
    /// (and replaces the array when it grows), so a published slice never changes under a reader.
    /// </summary>
    public ReadOnlyMemory<IndexEntry> Published => _entries.AsMemory(0, _count);

    /// <summary>The last entry whose offset is at most <paramref name="offset"/>, or null.</summary>
    public static IndexEntry? Floor(ReadOnlySpan<IndexEntry> entries, ulong offset)
    {
        int lo = 0, hi = entries.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].Offset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? null : entries[found];
    }

    /// <summary>The last entry that arrived strictly before <paramref name="millis"/> (a safe place to
    /// start scanning for the first record at or after it), or null.</summary>
    public static IndexEntry? LastBefore(ReadOnlySpan<IndexEntry> entries, long millis)
    {
        int lo = 0, hi = entries.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].ArrivalMillis < millis) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? null : entries[found];
    }

    public byte[] Serialize(ulong baseOffset, ulong nextOffset, long lastArrival, long dataLength)
    {
        var bytes = new byte[HeaderSize + _count * EntrySize];
        var body = bytes.AsSpan(HeaderSize);
        for (int i = 0; i < _count; i++)
        {
            var e = _entries[i];
            var slot = body.Slice(i * EntrySize, EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(slot, e.Offset);
            BinaryPrimitives.WriteInt64LittleEndian(slot[8..], e.Position);
            BinaryPrimitives.WriteInt64LittleEndian(slot[16..], e.ArrivalMillis);
        }
        var h = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], MinCompatibleVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], baseOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[16..], nextOffset);
        BinaryPrimitives.WriteInt64LittleEndian(h[24..], lastArrival);
        BinaryPrimitives.WriteInt64LittleEndian(h[32..], dataLength);
        BinaryPrimitives.WriteInt32LittleEndian(h[40..], _count);
        BinaryPrimitives.WriteUInt32LittleEndian(h[CrcPosition..], RecordFrame.Crc32C(h[..CrcPosition], body));
        return bytes;
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
