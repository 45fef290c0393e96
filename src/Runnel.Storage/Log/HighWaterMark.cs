using Runnel.Storage.Records;
using System.Buffers.Binary;

namespace Runnel.Storage.Log;

/// <summary>
/// The shard's offset high-water mark H, kept in <c>offsets.hwm</c> in the shard directory: every offset
/// below H may have been handed out, none at or above it has. The writer raises H (by
/// <see cref="ReservationStep"/>) and fsyncs it before it acknowledges an offset at or beyond it, so that
/// after any crash, whatever recovery had to cut from the log, the next offset is at least H and no
/// sequence number is given to two records.
/// <para>The file is two 32-byte slots written alternately in place (never temp + rename), so an update
/// needs no new disk space and a torn update leaves the other slot, whose older value still covers every
/// offset acknowledged so far. Layout (version 1, little-endian; docs/formats/hwm.md):</para>
/// <code>
///   slot: u32 magic 'RNLH', u16 version, u16 minCompatibleVersion, u64 sequence,
///         u64 highWaterMark, u32 flags (0), u32 crc32c(bytes 0..27)
/// </code>
/// <para>Not thread-safe: owned by the shard's writer.</para>
/// </summary>
public sealed class HighWaterMark
{
    public const string FileName = "offsets.hwm";
    public const uint Magic = 0x484C4E52; // "RNLH" little-endian
    public const ushort Version = 1;
    public const ushort MinCompatibleVersion = 1;
    public const int SlotSize = 32;
    public const int FileSize = 2 * SlotSize;

    /// <summary>
    /// How many offsets one raise reserves ahead: one fsynced write of this file per this many offsets. A
    /// crash leaves at most this many offsets unused (a gap in sequence numbers, never a reuse).
    /// </summary>
    public const ulong ReservationStep = 65_536;

    private readonly string _path;
    private DiskIo _io = DiskIo.Real;
    private ulong _sequence;
    private int _newestSlot = -1; // -1: no intact slot on disk
    private bool _fileComplete;   // both slots exist on disk (the file has its full size)

    private HighWaterMark(string path) => _path = path;

    /// <summary>The current mark; 0 when there is none (no file, or no intact slot).</summary>
    public ulong Value { get; private set; }

    /// <summary>Whether an intact mark was read or written.</summary>
    public bool Exists => _newestSlot >= 0;

    public static string PathIn(string directory) => System.IO.Path.Combine(directory, FileName);

    /// <summary>
    /// Reads the mark of <paramref name="directory"/>. A missing, short or damaged file gives a mark of 0
    /// (the caller falls back to the log's end) and, when <paramref name="expected"/>, a warning. A file of
    /// a newer format this version cannot read is refused like a segment of one.
    /// </summary>
    public static HighWaterMark Load(string directory, bool expected, Action<string> warn, DiskIo? io = null)
    {
        var mark = new HighWaterMark(PathIn(directory));
        mark._io = io ?? DiskIo.Real;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(mark._path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            if (expected)
                warn($"Offset high-water mark {mark._path} is missing; offsets continue from the end of the log. If the last stop was a crash that cut records, their offsets may be given again.");
            return mark;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($"Offset high-water mark {mark._path} cannot be read ({e.Message}); offsets continue from the end of the log.");
            return mark;
        }
        mark._fileComplete = bytes.Length >= FileSize;
        for (int slot = 0; slot < 2; slot++)
        {
            if (bytes.Length < (slot + 1) * SlotSize)
                break;
            var s = bytes.AsSpan(slot * SlotSize, SlotSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(s) != Magic
                || BinaryPrimitives.ReadUInt32LittleEndian(s[28..]) != RecordFrame.Crc32C(s[..28]))
                continue;
            ushort minCompatible = BinaryPrimitives.ReadUInt16LittleEndian(s[6..]);
            if (minCompatible > Version)
                throw new InvalidDataException($"Offset high-water mark {mark._path} needs format version {minCompatible}; this Runnel reads up to {Version}. Upgrade Runnel.");
            ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
            if (mark._newestSlot < 0 || sequence > mark._sequence)
            {
                mark._newestSlot = slot;
                mark._sequence = sequence;
                mark.Value = BinaryPrimitives.ReadUInt64LittleEndian(s[16..]);
            }
        }
        if (mark._newestSlot < 0)
            warn($"Offset high-water mark {mark._path} is damaged ({bytes.Length} bytes, no intact slot); offsets continue from the end of the log. If the last stop was a crash that cut records, their offsets may be given again.");
        return mark;
    }

    /// <summary>
    /// Sets the mark to <paramref name="value"/> and fsyncs it, whatever the fsync policy (this happens
    /// once per <see cref="ReservationStep"/> offsets and at a clean close). Writes the slot that does not
    /// hold the newest mark, so a torn write leaves the previous mark intact. Throws on any I/O failure;
    /// the mark in memory changes only once the write is durable. <paramref name="flushNewDirectoryEntry"/>
    /// also fsyncs the directory when the file is new; the log skips it under <see cref="FsyncPolicy.Never"/>,
    /// whose segment files' entries are not fsynced either (a mark lost with them falls back to the log end).
    /// </summary>
    public void Set(ulong value, bool flushNewDirectoryEntry = true)
    {
        int slot = _newestSlot < 0 ? 0 : 1 - _newestSlot;
        ulong sequence = _sequence + 1;
        var bytes = BuildSlot(sequence, value);
        bool created = !File.Exists(_path);
        using (var handle = _io.Open(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete))
        {
            if (_fileComplete)
            {
                _io.Write(handle, bytes, slot * SlotSize);
            }
            else
            {
                // A new (or short) file gets both slots at once, so that every later write lands inside
                // space the file already has: a full disk cannot block raising the mark.
                var both = new byte[FileSize];
                bytes.CopyTo(both, 0);
                bytes.CopyTo(both, SlotSize);
                _io.Write(handle, both, 0);
                slot = 1;
            }
            _io.FlushToDisk(handle);
        }
        if (created && flushNewDirectoryEntry)
            _io.FlushDirectory(System.IO.Path.GetDirectoryName(_path)!);
        _fileComplete = true;
        _newestSlot = slot;
        _sequence = sequence;
        Value = value;
    }

    /// <summary>One slot's bytes (also used by the format tests).</summary>
    public static byte[] BuildSlot(ulong sequence, ulong value)
    {
        var slot = new byte[SlotSize];
        var s = slot.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], MinCompatibleVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(s[16..], value);
        BinaryPrimitives.WriteUInt32LittleEndian(s[24..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], RecordFrame.Crc32C(s[..28]));
        return slot;
    }
}
