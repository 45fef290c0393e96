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

    internal ReadResult(int initialBytes)
    {
        _buffer = BufferPool.Bytes.Rent(Math.Max(initialBytes, 256));
        _records = ArrayPool<RecordView>.Shared.Rent(16);
    }

    public int Count { get; private set; }

    /// <summary>The offset to read from next: one past the last record returned or skipped.</summary>
    public ulong NextOffset { get; internal set; }

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
