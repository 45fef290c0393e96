using Runnel.Storage.Records;
using Microsoft.Win32.SafeHandles;

namespace Runnel.Storage.Log;

public sealed partial class ShardLog
{
    /// <summary>
    /// Rebuilds the writer's state from the files on disk. Sealed segments are trusted when their index
    /// file is intact and matches the data file's length, and rescanned otherwise. The last segment is
    /// always scanned past what its index covers. A bad frame followed by intact ones is skipped and
    /// reported; a bad frame with nothing intact after it is a torn tail from a crash and is cut off. The
    /// next offset is the end of the log or the persisted high-water mark, whichever is higher, so that an
    /// offset handed out before a crash is never handed out again.
    /// <para>When <paramref name="readOnly"/>, nothing on disk is changed: the damage found is only reported
    /// and the view ends where the intact records end.</para>
    /// </summary>
    private void RecoverFiles(bool readOnly)
    {
        bool exists = System.IO.Directory.Exists(_directory);
        var paths = !exists ? [] : System.IO.Directory.GetFiles(_directory, "*" + SegmentFile.DataExtension)
            .Select(p => (Path: p, Ok: SegmentFile.TryParseBaseOffset(p, out ulong b), Base: b))
            .Where(s => s.Ok)
            .OrderBy(s => s.Base)
            .ToList();
        if (exists && !readOnly)
        {
            foreach (var stray in System.IO.Directory.GetFiles(_directory, "*.tmp"))
                Io.Delete(stray);
            // An index whose segment is gone (retention deleted the segment, then the process died) is noise.
            foreach (var index in System.IO.Directory.GetFiles(_directory, "*" + SegmentFile.IndexExtension))
                if (!File.Exists(Path.ChangeExtension(index, SegmentFile.DataExtension)))
                    TryDelete(index);
        }

        for (int i = 0; i < paths.Count; i++)
        {
            bool last = i == paths.Count - 1;
            var segment = RecoverSegment(paths[i].Path, paths[i].Base, last, readOnly);
            if (last)
                _active = segment;
            else
                _sealed.Add(segment.ToSealedView(_options.IndexCache));
            _nextOffset = segment.NextOffset;
            if (segment.NextOffset > segment.BaseOffset)
                _lastArrival = Math.Max(_lastArrival, segment.LastArrival);
        }
        // Offsets between two segments hold no records. Readers skip them. The usual cause is harmless: a
        // reservation of offsets (see HighWaterMark) that a crash left unused. A lost segment file looks
        // the same, so the gap is reported, in words that do not claim either.
        var all = _sealed.Select(s => (s.BaseOffset, s.NextOffset)).ToList();
        if (_active is not null)
            all.Add((_active.BaseOffset, _active.NextOffset));
        for (int i = 1; i < all.Count; i++)
            if (all[i].BaseOffset > all[i - 1].NextOffset)
                _warn($"Offsets {all[i - 1].NextOffset}..{all[i].BaseOffset - 1} of {_directory} hold no records (skipped by readers, never given again): offsets reserved before an unclean stop and never used, or a segment file that was lost if recovery reported one missing.");

        _hwm = HighWaterMark.Load(_directory, expected: paths.Count > 0, _warn, Io);
        ulong logEnd = _nextOffset;
        if (_hwm.Value > logEnd)
        {
            // Offsets up to the mark may have been acknowledged before the last stop (records cut by
            // recovery, or a reservation a crash left unused): they are skipped, never given again.
            _nextOffset = _hwm.Value;
            _warn($"Offsets {logEnd}..{_hwm.Value - 1} of {_directory} may have been handed out before the last stop, which was not clean, but hold no records (unused, or cut above): they will not be given again, and appends continue at {_hwm.Value}.");
            if (!readOnly)
            {
                try
                {
                    StartSegmentAtNextOffset(Math.Max(NowMillis, _lastArrival));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A full disk must not stop reads: the first append starts the segment instead.
                    _warn($"Could not start a segment at offset {_nextOffset} in {_directory} ({e.Message}); the next append will.");
                }
            }
        }
        Publish();
    }

    private ActiveSegment RecoverSegment(string path, ulong baseOffset, bool last, bool readOnly)
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

        var access = readOnly ? FileAccess.Read : FileAccess.ReadWrite;
        using var handle = readOnly ? File.OpenHandle(path, FileMode.Open, access, FileShare.ReadWrite | FileShare.Delete)
            : Io.Open(path, FileMode.Open, access, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[SegmentFile.HeaderSize];
        int headerBytes = RandomAccess.Read(handle, header, 0);
        long? created = headerBytes == SegmentFile.HeaderSize ? SegmentFile.TryReadHeader(header, baseOffset) : null;
        bool mayHoldSealed = created is not null && SegmentFile.MayHoldSealed(header);
        if (created is null)
        {
            if (fileLength > SegmentFile.HeaderSize)
                _warn($"Header of {path} is damaged; recovering its records by scanning.");
            created = NowMillis;
            // Whether the segment held sealed records is unknown now: the new header says it may, so that no reader
            // older than sealing ever takes one for a plaintext record.
            mayHoldSealed = true;
            if (!readOnly)
                Io.Write(handle, SegmentFile.BuildHeader(baseOffset, created.Value, mayHoldSealed), 0);
            fileLength = Math.Max(fileLength, SegmentFile.HeaderSize);
        }

        var segment = new ActiveSegment(path, baseOffset, created.Value) { Index = index ?? new SegmentIndex(), MayHoldSealed = mayHoldSealed };
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
        if (validEnd < fileLength && readOnly)
        {
            _warn($"{path} has a torn or corrupt tail from byte {validEnd} to {fileLength}; the file system is read-only, so it is not cut, and reads end at the last intact record.");
        }
        else if (validEnd < fileLength)
        {
            _warn($"Truncating {path} from {fileLength} to {validEnd} bytes: the tail after the last intact record was torn or corrupt.");
            Io.SetLength(handle, validEnd);
            Io.FlushToDisk(handle);
        }
        if (readOnly)
        {
            // Nothing is written: the index file is usable only if it was trusted and covers the whole segment.
            segment.IndexOnDisk = index is not null && validEnd == scanFrom && validEnd == fileLength;
            return segment;
        }
        if (last)
            TryDelete(indexPath); // rewritten on seal or clean close
        else if (index is null || validEnd != scanFrom)
            WriteIndexFile(segment);
        return segment;
    }

