using System.Buffers;
using System.Text;

namespace Runnel.Storage.Records;

/// <summary>
/// Records bound for one shard, framed into one pooled buffer as they are parsed so that the writer can
/// append the whole batch with one write. Not thread-safe: one request fills it, then hands it to the log.
/// Dispose returns the buffer to the pool.
/// </summary>
public sealed class RecordBatch : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private int[] _frameStarts;

    /// <param name="capacityBytes">The room to rent up front, best the batch's final size (<see cref="FramedSize"/>
    /// summed); it grows as needed, and is never rented larger than one frame's limit.</param>
    public RecordBatch(int capacityBytes = 4096)
    {
        _buffer = BufferPool.Bytes.Rent(Math.Clamp(capacityBytes, 256, RecordFrame.MaxFrameLength));
        _frameStarts = ArrayPool<int>.Shared.Rent(16);
    }

    public int Count { get; private set; }

    /// <summary>The data key to seal the batch's records under at rest (the stream is encrypted), or null to store
    /// them as they are. Honoured by <see cref="Encryption.EncryptingShardStore"/>'s logs.</summary>
    public Encryption.LogKey? SealWith { get; set; }

    /// <summary>The bytes a record takes in a batch (and in the log), from the lengths of its fields.</summary>
    public static int FramedSize(int partitionKeyBytes, int explicitHashKeyBytes, int dataBytes) =>
        RecordFrame.SizeOf(partitionKeyBytes, explicitHashKeyBytes, dataBytes);

    public int Length => _length;

    public Memory<byte> Frames => _buffer.AsMemory(0, _length);

    public int FrameStart(int index) => _frameStarts[index];

    /// <summary>Adds a record; throws <see cref="ArgumentOutOfRangeException"/> for one the frame cannot hold
    /// (see the other overload).</summary>
    public void Add(string partitionKey, string? explicitHashKey, ReadOnlySpan<byte> data)
    {
        // Checked before encoding: a key this long cannot fit however it encodes, and must not size a stackalloc.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitionKey.Length, RecordFrame.MaxPartitionKeyBytes, nameof(partitionKey));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(explicitHashKey?.Length ?? 0, RecordFrame.MaxExplicitHashKeyBytes, nameof(explicitHashKey));
        int maxPk = Encoding.UTF8.GetMaxByteCount(partitionKey.Length);
        byte[]? rented = maxPk > 1024 ? BufferPool.Bytes.Rent(maxPk) : null;
        try
        {
            Span<byte> pk = rented ?? stackalloc byte[maxPk];
            int pkLength = Encoding.UTF8.GetBytes(partitionKey, pk);
            Span<byte> ehk = stackalloc byte[explicitHashKey?.Length ?? 0];
            if (explicitHashKey is not null)
                Encoding.ASCII.GetBytes(explicitHashKey, ehk);
            Add(pk[..pkLength], ehk, data);
        }
        finally
        {
            if (rented is not null)
                BufferPool.Bytes.Return(rented);
        }
    }

    /// <summary>
    /// Adds a record. Throws <see cref="ArgumentOutOfRangeException"/>, leaving the batch unchanged, for a
    /// record the frame format cannot hold: a partition key over 65,535 bytes, an explicit hash key over
    /// 255, or a frame over <see cref="RecordFrame.MaxFrameLength"/>. (Written anyway, such a record would
    /// be acknowledged and then read back as corrupt, taking every later record of the shard with it.)
    /// </summary>
    public void Add(ReadOnlySpan<byte> partitionKey, ReadOnlySpan<byte> explicitHashKey, ReadOnlySpan<byte> data) =>
        AddFrame(partitionKey, explicitHashKey, data, 0, 0);

    private void AddFrame(ReadOnlySpan<byte> partitionKey, ReadOnlySpan<byte> explicitHashKey, ReadOnlySpan<byte> data, byte flags, uint keyId)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitionKey.Length, RecordFrame.MaxPartitionKeyBytes, nameof(partitionKey));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(explicitHashKey.Length, RecordFrame.MaxExplicitHashKeyBytes, nameof(explicitHashKey));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(data.Length, RecordFrame.MaxDataBytes(partitionKey.Length, explicitHashKey.Length), nameof(data));
        int size = RecordFrame.SizeOf(partitionKey.Length, explicitHashKey.Length, data.Length);
        EnsureCapacity(size);
        if (Count == _frameStarts.Length)
        {
            var larger = ArrayPool<int>.Shared.Rent(Count * 2);
            _frameStarts.AsSpan(0, Count).CopyTo(larger);
            ArrayPool<int>.Shared.Return(_frameStarts);
            _frameStarts = larger;
        }
        _frameStarts[Count++] = _length;
        _length += RecordFrame.WriteUnsealed(_buffer.AsSpan(_length), partitionKey, explicitHashKey, data, flags, keyId);
    }

    /// <summary>Adds a record sealed by <see cref="Encryption.RecordCipher"/>: no keys in the clear, the sealed body as
    /// its data, flagged encrypted under <paramref name="keyId"/>.</summary>
    public void AddEncrypted(uint keyId, ReadOnlySpan<byte> sealedBody)
    {
        AddFrame([], [], sealedBody, RecordFrame.FlagEncrypted, keyId);
        HoldsSealed = true;
    }

    /// <summary>Some of the batch's records are sealed (<see cref="AddEncrypted"/>): a segment must admit them.</summary>
    public bool HoldsSealed { get; private set; }

    /// <summary>Adds a record opened for a reader (<see cref="RecordFrame.FlagDecrypted"/>), already at its offset and arrival.</summary>
    internal void AddOpened(ReadOnlySpan<byte> partitionKey, ReadOnlySpan<byte> explicitHashKey, ReadOnlySpan<byte> data, uint keyId) =>
        AddFrame(partitionKey, explicitHashKey, data, RecordFrame.FlagDecrypted, keyId);

    /// <summary>Assigns consecutive offsets from <paramref name="firstOffset"/> and the arrival time to every frame
    /// (again, if a backend must place the batch elsewhere than it first tried).</summary>
    public void Seal(ulong firstOffset, long arrivalMillis)
    {
        for (int i = 0; i < Count; i++)
        {
            int start = _frameStarts[i];
            int end = i + 1 < Count ? _frameStarts[i + 1] : _length;
            RecordFrame.Seal(_buffer.AsSpan(start, end - start), firstOffset + (ulong)i, arrivalMillis);
        }
    }

    /// <summary>Empties the batch for reuse, keeping its buffers.</summary>
    public void Clear()
    {
        _length = 0;
        Count = 0;
        HoldsSealed = false;
    }

    private void EnsureCapacity(int extra)
    {
        if (_length + extra <= _buffer.Length)
            return;
        var larger = BufferPool.Bytes.Rent(Math.Max(_buffer.Length * 2, _length + extra));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        BufferPool.Bytes.Return(_buffer);
        _buffer = larger;
    }

    public void Dispose()
    {
        if (_buffer.Length == 0)
            return;
        BufferPool.Bytes.Return(_buffer);
        ArrayPool<int>.Shared.Return(_frameStarts);
        _buffer = [];
        _frameStarts = [];
    }
}
