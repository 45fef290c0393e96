namespace Runnel.Storage.Log;

public sealed partial class ShardLog
{
    /// <summary>
    /// Rebuilds the writer's state from the files on disk. Sealed segments are trusted when their index
    /// file is intact and matches the data file's length, and rescanned otherwise. The last segment is
    /// always scanned past what its index covers; the first incomplete or corrupt frame there is a torn
    /// tail from a crash and is cut off. Offsets must continue without a gap from segment to segment.
    /// </summary>
    private void Recover()
    {
        var paths = System.IO.Directory.GetFiles(_directory, "*" + SegmentFile.DataExtension)
            .Select(p => (Path: p, Ok: SegmentFile.TryParseBaseOffset(p, out ulong b), Base: b))
            .Where(s => s.Ok)
            .OrderBy(s => s.Base)
            .ToList();
        foreach (var stray in System.IO.Directory.GetFiles(_directory, "*.tmp"))
            File.Delete(stray);
        // An index whose segment is gone (retention deleted the segment, then the process died) is noise.
        foreach (var index in System.IO.Directory.GetFiles(_directory, "*" + SegmentFile.IndexExtension))
            if (!File.Exists(Path.ChangeExtension(index, SegmentFile.DataExtension)))
                TryDelete(index);

        for (int i = 0; i < paths.Count; i++)
        {
            bool last = i == paths.Count - 1;
            var segment = RecoverSegment(paths[i].Path, paths[i].Base, last);
            if (last)
            {
                _active = segment;
                _nextOffset = segment.NextOffset;
            }
            else
            {
                _sealed.Add(segment.ToView());
                _nextOffset = segment.NextOffset;
            }
            if (segment.NextOffset > segment.BaseOffset)
                _lastArrival = Math.Max(_lastArrival, segment.LastArrival);
        }
        // A segment that was deleted or lost between two others leaves a gap in offsets; that is
        // tolerated (readers skip it) but reported.
        var all = _sealed.Select(s => (s.BaseOffset, s.NextOffset)).ToList();
        if (_active is not null)
            all.Add((_active.BaseOffset, _active.NextOffset));
        for (int i = 1; i < all.Count; i++)
            if (all[i].BaseOffset > all[i - 1].NextOffset)
                _warn($"Offsets {all[i - 1].NextOffset}..{all[i].BaseOffset - 1} of {_directory} are missing (a segment file was lost).");
        Publish();
    }

    private ActiveSegment RecoverSegment(string path, ulong baseOffset, bool last)
    {
        long fileLength = new FileInfo(path).Length;
        string indexPath = SegmentFile.IndexPath(path);
        SegmentIndex? index = null;
        ulong nextOffset = baseOffset;
        long lastArrival = 0, scanFrom = SegmentFile.HeaderSize;
        if (File.Exists(indexPath))
        {
            var loaded = SegmentIndex.TryDeserialize(File.ReadAllBytes(indexPath), baseOffset);
            if (loaded is { } l && l.DataLength <= fileLength && (last || l.DataLength == fileLength))
            {
                index = l.Index;
                nextOffset = l.NextOffset;
                lastArrival = l.LastArrival;
                scanFrom = l.DataLength;
            }
            else
            {
                _warn($"Index {indexPath} is damaged or does not match its segment; rebuilding it from the segment.");
            }
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        var header = new byte[SegmentFile.HeaderSize];
        int headerBytes = RandomAccess.Read(handle, header, 0);
        long? created = headerBytes == SegmentFile.HeaderSize ? SegmentFile.TryReadHeader(header, baseOffset) : null;
        if (created is null)
        {
            if (fileLength > SegmentFile.HeaderSize)
                _warn($"Header of {path} is damaged; recovering its records by scanning.");
            created = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            RandomAccess.Write(handle, SegmentFile.BuildHeader(baseOffset, created.Value), 0);
            fileLength = Math.Max(fileLength, SegmentFile.HeaderSize);
        }

        var segment = new ActiveSegment(path, baseOffset, created.Value) { Index = index ?? new SegmentIndex() };
        segment.NextOffset = nextOffset;
        segment.LastArrival = lastArrival;
        segment.Length = scanFrom;
        if (index is { Count: > 0 })
        {
            segment.FirstArrival = index[0].ArrivalMillis;
            segment.LastIndexedPosition = index[index.Count - 1].Position;
        }
        if (index is null)
        {
            segment.Length = SegmentFile.HeaderSize;
            segment.NextOffset = baseOffset;
        }

        long validEnd = ScanForRecovery(handle, segment, fileLength);
        if (validEnd < fileLength)
        {
            _warn($"Truncating {path} from {fileLength} to {validEnd} bytes: the tail after the last intact record was torn or corrupt.");
            RandomAccess.SetLength(handle, validEnd);
            RandomAccess.FlushToDisk(handle);
        }
        if (last)
        {
            TryDelete(indexPath); // rewritten on seal or clean close
        }
        else if (index is null || validEnd != scanFrom)
        {
            WriteIndexFile(segment);
        }
        return segment;
    }

    /// <summary>Walks intact frames from the segment's current length, extending its index; returns where they end.</summary>
    private long ScanForRecovery(Microsoft.Win32.SafeHandles.SafeFileHandle handle, ActiveSegment segment, long fileLength)
    {
        long position = segment.Length;
        var buffer = new byte[1024 * 1024];
        int carried = 0;
        while (position + carried < fileLength)
        {
            int read = RandomAccess.Read(handle, buffer.AsSpan(carried), position + carried);
            if (read <= 0)
                break;
            int available = carried + read, cursor = 0;
            while (cursor < available)
            {
                var span = buffer.AsSpan(cursor, available - cursor);
                int length = RecordFrame.Validate(span);
                if (length == 0)
                    break;
                if (length < 0 || RecordFrame.ReadOffset(span) != segment.NextOffset)
                    return position;
                long arrival = RecordFrame.ReadArrival(span);
                if (segment.NextOffset == segment.BaseOffset)
                    segment.FirstArrival = arrival;
                if (segment.Index.Count == 0 || position - segment.LastIndexedPosition >= _options.IndexIntervalBytes)
                {
                    segment.Index.Add(new IndexEntry(segment.NextOffset, position, arrival));
                    segment.LastIndexedPosition = position;
                }
                segment.NextOffset++;
                segment.LastArrival = arrival;
                position += length;
                segment.Length = position;
                cursor += length;
            }
            carried = available - cursor;
            if (carried > 0)
            {
                if (carried == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2); // one frame larger than the buffer
                buffer.AsSpan(cursor, carried).CopyTo(buffer);
            }
            if (carried > 0 && position + carried >= fileLength)
                break; // an incomplete frame at the very end: torn
        }
        return position;
    }
}
