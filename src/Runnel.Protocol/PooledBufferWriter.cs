using System.Buffers;
using Runnel.Core.Buffers;

namespace Runnel.Protocol;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over pooled arrays, for response bodies: a GetRecords response of
/// megabytes grows in place instead of in freshly allocated arrays. Not thread-safe. Dispose returns the
/// array; memory handed out before is invalid afterwards.
/// </summary>
public sealed class PooledBufferWriter(int initialCapacity = 4096) : IBufferWriter<byte>, IDisposable
{
    // The server's one bounded pool, shared with the log's record buffers.
    private static readonly BoundedBufferPool Pool = BoundedBufferPool.Default;

    private byte[] _buffer = Pool.Rent(initialCapacity);
    private int _written;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public int WrittenCount => _written;

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Grows the buffer, once, so that <paramref name="bytes"/> more fit without another copy.</summary>
    public void Reserve(int bytes) => Ensure(bytes);

    private void Ensure(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 256);
        if (needed <= _buffer.Length)
            return;
        var larger = Pool.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        Pool.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>Forgets what was written, to write again; a buffer grown past <paramref name="keepBytes"/> goes back to the pool.</summary>
    public void Clear(int keepBytes)
    {
        _written = 0;
        if (_buffer.Length > keepBytes)
        {
            Pool.Return(_buffer);
            _buffer = Pool.Rent(keepBytes);
        }
    }

    public void Dispose()
    {
        if (_buffer.Length == 0)
            return;
        Pool.Return(_buffer);
        _buffer = [];
        _written = 0;
    }
}
