using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Runnel.Storage.Records;

/// <summary>
/// The byte layout of one record in a segment file (version 1, little-endian; see
/// docs/formats/segment.md, which must stay in sync with this file):
/// <code>
///   u32 frameLength    bytes after this field (crc + body)
///   u32 crc32c         CRC-32C of the body
///   body:
///   u64 offset         position of the record in its shard, from 0
///   i64 arrivalMillis  approximate arrival time, Unix epoch milliseconds, non-decreasing in a shard
///   u8  flags          bit 0: data encrypted (reserved), bit 1: explicit hash key present
///   u32 keyId          encryption key id, 0 when not encrypted (reserved)
///   u16 pkLength, pk   partition key, UTF-8
///   u8  ehkLength, ehk explicit hash key, ASCII decimal, 0 length when absent
///   u32 dataLength, data
/// </code>
/// </summary>
public static class RecordFrame
{
    public const int LengthFieldSize = 4;
    public const int CrcSize = 4;
    public const int HeaderSize = LengthFieldSize + CrcSize;
    public const int OffsetPosition = HeaderSize;
    public const int ArrivalPosition = HeaderSize + 8;
    public const int FixedBodySize = 8 + 8 + 1 + 4 + 2 + 1 + 4;
    /// <summary>The record's keys and data are sealed in its data field (<see cref="Encryption.RecordCipher"/>) under data key <c>keyId</c>.</summary>
    public const byte FlagEncrypted = 1;
    public const byte FlagExplicitHashKey = 2;

    /// <summary>In a read result only, never on disk: the record was stored encrypted and has been opened for the reader.</summary>
    public const byte FlagDecrypted = 4;

    /// <summary>A frame larger than this is treated as corruption during recovery (records are at most 10 MiB).</summary>
    public const int MaxFrameLength = 16 * 1024 * 1024;

    /// <summary>The longest partition key a frame holds (its length field is a u16).</summary>
    public const int MaxPartitionKeyBytes = ushort.MaxValue;

    /// <summary>The longest explicit hash key a frame holds (its length field is a u8).</summary>
    public const int MaxExplicitHashKeyBytes = byte.MaxValue;

    /// <summary>The most data a record with keys of these lengths can carry within <see cref="MaxFrameLength"/>.</summary>
    public static int MaxDataBytes(int partitionKeyBytes, int explicitHashKeyBytes) =>
        MaxFrameLength - (SizeOf(partitionKeyBytes, explicitHashKeyBytes, 0) - LengthFieldSize);

    public static int SizeOf(int partitionKeyBytes, int explicitHashKeyBytes, int dataBytes) =>
        HeaderSize + FixedBodySize + partitionKeyBytes + explicitHashKeyBytes + dataBytes;

