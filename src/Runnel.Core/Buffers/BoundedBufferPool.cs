using System.Buffers;

namespace Runnel.Core.Buffers;

/// <summary>
/// The one pool of byte buffers for request bodies, record batches, read results and response bodies,
/// bounded by bytes rather than by count. The pools it replaces (<c>ArrayPool.Create</c>, 4 MiB × 8 per
/// size, one for the log and one for responses) rounded a 2.1 MiB batch up to 4 MiB, could not be emptied,
/// and at 16 requests in flight missed half the time, each miss a new large-object array that only a full
/// collection frees: under a long write the large object heap grew to 600+ MiB between collections.
/// Here sizes go up in steps of a power of two and one and a half times it (a 2.7 MiB body takes 3 MiB),
/// a returned array is kept only while the pool holds less than <see cref="MaxRetainedBytes"/>, and
/// <see cref="Trim"/> lets everything go when the server goes idle.
/// Thread-safe: one lock, held for a push or a pop (a few per request).
/// </summary>
public sealed class BoundedBufferPool : ArrayPool<byte>
{
    /// <summary>The pool the server uses: arrays up to 16 MiB (the largest request body and GetRecords
    /// response), 128 MiB kept at most. That covers the body and the batch (3 MiB each) of 16 PutRecords of
    /// 500 × 4 KiB in flight, bench/run.sh's load: at 64 MiB, misses alone allocated 4 MiB/s of large
    /// objects. It holds only what was in use at once, and nothing after <see cref="Trim"/>.</summary>
    public static readonly BoundedBufferPool Default = new(maxArrayLength: 16 * 1024 * 1024, maxRetainedBytes: 128L * 1024 * 1024);

    private const int MinArrayLength = 256;

    private readonly int[] _sizes;
    private readonly Stack<byte[]>[] _buckets;
    private readonly Lock _lock = new();
    private long _retained;

    public BoundedBufferPool(int maxArrayLength, long maxRetainedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxArrayLength, MinArrayLength);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBytes);
        MaxArrayLength = maxArrayLength;
        MaxRetainedBytes = maxRetainedBytes;
        var sizes = new List<int>();
        for (long size = MinArrayLength; size <= maxArrayLength; size *= 2)
        {
            sizes.Add((int)size);
            if (size * 3 / 2 <= maxArrayLength)
                sizes.Add((int)(size * 3 / 2));
        }
        _sizes = [.. sizes];
        _buckets = new Stack<byte[]>[_sizes.Length];
        for (int i = 0; i < _buckets.Length; i++)
            _buckets[i] = new Stack<byte[]>();
    }

    /// <summary>Larger arrays are allocated and left to the GC, never kept.</summary>
    public int MaxArrayLength { get; }

    /// <summary>The most bytes of returned arrays the pool keeps.</summary>
    public long MaxRetainedBytes { get; }

    /// <summary>Bytes of returned arrays the pool holds now.</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_lock)
                return _retained;
        }
    }

    public override byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        int bucket = BucketOf(minimumLength);
        if (bucket < 0)
            return GC.AllocateUninitializedArray<byte>(minimumLength);
        lock (_lock)
        {
            if (_buckets[bucket].TryPop(out var array))
            {
                _retained -= array.Length;
                return array;
            }
        }
        return GC.AllocateUninitializedArray<byte>(_sizes[bucket]);
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        int bucket = BucketOf(array.Length);
        if (bucket < 0 || _sizes[bucket] != array.Length)
            return; // not one of ours (or too large to keep): the GC has it
        if (clearArray)
            array.AsSpan().Clear();
        lock (_lock)
        {
            if (_retained + array.Length > MaxRetainedBytes)
                return;
            _buckets[bucket].Push(array);
            _retained += array.Length;
        }
    }

    /// <summary>Lets every retained array go to the GC.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var bucket in _buckets)
                bucket.Clear();
            _retained = 0;
        }
    }

    /// <summary>The smallest size class that holds <paramref name="length"/> bytes, or -1 when over the largest.</summary>
    private int BucketOf(int length)
    {
        if (length > MaxArrayLength)
            return -1;
        for (int i = 0; i < _sizes.Length; i++)
            if (_sizes[i] >= length)
                return i;
        return -1;
    }
}
