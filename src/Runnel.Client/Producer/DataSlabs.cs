using System.Buffers;

namespace Runnel.Client.Producer;

/// <summary>
/// Where the producer keeps its copies of the records' data: packed one after another into slabs of
/// <see cref="SlabBytes"/> rented from the shared pool, each given back when the last record in it is stored or failed.
/// A full buffer holds 100,000 records for the time their aggregates take to be stored; an array of its own per record
/// doubled the objects every collection walks and copies (the producer's largest cost once aggregation cut the
/// server's). A record over <see cref="MaxPackedBytes"/> gets an array of its own. Thread-safe.
/// </summary>
internal sealed class DataSlabs : IDisposable
{
    /// <summary>The size of a slab.</summary>
    public const int SlabBytes = 256 * 1024;

    /// <summary>The largest record packed into a slab.</summary>
    public const int MaxPackedBytes = 16 * 1024;

    private readonly Lock _lock = new();
    private Slab? _current;

    /// <summary>A copy of <paramref name="data"/>, and the slab it is in (null for an array of its own), to <see cref="Slab.Release"/> once the copy is not needed.</summary>
    public ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> data, out Slab? slab)
    {
        if (data.Length > MaxPackedBytes)
        {
            slab = null;
            return data.ToArray();
        }
        int start;
        lock (_lock)
        {
            if (_current is null || _current.Remaining < data.Length)
            {
                _current?.Seal(); // it is freed when its last record is
                _current = new Slab(ArrayPool<byte>.Shared.Rent(SlabBytes));
            }
            slab = _current;
            start = slab.Reserve(data.Length);
        }
        var copy = slab.Buffer.AsMemory(start, data.Length);
        data.CopyTo(copy.Span);
        return copy;
    }

    /// <summary>Lets the current slab go once its records are done.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _current?.Seal();
            _current = null;
        }
    }

    /// <summary>
    /// A pooled array shared by the records copied into it, returned when the last of them lets it go after the
    /// producer sealed it. The count starts at a bias larger than any slab's records, so that releases before the seal
    /// never reach zero; the seal takes the bias off and adds the records reserved, so the count reaches zero exactly
    /// once, at the last release. Reserving is then no atomic operation (it is done under the owner's lock), and a
    /// release is one.
    /// </summary>
    internal sealed class Slab(byte[] buffer)
    {
        private const long Bias = 1L << 40;

        private long _references = Bias;
        private int _used; // changed under the owner's lock only
        private int _reserved; // likewise

        public byte[] Buffer { get; } = buffer;

        public int Remaining => Buffer.Length - _used;

        /// <summary>Room for <paramref name="bytes"/> more, for one more record; under the owner's lock.</summary>
        public int Reserve(int bytes)
        {
            int start = _used;
            _used += bytes;
            _reserved++;
            return start;
        }

        /// <summary>No more records go in (under the owner's lock): the last release from now on frees the array.</summary>
        public void Seal() => Settle(Interlocked.Add(ref _references, _reserved - Bias));

        /// <summary>Lets <paramref name="records"/> records' references go.</summary>
        public void Release(int records = 1) => Settle(Interlocked.Add(ref _references, -records));

        private void Settle(long left)
        {
            if (left == 0)
                ArrayPool<byte>.Shared.Return(Buffer);
            else if (left < 0)
                throw new InvalidOperationException("A data slab was released more often than it was referenced.");
        }
    }
}
