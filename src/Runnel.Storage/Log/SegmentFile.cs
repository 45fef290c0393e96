using Runnel.Storage.Records;
using System.Buffers.Binary;
using System.Globalization;

namespace Runnel.Storage.Log;

/// <summary>
/// Naming and the header of segment files. A segment is named by the offset of its first record,
/// zero-padded to 20 digits (<c>00000000000000000042.seg</c>), with its index beside it (<c>.idx</c>).
/// Header layout (version 2, little-endian, 32 bytes; docs/formats/segment.md):
/// <code>
///   u32 magic 'RNLS', u16 version, u16 minCompatibleVersion, u64 baseOffset,
///   i64 createdMillis, u32 flags (bit 0: may hold sealed records), u32 crc32c(bytes 0..27)
/// </code>
/// A segment that may hold sealed (encrypted) records says so and needs version 2 to be read: a version 1 reader would
/// take a sealed record for a plaintext one. Any other segment stays readable by version 1.
/// </summary>
public static class SegmentFile
{
    public const uint Magic = 0x534C4E52; // "RNLS" little-endian
    public const ushort Version = 2;
    public const ushort MinCompatibleVersion = 1;

    /// <summary>The oldest reader of a segment that may hold sealed records: the first that knew them.</summary>
    public const ushort SealedMinCompatibleVersion = 2;

    /// <summary>Header flag: records of this segment may be sealed (<see cref="RecordFrame.FlagEncrypted"/>).</summary>
    public const uint FlagMayHoldSealed = 1;
    public const int HeaderSize = 32;
    public const string DataExtension = ".seg";
    public const string IndexExtension = ".idx";

    public static string DataPath(string directory, ulong baseOffset) =>
        Path.Combine(directory, baseOffset.ToString("D20", CultureInfo.InvariantCulture) + DataExtension);

    public static string IndexPath(string dataPath) => Path.ChangeExtension(dataPath, IndexExtension);

    public static bool TryParseBaseOffset(string path, out ulong baseOffset) =>
        ulong.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset);

    public static byte[] BuildHeader(ulong baseOffset, long createdMillis, bool mayHoldSealed = false)
    {
        var header = new byte[HeaderSize];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], mayHoldSealed ? SealedMinCompatibleVersion : MinCompatibleVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], baseOffset);
        BinaryPrimitives.WriteInt64LittleEndian(h[16..], createdMillis);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], mayHoldSealed ? FlagMayHoldSealed : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], RecordFrame.Crc32C(h[..28]));
        return header;
    }

    /// <summary>Whether a header (checked by <see cref="TryReadHeader"/>) says its segment may hold sealed records.</summary>
    public static bool MayHoldSealed(ReadOnlySpan<byte> h) => (BinaryPrimitives.ReadUInt32LittleEndian(h[24..]) & FlagMayHoldSealed) != 0;

    /// <summary>Checks a header; returns its creation time, or null when it is damaged or for another segment.</summary>
    public static long? TryReadHeader(ReadOnlySpan<byte> h, ulong expectedBaseOffset)
    {
        if (h.Length < HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(h) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(h[28..]) != RecordFrame.Crc32C(h[..28])
            || BinaryPrimitives.ReadUInt64LittleEndian(h[8..]) != expectedBaseOffset)
            return null;
        if (BinaryPrimitives.ReadUInt16LittleEndian(h[6..]) > Version)
            throw new InvalidDataException($"Segment with base offset {expectedBaseOffset} needs format version {BinaryPrimitives.ReadUInt16LittleEndian(h[6..])}; this Runnel reads up to {Version}. Upgrade Runnel.");
        return BinaryPrimitives.ReadInt64LittleEndian(h[16..]);
    }
}

/// <summary>What readers see of one segment: immutable, published by the writer after each commit.</summary>
public sealed record SegmentView(
    string Path,
    ulong BaseOffset,
    // One past the last committed record.
    ulong NextOffset,
    // Committed bytes, header included; readers never read past it.
    long Length,
    long FirstArrivalMillis,
    long LastArrivalMillis,
    // The sparse index, when it is kept with the view (the active segment, or a sealed one whose index file
    // could not be written); empty when IndexOnDisk.
    IndexSnapshot Index)
{
    public bool IsEmpty => NextOffset == BaseOffset;

    /// <summary>True for a sealed segment whose index is read from its file through <see cref="SealedIndexCache"/>.</summary>
    public bool IndexOnDisk { get; init; }
}

/// <summary>An immutable picture of a shard's log at one commit.</summary>
public sealed record LogView(SegmentView[] Segments, ulong NextOffset)
{
    public static readonly LogView Empty = new([], 0);

    /// <summary>The offset of the oldest record still on disk.</summary>
    public ulong FirstOffset => Segments.Length == 0 ? NextOffset : Segments[0].BaseOffset;
}
