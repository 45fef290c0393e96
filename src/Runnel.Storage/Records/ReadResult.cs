using System.Buffers;

namespace Runnel.Storage.Records;

/// <summary>
/// Records read from a shard: their frames in one pooled buffer and where each field lies. Not
/// thread-safe. Dispose returns the buffers to the pool; spans taken from it are invalid afterwards.
/// </summary>
public sealed class ReadResult : IDisposable
{
    private byte[] _buffer;
    private RecordView[] _records;
    private int _framed; // bytes of the buffer that TryAdd filled

    /// <param name="initialBytes">the buffer to start with; it grows as records are added</param>
    public ReadResult(int initialBytes)
    {
        _buffer = BufferPool.Bytes.Rent(Math.Max(initialBytes, 256));
        _records = ArrayPool<RecordView>.Shared.Rent(16);
    }

    public int Count { get; private set; }

    /// <summary>The offset to read from next: one past the last record returned or skipped.</summary>
    public ulong NextOffset { get; set; }

    /// <summary>Sum of the data and partition key bytes returned.</summary>
    public long PayloadBytes { get; private set; }

    public ReadOnlySpan<RecordView> Records => _records.AsSpan(0, Count);

    public ReadOnlySpan<byte> Buffer => _buffer;

    public ReadOnlySpan<byte> Data(in RecordView r) => _buffer.AsSpan(r.DataStart, r.DataLength);

    public ReadOnlySpan<byte> PartitionKey(in RecordView r) => _buffer.AsSpan(r.PartitionKeyStart, r.PartitionKeyLength);

    public ReadOnlySpan<byte> ExplicitHashKey(in RecordView r) => _buffer.AsSpan(r.ExplicitHashKeyStart, r.ExplicitHashKeyLength);

    internal byte[] RawBuffer => _buffer;

    internal void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length)
            return;
        var larger = BufferPool.Bytes.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan().CopyTo(larger);
        BufferPool.Bytes.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>
    /// Copies one intact frame (from a backend that holds whole frames, not segment files) into the result,
    /// unless its payload would take the result past <paramref name="maxBytes"/>: the first record is always taken.
    /// </summary>
    public bool TryAdd(ReadOnlySpan<byte> frame, long maxBytes)
    {
        var record = RecordFrame.Parse(frame, _framed);
        if (Count > 0 && PayloadBytes + record.DataLength + record.PartitionKeyLength > maxBytes)
            return false;
        EnsureCapacity(_framed + frame.Length);
        frame.CopyTo(_buffer.AsSpan(_framed));
        _framed += frame.Length;
        Add(record);
        return true;
    }

    internal void Add(in RecordView record)
    {
        if (Count == _records.Length)
        {
            var larger = ArrayPool<RecordView>.Shared.Rent(Count * 2);
            _records.AsSpan(0, Count).CopyTo(larger);
            ArrayPool<RecordView>.Shared.Return(_records);
            _records = larger;
        }
        _records[Count++] = record;
        PayloadBytes += record.DataLength + record.PartitionKeyLength;
    }

    /// <summary>Keeps the first <paramref name="count"/> records only (the frames stay in the buffer, unlisted).</summary>
    internal void Truncate(int count)
    {
        for (int i = count; i < Count; i++)
            PayloadBytes -= _records[i].DataLength + _records[i].PartitionKeyLength;
        Count = Math.Min(Count, count);
    }

    public void Dispose()
    {
        if (_buffer.Length == 0)
            return;
        BufferPool.Bytes.Return(_buffer);
        ArrayPool<RecordView>.Shared.Return(_records);
        _buffer = [];
        _records = [];
    }
}
