using Runnel.Storage.Records;
using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Runnel.Storage.Log;

/// <summary>
/// Finds where intact frames resume after a bad one, so that recovery cuts only a torn tail and keeps the
/// records behind a damaged frame. Stateless; safe to call from any thread on its own handle.
/// </summary>
internal static class FrameResync
{
    /// <summary>The smallest frame there is: length field, CRC and the fixed body with empty keys and data.</summary>
    private const int MinFrameSize = RecordFrame.HeaderSize + RecordFrame.FixedBodySize;

    /// <summary>Bytes of a frame the pre-checks look at: length, CRC, offset, arrival.</summary>
    private const int PrecheckBytes = RecordFrame.ArrivalPosition + 8;

    private const int WindowBytes = 1024 * 1024;

    /// <summary>
    /// The first position after <paramref name="badAt"/> holding an intact frame whose offset is at least
    /// <paramref name="expectedOffset"/> and plausible for the distance (each skipped record took at least
    /// <see cref="MinFrameSize"/> bytes), and whose arrival is not below <paramref name="minArrival"/>;
    /// null when there is none before <paramref name="fileLength"/> (the bad frame begins a torn tail).
    /// The bad frame's own length field is tried first: when only its data or CRC is damaged it points
    /// straight at the next frame, which saves scanning a frame of up to 16 MiB byte by byte.
    /// </summary>
    public static (long Position, ulong Offset, long Arrival)? FindNext(
        SafeFileHandle handle, long badAt, long fileLength, ulong expectedOffset, long minArrival)
    {
        Span<byte> head = stackalloc byte[RecordFrame.LengthFieldSize];
        if (RandomAccess.Read(handle, head, badAt) == head.Length)
        {
            long next = badAt + RecordFrame.LengthFieldSize + BinaryPrimitives.ReadUInt32LittleEndian(head);
            if (next > badAt + MinFrameSize - 1 && TryFrameAt(handle, next, fileLength, expectedOffset, expectedOffset + 1, minArrival) is { } direct)
                return (next, direct.Offset, direct.Arrival);
        }

        var window = ArrayPool<byte>.Shared.Rent(WindowBytes + PrecheckBytes);
        try
        {
            for (long start = badAt + 1; start + MinFrameSize <= fileLength; start += WindowBytes)
            {
                int read = ReadFully(handle, window.AsSpan(0, (int)Math.Min(WindowBytes + PrecheckBytes, fileLength - start)), start);
                int last = Math.Min(WindowBytes - 1, read - PrecheckBytes);
                for (int i = 0; i <= last; i++)
                {
                    var s = window.AsSpan(i, PrecheckBytes);
                    long at = start + i;
                    uint bodyAndCrc = BinaryPrimitives.ReadUInt32LittleEndian(s);
                    if (bodyAndCrc < RecordFrame.CrcSize + RecordFrame.FixedBodySize || bodyAndCrc > RecordFrame.MaxFrameLength
                        || at + RecordFrame.LengthFieldSize + bodyAndCrc > fileLength)
                        continue;
                    ulong offset = RecordFrame.ReadOffset(s);
                    if (offset < expectedOffset || offset - expectedOffset > (ulong)((at - badAt) / MinFrameSize) + 1)
                        continue;
                    if (RecordFrame.ReadArrival(s) < minArrival)
                        continue;
                    if (TryFrameAt(handle, at, fileLength, offset, offset, minArrival) is { } found)
                        return (at, found.Offset, found.Arrival);
                }
            }
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
        }
    }

    /// <summary>The offset and arrival of an intact frame at <paramref name="at"/> with an offset in
    /// [<paramref name="minOffset"/>, <paramref name="maxOffset"/>], or null.</summary>
    private static (ulong Offset, long Arrival)? TryFrameAt(SafeFileHandle handle, long at, long fileLength, ulong minOffset, ulong maxOffset, long minArrival)
    {
        if (at + MinFrameSize > fileLength)
            return null;
        Span<byte> head = stackalloc byte[PrecheckBytes];
        if (ReadFully(handle, head, at) != head.Length)
            return null;
        uint bodyAndCrc = BinaryPrimitives.ReadUInt32LittleEndian(head);
        ulong offset = RecordFrame.ReadOffset(head);
        long arrival = RecordFrame.ReadArrival(head);
        if (bodyAndCrc < RecordFrame.CrcSize + RecordFrame.FixedBodySize || bodyAndCrc > RecordFrame.MaxFrameLength
            || at + RecordFrame.LengthFieldSize + bodyAndCrc > fileLength
            || offset < minOffset || offset > maxOffset || arrival < minArrival)
            return null;
        int total = RecordFrame.LengthFieldSize + (int)bodyAndCrc;
        var frame = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            var span = frame.AsSpan(0, total);
            return ReadFully(handle, span, at) == total && RecordFrame.Validate(span) == total ? (offset, arrival) : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long position)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = RandomAccess.Read(handle, buffer[total..], position + total);
            if (read <= 0)
                break;
            total += read;
        }
        return total;
    }
}
