using Runnel.Storage.Records;
using Microsoft.Win32.SafeHandles;

namespace Runnel.Storage.Log;

public sealed partial class ShardLog
{
    private const int MinReadChunk = 64 * 1024;

    public ValueTask<ReadResult> ReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(fromOffset, maxRecords, maxBytes, minArrivalMillis));

    public ValueTask<ulong> FirstOffsetAtOrAfterAsync(long arrivalMillis, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(FirstOffsetAtOrAfter(arrivalMillis));

    /// <summary>What <see cref="ReadAsync"/> answers, at once: the embedded log reads its files synchronously.</summary>
    public ReadResult Read(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis)
    {
        var view = _view;
        var result = new ReadResult((int)Math.Min(maxBytes + 4096, MinReadChunk));
        ulong cursor = Math.Max(fromOffset, view.FirstOffset);
        result.NextOffset = Math.Min(cursor, view.NextOffset);
        if (cursor >= view.NextOffset || maxRecords <= 0)
            return result;

        var scan = new ScanState(result, cursor, maxRecords, maxBytes, minArrivalMillis);
        for (int i = FindSegment(view.Segments, cursor); i < view.Segments.Length && !scan.Done; i++)
        {
            var segment = view.Segments[i];
            if (segment.NextOffset <= scan.Cursor || segment.IsEmpty)
                continue;
            if (segment.LastArrivalMillis < minArrivalMillis)
            {
                scan.Cursor = segment.NextOffset; // wholly expired, not yet deleted
                continue;
            }
            ScanSegment(segment, ref scan);
        }
        // Every segment was read to its end: nothing lies below the log's next offset any more, even when
        // the last segments are empty or the next offset is above them (an unused reservation of offsets).
        if (!scan.Done)
            scan.Cursor = Math.Max(scan.Cursor, view.NextOffset);
        result.NextOffset = Math.Min(Math.Max(scan.Cursor, result.NextOffset), view.NextOffset);
        return result;
    }

    public ulong FirstOffsetAtOrAfter(long arrivalMillis)
    {
        var view = _view;
        foreach (var segment in view.Segments)
        {
            if (segment.IsEmpty || segment.LastArrivalMillis < arrivalMillis)
                continue;
            if (segment.FirstArrivalMillis >= arrivalMillis)
                return segment.BaseOffset;
            using var probe = new ReadResult(MinReadChunk);
            var scan = new ScanState(probe, segment.BaseOffset, 1, long.MaxValue, arrivalMillis);
            ScanSegment(segment, ref scan);
            if (probe.Count > 0)
                return probe.Records[0].Offset;
        }
        return view.NextOffset;
    }

    /// <summary>The last segment whose base offset is at most <paramref name="offset"/> (0 if none).</summary>
    private static int FindSegment(SegmentView[] segments, ulong offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    private struct ScanState(ReadResult result, ulong cursor, int maxRecords, long maxBytes, long minArrival)
    {
        public readonly ReadResult Result = result;
        public ulong Cursor = cursor;
        public readonly int MaxRecords = maxRecords;
        public readonly long MaxBytes = maxBytes;
        public readonly long MinArrival = minArrival;
        public int Used;
        public bool Done;
    }

    /// <summary>
    /// Reads the frames of one segment from the best indexed position up to its committed length, keeping
    /// those at or after the cursor and the arrival bound. Kept frames are packed at the front of the
    /// result buffer; skipped ones are overwritten.
    /// </summary>
    private void ScanSegment(SegmentView segment, ref ScanState scan)
    {
        long position = SegmentFile.HeaderSize;
        var index = segment.IndexOnDisk ? _options.IndexCache.Get(segment, _warn) : segment.Index;
        if (index.Floor(scan.Cursor) is { } byOffset)
            position = byOffset.Position;
        if (segment.FirstArrivalMillis < scan.MinArrival && index.LastBefore(scan.MinArrival) is { } byTime && byTime.Position > position)
            position = byTime.Position;

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            scan.Cursor = Math.Max(scan.Cursor, segment.NextOffset); // removed by retention meanwhile
            return;
        }
        using (handle)
        {
            var result = scan.Result;
            int pendingBytes = 0; // bytes of an incomplete frame carried at the end of the kept region
            while (position < segment.Length && !scan.Done)
            {
                long skipTo = -1;
                long budget = scan.MaxBytes - result.PayloadBytes;
                int chunk = (int)Math.Min(segment.Length - position, Math.Max(MinReadChunk, Math.Min(budget, 1024 * 1024) + 1024));
                result.EnsureCapacity(scan.Used + pendingBytes + chunk);
                int read = RandomAccess.Read(handle, result.RawBuffer.AsSpan(scan.Used + pendingBytes, chunk), position);
                if (read <= 0)
                    break;
                position += read;
                int available = pendingBytes + read;
                int cursor = scan.Used;
                int end = scan.Used + available;
                while (cursor < end)
                {
                    var span = result.RawBuffer.AsSpan(cursor, end - cursor);
                    int length = RecordFrame.Validate(span);
                    if (length == 0 && span.Length >= RecordFrame.LengthFieldSize
                        && RecordFrame.FrameLength(span) > segment.Length - (position - (end - cursor)))
                        length = -1; // claims to run past what was committed: a damaged length field
                    if (length == 0)
                        break;
                    if (length < 0)
                    {
                        // A damaged record inside a region recovery trusted (disk corruption, not a torn
                        // write): skip to the next indexed record so the shard stays readable, and say
                        // which offsets were lost.
                        long corruptAt = position - (end - cursor);
                        var next = index.FirstAfter(corruptAt);
                        ulong resume = next?.Offset ?? segment.NextOffset;
                        _warn($"Corrupt record frame in {segment.Path} at byte {corruptAt}: records from offset {scan.Cursor} up to {resume} cannot be read and are skipped.");
                        scan.Cursor = Math.Max(scan.Cursor, resume);
                        skipTo = next?.Position ?? segment.Length;
                        break;
                    }
                    ulong offset = RecordFrame.ReadOffset(span);
                    long arrival = RecordFrame.ReadArrival(span);
                    if (offset >= segment.NextOffset)
                    {
                        position = segment.Length; // past what was committed when the view was taken
                        cursor = end;
                        break;
                    }
                    if (offset < scan.Cursor)
                    {
                        cursor += length;
                        continue;
                    }
                    if (arrival < scan.MinArrival)
                    {
                        scan.Cursor = offset + 1;
                        cursor += length;
                        continue;
                    }
                    var record = RecordFrame.Parse(span, scan.Used);
                    if (result.Count > 0 && result.PayloadBytes + record.DataLength + record.PartitionKeyLength > scan.MaxBytes)
                    {
                        scan.Done = true;
                        break;
                    }
                    if (cursor != scan.Used)
                        result.RawBuffer.AsSpan(cursor, length).CopyTo(result.RawBuffer.AsSpan(scan.Used));
                    result.Add(record);
                    scan.Used += length;
                    cursor += length;
                    scan.Cursor = offset + 1;
                    if (result.Count >= scan.MaxRecords)
                    {
                        scan.Done = true;
                        break;
                    }
                }
                if (scan.Done)
                    break;
                if (skipTo >= 0)
                {
                    position = skipTo;
                    pendingBytes = 0;
                    continue;
                }
                pendingBytes = end - cursor;
                if (pendingBytes > 0 && cursor != scan.Used)
                    result.RawBuffer.AsSpan(cursor, pendingBytes).CopyTo(result.RawBuffer.AsSpan(scan.Used));
            }
            if (!scan.Done)
                scan.Cursor = Math.Max(scan.Cursor, segment.NextOffset);
        }
    }
}
