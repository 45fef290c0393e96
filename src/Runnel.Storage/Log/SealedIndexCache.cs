namespace Runnel.Storage.Log;

/// <summary>
/// The sparse indexes of sealed segments, kept in memory only while they are used, up to
/// <see cref="MaxBytes"/> for the whole process. A sealed segment's index is in its <c>.idx</c> file
/// (docs/formats/index.md), so memory need not grow with the data retained: an index every 16 KiB is
/// 1.5 MiB per GiB stored, which for a server keeping hundreds of GiB would be hundreds of MiB held for
/// nothing. The least recently used index is dropped first; a reader that needs it again loads it from
/// its file. An index file that is missing or does not match its segment is answered with no index:
/// the reader scans the segment from its first record, which is slower but returns the same records.
/// <para>Thread-safety: one lock around the bookkeeping; files are read outside it.</para>
/// </summary>
public sealed class SealedIndexCache(long maxBytes)
{
    /// <summary>The cache the logs of this process share: 32 MiB, the indexes of about 340 full 64 MiB segments.</summary>
    public static readonly SealedIndexCache Shared = new(32L * 1024 * 1024);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new(); // most recently used first
    private long _bytes;

    public long MaxBytes { get; } = maxBytes;

    /// <summary>Bytes of index entries held now.</summary>
    public long Bytes { get { lock (_lock) return _bytes; } }

    /// <summary>The index of a sealed segment, from memory or from its file.</summary>
    public IndexSnapshot Get(SegmentView segment, Action<string> warn)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(segment.Path, out var node) && node.Value.DataLength == segment.Length)
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Index;
            }
        }
        var loaded = Load(segment, warn);
        Put(segment.Path, segment.Length, loaded);
        return loaded;
    }

    /// <summary>Keeps a copy of a segment's index just sealed (readers tailing the shard are about to want it).</summary>
    public void Put(string path, long dataLength, IndexSnapshot index)
    {
        // The writer's chunks are kept as they are: a copy would be garbage for the GC at every seal.
        var entry = new Entry(path, dataLength, index);
        long size = index.Footprint;
        if (size > MaxBytes)
            return;
        lock (_lock)
        {
            RemoveLocked(path);
            _entries[path] = _recency.AddFirst(entry);
            _bytes += size;
            while (_bytes > MaxBytes && _recency.Last is { } oldest)
                RemoveLocked(oldest.Value.Path);
        }
    }

    /// <summary>Forgets a segment's index: it was deleted, or recovery may have rewritten it.</summary>
    public void Remove(string path)
    {
        lock (_lock)
            RemoveLocked(path);
    }

    private void RemoveLocked(string path)
    {
        if (!_entries.Remove(path, out var node))
            return;
        _recency.Remove(node);
        _bytes -= node.Value.Index.Footprint;
    }

    private static IndexSnapshot Load(SegmentView segment, Action<string> warn)
    {
        string indexPath = SegmentFile.IndexPath(segment.Path);
        try
        {
            if (SegmentIndex.TryDeserialize(File.ReadAllBytes(indexPath), segment.BaseOffset) is { } loaded && loaded.DataLength == segment.Length)
                return loaded.Index.Published;
            warn($"Index {indexPath} is damaged or does not match its segment; reads of that segment scan it from the start until the next restart rebuilds the index.");
        }
        catch (FileNotFoundException)
        {
            // Deleted by retention since the reader took its view: the reader finds the segment gone too.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($"Could not read index {indexPath} ({e.Message}); reads of that segment scan it from the start.");
        }
        return IndexSnapshot.Empty;
    }

    private sealed record Entry(string Path, long DataLength, IndexSnapshot Index);
}
