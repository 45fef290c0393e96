namespace Runnel.Core.Metrics;

/// <summary>
/// The distribution of a metric's values over a window (a minute, or a period of minutes merged): how many of the
/// recorded integers fell in each <see cref="LogLinearBuckets"/> bucket, only the buckets that had any, by index, and
/// the <see cref="Scale"/> that turns a recorded integer into the metric's unit (0.001 for latencies recorded in
/// microseconds and published in milliseconds). Merging adds the counts bucket by bucket, so a period's distribution
/// is the same whether its minutes or its nodes are merged first. A percentile read from it is within
/// <see cref="LogLinearBuckets.RelativeError"/> of the value of that rank.
/// <para>
/// Held packed, as a cluster keeps every minute of the retention period in memory: per bucket, the gap from the
/// bucket before (the first bucket's index) and the count, each a LEB128 varint, so a bucket of a minute takes two or
/// three bytes. Immutable; equal when scale and buckets are.
/// </para>
/// </summary>
public sealed class ValueDistribution : IEquatable<ValueDistribution>
{
    private readonly byte[] _packed;

    /// <param name="scale">A recorded integer in the metric's unit.</param>
    /// <param name="indexes">The buckets that had values, ascending, each within [0, <see cref="LogLinearBuckets.Count"/>).</param>
    /// <param name="counts">How many values each had, each positive.</param>
    public ValueDistribution(double scale, int[] indexes, long[] counts)
    {
        if (indexes.Length != counts.Length)
            throw new ArgumentException("A distribution needs a count for every bucket.", nameof(counts));
        if (indexes.Length == 0)
            throw new ArgumentException("A distribution holds at least one value.", nameof(indexes));
        var packer = new Packer(indexes.Length);
        for (int i = 0; i < indexes.Length; i++)
        {
            if (indexes[i] is < 0 or >= LogLinearBuckets.Count || (i > 0 && indexes[i] <= indexes[i - 1]))
                throw new ArgumentException("A distribution's buckets are ascending indexes of LogLinearBuckets.", nameof(indexes));
            if (counts[i] <= 0)
                throw new ArgumentException("A distribution's buckets each hold at least one value.", nameof(counts));
            packer.Add(indexes[i], counts[i]);
        }
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentException("A distribution's scale is a positive number.", nameof(scale));
        Scale = scale;
        (_packed, BucketCount, Total) = packer.Done();
    }

    private ValueDistribution(double scale, Packer packer)
    {
        Scale = scale;
        (_packed, BucketCount, Total) = packer.Done();
    }

    /// <summary>The distribution of <paramref name="count"/> equal values (<paramref name="value"/>, in the metric's unit).</summary>
    public static ValueDistribution Of(double value, long count, double scale) =>
        new(scale, [LogLinearBuckets.Index((long)Math.Round(value / scale))], [count]);

    public double Scale { get; }

    /// <summary>How many values it counts.</summary>
    public long Total { get; }

    /// <summary>How many buckets had values.</summary>
    public int BucketCount { get; }

    /// <summary>The buckets that had values, ascending, with their counts.</summary>
    public BucketEnumerator Buckets => new(_packed);

    /// <summary>
    /// The value at <paramref name="percentile"/> (0 to 100) in the metric's unit: that of the value of rank
    /// ceil(p/100 × Total) (1 for p0), as its bucket's midpoint.
    /// </summary>
    public double Percentile(double percentile)
    {
        // A percentage with decimals (99.9) is not exact in binary: the nudge keeps p × n / 100 that lands a hair above
        // an integer from moving to the next rank.
        long rank = Math.Clamp((long)Math.Ceiling((percentile * Total / 100) - 1e-9), 1, Total);
        long seen = 0;
        int last = 0;
        foreach (var (index, count) in Buckets)
        {
            seen += count;
            last = index;
            if (seen >= rank)
                break;
        }
        return LogLinearBuckets.Midpoint(last) * Scale;
    }

    /// <summary>
    /// Both taken together, bucket by bucket. Of two scales (a metric whose unit changed) the other's buckets are placed
    /// by their midpoints in this one's: within twice the relative error then.
    /// </summary>
    public ValueDistribution Merge(ValueDistribution other)
    {
        if (other.Scale != Scale)
            other = other.Rescaled(Scale);
        var packer = new Packer(BucketCount + other.BucketCount);
        var mine = Buckets;
        var theirs = other.Buckets;
        bool hasMine = mine.MoveNext(), hasTheirs = theirs.MoveNext();
        while (hasMine || hasTheirs)
        {
            if (!hasTheirs || (hasMine && mine.Current.Index < theirs.Current.Index))
            {
                packer.Add(mine.Current.Index, mine.Current.Count);
                hasMine = mine.MoveNext();
            }
            else if (!hasMine || theirs.Current.Index < mine.Current.Index)
            {
                packer.Add(theirs.Current.Index, theirs.Current.Count);
                hasTheirs = theirs.MoveNext();
            }
            else
            {
                packer.Add(mine.Current.Index, mine.Current.Count + theirs.Current.Count);
                hasMine = mine.MoveNext();
                hasTheirs = theirs.MoveNext();
            }
        }
        return new ValueDistribution(Scale, packer);
    }

    private ValueDistribution Rescaled(double scale)
    {
        var buckets = new SortedDictionary<int, long>();
        foreach (var (index, count) in Buckets)
        {
            int placed = LogLinearBuckets.Index((long)Math.Round(LogLinearBuckets.Midpoint(index) * Scale / scale));
            buckets[placed] = buckets.GetValueOrDefault(placed) + count;
        }
        return new ValueDistribution(scale, [.. buckets.Keys], [.. buckets.Values]);
    }

    public bool Equals(ValueDistribution? other) =>
        other is not null && other.Scale.Equals(Scale) && other._packed.AsSpan().SequenceEqual(_packed); // the packing is canonical

    public override bool Equals(object? obj) => Equals(obj as ValueDistribution);

    public override int GetHashCode() => HashCode.Combine(Scale, Total, BucketCount);

    public override string ToString() => $"{Total} values in {BucketCount} buckets (scale {Scale})";

    /// <summary>Reads the packed buckets in order.</summary>
    public struct BucketEnumerator(byte[] packed)
    {
        private int _at, _index = -1;

        public (int Index, long Count) Current { get; private set; }

        public readonly BucketEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_at >= packed.Length)
                return false;
            long gap = Read(), count = Read();
            _index = _index < 0 ? (int)gap : _index + (int)gap;
            Current = (_index, count);
            return true;
        }

        private long Read()
        {
            long value = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = packed[_at++];
                value |= (long)(b & 0x7f) << shift;
                if (b < 0x80)
                    return value;
            }
        }
    }

    /// <summary>Packs ascending buckets: gaps and counts as LEB128 varints.</summary>
    private struct Packer(int buckets)
    {
        private byte[] _bytes = new byte[Math.Max(4, buckets * 3)];
        private int _length, _count, _previous = -1;
        private long _total;

        public void Add(int index, long count)
        {
            Write(_previous < 0 ? index : index - _previous);
            Write(count);
            _previous = index;
            _count++;
            _total += count;
        }

        private void Write(long value)
        {
            if (_length + 10 > _bytes.Length)
                Array.Resize(ref _bytes, _bytes.Length * 2);
            while (value >= 0x80)
            {
                _bytes[_length++] = (byte)(value | 0x80);
                value >>= 7;
            }
            _bytes[_length++] = (byte)value;
        }

        public readonly (byte[] Packed, int Buckets, long Total) Done() => (_bytes[.._length], _count, _total);
    }
}