    /// <summary>
    /// Walks intact frames from the segment's current length, extending its index; returns where they end.
    /// At a bad frame (corrupt, incomplete, or not carrying the next offset) it looks for intact frames
    /// further on (<see cref="FrameResync"/>): if there are some, the bad bytes are skipped, reported, and
    /// indexed around so readers skip them too; if not, the bad frame starts a torn tail and the walk ends.
    /// </summary>
    private long ScanForRecovery(SafeFileHandle handle, ActiveSegment segment, long fileLength)
    {
        long position = segment.Length;
        var buffer = new byte[1024 * 1024];
        int carried = 0;
        while (position < fileLength)
        {
            bool bad = false;
            int read = position + carried < fileLength ? RandomAccess.Read(handle, buffer.AsSpan(carried), position + carried) : 0;
            int available = carried + Math.Max(read, 0), cursor = 0;
            while (cursor < available)
            {
                var span = buffer.AsSpan(cursor, available - cursor);
                int length = RecordFrame.Validate(span);
                if (length == 0)
                {
                    // Incomplete in the buffer. It is bad if it cannot be completed from the file: fewer
                    // bytes are left than its length field claims (a torn write, or a damaged length).
                    long claimed = span.Length >= RecordFrame.LengthFieldSize ? RecordFrame.FrameLength(span) : long.MaxValue;
                    bad = claimed > fileLength - position;
                    break;
                }
                if (length < 0 || RecordFrame.ReadOffset(span) != segment.NextOffset)
                {
                    bad = true;
                    break;
                }
                long arrival = RecordFrame.ReadArrival(span);
                AddScannedFrame(segment, position, arrival);
                position += length;
                segment.Length = position;
                cursor += length;
            }
            if (bad)
            {
                long minArrival = segment.NextOffset > segment.BaseOffset ? segment.LastArrival : _lastArrival;
                if (FrameResync.FindNext(handle, position, fileLength, segment.NextOffset, minArrival) is not { } resume)
                    return position; // nothing intact follows: a torn tail
                string lost = resume.Offset > segment.NextOffset
                    ? $"offsets {segment.NextOffset}..{resume.Offset - 1} are lost"
                    : "no offset is lost";
                _warn($"Corrupt record frame in {segment.Path}, bytes {position}..{resume.Position - 1}: {lost}; the intact records after it, from offset {resume.Offset} at byte {resume.Position}, are kept.");
                if (segment.NextOffset == segment.BaseOffset)
                    segment.FirstArrival = resume.Arrival;
                // Readers that meet the bad bytes skip to the next index entry: make it this one.
                segment.Index.Add(new IndexEntry(resume.Offset, resume.Position, resume.Arrival));
                segment.LastIndexedPosition = resume.Position;
                segment.NextOffset = resume.Offset;
                position = resume.Position;
                carried = 0;
                continue;
            }
            if (read <= 0)
                break;
            carried = available - cursor;
            if (carried > 0)
            {
                if (carried == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2); // one frame larger than the buffer
                buffer.AsSpan(cursor, carried).CopyTo(buffer);
            }
        }
        return position;
    }

    private void AddScannedFrame(ActiveSegment segment, long position, long arrival)
    {
        if (segment.NextOffset == segment.BaseOffset)
            segment.FirstArrival = arrival;
        segment.IndexIfDue(segment.NextOffset, position, arrival, _options.IndexIntervalBytes);
        segment.NextOffset++;
        segment.LastArrival = arrival;
    }

    /// <summary>
    /// Starts a new active segment at the shard's next offset when it is ahead of the active segment's
    /// (after an unused reservation), keeping offsets consecutive within every segment. An empty active
    /// segment is replaced, a non-empty one sealed.
    /// </summary>
    private ActiveSegment StartSegmentAtNextOffset(long createdMillis, bool mayHoldSealed = false)
    {
        var previous = _active;
        bool replace = previous is not null && previous.NextOffset == previous.BaseOffset;
        // An empty segment at this very offset (one whose header does not admit sealed records) is written over in place:
        // a crash in between leaves a short file, which recovery makes an empty segment again.
        bool samePath = replace && previous!.BaseOffset == _nextOffset;
        if (previous is not null && !replace)
            SealActive();
        if (samePath)
        {
            previous!.Handle?.Dispose();
            previous.Handle = null;
            TryDelete(SegmentFile.IndexPath(previous.Path));
        }
        var created = CreateSegment(_nextOffset, createdMillis, mayHoldSealed || (replace && previous!.MayHoldSealed));
        _active = created;
        if (replace && !samePath)
        {
            previous!.Handle?.Dispose();
            previous.Handle = null;
            TryDelete(SegmentFile.IndexPath(previous.Path));
            TryDelete(previous.Path);
        }
        return created;
    }
}