    /// <summary>Writes a frame with offset, arrival and CRC left zero; <see cref="Seal"/> fills them in. <paramref name="flags"/>
    /// adds to the explicit-hash-key flag (<see cref="FlagEncrypted"/> with the <paramref name="keyId"/> it names).</summary>
    public static int WriteUnsealed(Span<byte> destination, ReadOnlySpan<byte> partitionKey, ReadOnlySpan<byte> explicitHashKey, ReadOnlySpan<byte> data,
        byte flags = 0, uint keyId = 0)
    {
        int size = SizeOf(partitionKey.Length, explicitHashKey.Length, data.Length);
        BinaryPrimitives.WriteInt32LittleEndian(destination, size - LengthFieldSize);
        destination.Slice(LengthFieldSize, CrcSize + 16).Clear();
        int p = HeaderSize + 16;
        destination[p++] = (byte)(flags | (explicitHashKey.IsEmpty ? 0 : FlagExplicitHashKey));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[p..], keyId);
        p += 4;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[p..], (ushort)partitionKey.Length);
        p += 2;
        partitionKey.CopyTo(destination[p..]);
        p += partitionKey.Length;
        destination[p++] = (byte)explicitHashKey.Length;
        explicitHashKey.CopyTo(destination[p..]);
        p += explicitHashKey.Length;
        BinaryPrimitives.WriteInt32LittleEndian(destination[p..], data.Length);
        p += 4;
        data.CopyTo(destination[p..]);
        return p + data.Length;
    }

    /// <summary>Stamps the offset and arrival time into an unsealed frame and computes its CRC.</summary>
    public static void Seal(Span<byte> frame, ulong offset, long arrivalMillis)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(frame[OffsetPosition..], offset);
        BinaryPrimitives.WriteInt64LittleEndian(frame[ArrivalPosition..], arrivalMillis);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[LengthFieldSize..], Crc32C(frame[HeaderSize..]));
    }

    public static int FrameLength(ReadOnlySpan<byte> frame) => LengthFieldSize + BinaryPrimitives.ReadInt32LittleEndian(frame);

    public static ulong ReadOffset(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadUInt64LittleEndian(frame[OffsetPosition..]);

    public static long ReadArrival(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadInt64LittleEndian(frame[ArrivalPosition..]);

    /// <summary>
    /// Checks that <paramref name="buffer"/> starts with one whole, intact frame and returns its length;
    /// 0 when the frame is incomplete (a torn tail), -1 when it is corrupt.
    /// </summary>
    public static int Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < LengthFieldSize)
            return 0;
        int bodyAndCrc = BinaryPrimitives.ReadInt32LittleEndian(buffer);
        if (bodyAndCrc < CrcSize + FixedBodySize || bodyAndCrc > MaxFrameLength)
            return -1;
        int total = LengthFieldSize + bodyAndCrc;
        if (buffer.Length < total)
            return 0;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(buffer[LengthFieldSize..]);
        return Crc32C(buffer[HeaderSize..total]) == stored ? total : -1;
    }

    /// <summary>Reads the variable fields of an intact frame.</summary>
    public static RecordView Parse(ReadOnlySpan<byte> frame, int frameStart)
    {
        int p = HeaderSize;
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(frame[p..]);
        long arrival = BinaryPrimitives.ReadInt64LittleEndian(frame[(p + 8)..]);
        p += 16;
        byte flags = frame[p];
        uint keyId = BinaryPrimitives.ReadUInt32LittleEndian(frame[(p + 1)..]);
        p += 1 + 4;
        int pkLength = BinaryPrimitives.ReadUInt16LittleEndian(frame[p..]);
        p += 2;
        int pkStart = p;
        p += pkLength;
        int ehkLength = frame[p++];
        int ehkStart = p;
        p += ehkLength;
        int dataLength = BinaryPrimitives.ReadInt32LittleEndian(frame[p..]);
        p += 4;
        return new RecordView(offset, arrival, frameStart + pkStart, pkLength, frameStart + ehkStart, ehkLength, frameStart + p, dataLength, flags, keyId);
    }

    /// <summary>CRC-32C (Castagnoli), hardware-accelerated where the CPU has it.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data) => ~Crc32CUpdate(0xFFFFFFFF, data);

    /// <summary>CRC-32C of <paramref name="first"/> followed by <paramref name="second"/>, as if they were one span.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Crc32CUpdate(Crc32CUpdate(0xFFFFFFFF, first), second);

    private static uint Crc32CUpdate(uint crc, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong w in words)
            crc = BitOperations.Crc32C(crc, w);
        foreach (byte b in data[(words.Length * 8)..])
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}

/// <summary>Where one record's fields lie inside a read buffer.</summary>
public readonly record struct RecordView(
    ulong Offset,
    long ArrivalMillis,
    int PartitionKeyStart,
    int PartitionKeyLength,
    int ExplicitHashKeyStart,
    int ExplicitHashKeyLength,
    int DataStart,
    int DataLength,
    byte Flags = 0,
    uint KeyId = 0)
{
    /// <summary>Sealed under <see cref="KeyId"/>: its keys and data lie in the data field, encrypted.</summary>
    public bool IsEncrypted => (Flags & RecordFrame.FlagEncrypted) != 0;

    /// <summary>Stored encrypted, whether or not it has been opened for this read (GetRecords' EncryptionType KMS).</summary>
    public bool WasEncrypted => (Flags & (RecordFrame.FlagEncrypted | RecordFrame.FlagDecrypted)) != 0;
}
