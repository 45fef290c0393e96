namespace Runnel.Client.Aggregation;

/// <summary>
/// A shard's hash-key range, both ends included, as ListShards gives it (<c>HashKeyRange.StartingHashKey</c> and
/// <c>EndingHashKey</c>). Immutable.
/// </summary>
public readonly record struct HashRange
{
    /// <summary>A range of hash keys from <paramref name="start"/> to <paramref name="end"/>, both included.</summary>
    /// <exception cref="ArgumentException"><paramref name="start"/> is above <paramref name="end"/>.</exception>
    public HashRange(UInt128 start, UInt128 end)
    {
        if (start > end)
            throw new ArgumentException($"A hash-key range starts at or below its end; {start} is above {end}.", nameof(start));
        Start = start;
        End = end;
    }

    /// <summary>The whole hash-key space, 0 to 2^128 - 1: a stream of one shard.</summary>
    public static HashRange All => new(UInt128.Zero, UInt128.MaxValue);

    /// <summary>The smallest hash key of the range (the shard's <c>StartingHashKey</c>).</summary>
    public UInt128 Start { get; }

    /// <summary>The largest hash key of the range, included (the shard's <c>EndingHashKey</c>).</summary>
    public UInt128 End { get; }

    /// <summary>Whether <paramref name="hashKey"/> lies in the range.</summary>
    public bool Contains(UInt128 hashKey) => hashKey >= Start && hashKey <= End;

    /// <summary>The range of ListShards' decimal <c>StartingHashKey</c> and <c>EndingHashKey</c>.</summary>
    /// <exception cref="FormatException">Either is not a hash key.</exception>
    public static HashRange Parse(string startingHashKey, string endingHashKey) =>
        new(HashKeys.Parse(startingHashKey), HashKeys.Parse(endingHashKey));

    /// <summary>The range as <c>[start, end]</c> in decimal.</summary>
    public override string ToString() => $"[{HashKeys.Format(Start)}, {HashKeys.Format(End)}]";
}
