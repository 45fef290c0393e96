namespace Runnel.Core.Metrics;

/// <summary>
/// How many recorded values fell in each of <see cref="LogLinearBuckets"/>' buckets since the last
/// <see cref="Take"/>: what a minute's percentiles are read from. The counters are kept in blocks of one power of two
/// (64 ints, 256 bytes), made the first time a value falls in that range, under a directory of 58 made with the first
/// value (464 bytes), so a metric never recorded holds nothing and one whose values span a few powers of two a few
/// blocks; after those first values <see cref="Add"/> allocates nothing and is a shift, two loads and an interlocked
/// increment. Lock-free: any number of adders, one taker at a time (the minute roll). An add racing a take
/// lands in the minute taken or in the next, never in neither.
/// </summary>
public sealed class BucketCounters
{
    private const int Blocks = LogLinearBuckets.Count / LogLinearBuckets.SubBuckets;
    private int[]?[]? _blocks;

    /// <summary>Counts one value.</summary>
    public void Add(long value)
    {
        int index = LogLinearBuckets.Index(value);
        var blocks = Volatile.Read(ref _blocks) ?? Directory();
        int[] block = Volatile.Read(ref blocks[index >> LogLinearBuckets.SubBucketBits]) ?? Block(blocks, index >> LogLinearBuckets.SubBucketBits);
        Interlocked.Increment(ref block[index & (LogLinearBuckets.SubBuckets - 1)]);
    }

    private int[]?[] Directory()
    {
        var made = new int[Blocks][];
        return Interlocked.CompareExchange(ref _blocks, made, null) ?? made;
    }

    private static int[] Block(int[]?[] blocks, int number)
    {
        var made = new int[LogLinearBuckets.SubBuckets];
        return Interlocked.CompareExchange(ref blocks[number], made, null) ?? made;
    }

    /// <summary>The counts since the last take, leaving them counting (the minute still filling).</summary>
    public ValueDistribution? Peek(double scale) => Read(scale, take: false);

    /// <summary>The counts since the last take, starting the next window: each counter is read and zeroed at once.</summary>
    public ValueDistribution? Take(double scale) => Read(scale, take: true);

    private ValueDistribution? Read(double scale, bool take)
    {
        List<int>? indexes = null;
        List<long>? counts = null;
        if (Volatile.Read(ref _blocks) is not { } blocks)
            return null;
        for (int b = 0; b < Blocks; b++)
        {
            if (Volatile.Read(ref blocks[b]) is not { } block)
                continue;
            for (int i = 0; i < block.Length; i++)
            {
                // A window holds fewer than 2^31 values of one bucket (a minute: 35 million a second), so the int's bits are the count.
                uint count = (uint)(take ? Interlocked.Exchange(ref block[i], 0) : Volatile.Read(ref block[i]));
                if (count == 0)
                    continue;
                (indexes ??= []).Add((b << LogLinearBuckets.SubBucketBits) + i);
                (counts ??= []).Add(count);
            }
        }
        return indexes is null ? null : new ValueDistribution(scale, [.. indexes], [.. counts!]);
    }
}
