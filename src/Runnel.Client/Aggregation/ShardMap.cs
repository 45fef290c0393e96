namespace Runnel.Client.Aggregation;

/// <summary>An open shard and the hash keys it takes.</summary>
/// <param name="ShardId">The shard's id, as ListShards gives it.</param>
/// <param name="Range">The shard's hash-key range.</param>
public readonly record struct ShardHashRange(string ShardId, HashRange Range);

/// <summary>
/// Which open shard takes a hash key: the producer's prediction of where a record goes, so that it aggregates only
/// records bound for the same shard. Built from the open shards of a ListShards answer (those without an
/// <c>EndingSequenceNumber</c>), whose ranges do not overlap; a gap (a map read mid-reshard) leaves the hash keys in it
/// without a shard. Lookups are a binary search over the ranges sorted by start. Immutable and thread-safe: a changed
/// stream is a new map.
/// </summary>
public sealed class ShardMap
{
    private readonly ShardHashRange[] _shards; // sorted by start, no overlaps
    private readonly UInt128[] _starts; // _shards[i].Range.Start, for the search

    /// <summary>A map of the given open shards, in any order.</summary>
    /// <exception cref="ArgumentException">A shard id is empty, or two ranges overlap (closed parents passed with their open children).</exception>
    public ShardMap(IEnumerable<(string ShardId, UInt128 StartingHashKey, UInt128 EndingHashKey)> openShards)
    {
        ArgumentNullException.ThrowIfNull(openShards);
        var shards = new List<ShardHashRange>();
        foreach (var (shardId, start, end) in openShards)
        {
            ArgumentException.ThrowIfNullOrEmpty(shardId, nameof(openShards));
            shards.Add(new ShardHashRange(shardId, new HashRange(start, end)));
        }
        shards.Sort((a, b) => a.Range.Start.CompareTo(b.Range.Start));
        for (int i = 1; i < shards.Count; i++)
            if (shards[i].Range.Start <= shards[i - 1].Range.End)
                throw new ArgumentException($"Shards {shards[i - 1].ShardId} {shards[i - 1].Range} and {shards[i].ShardId} {shards[i].Range} overlap: only open shards make a map.", nameof(openShards));
        _shards = [.. shards];
        _starts = [.. shards.Select(s => s.Range.Start)];
    }

    /// <summary>A map of open shards whose hash keys are ListShards' decimal text.</summary>
    /// <exception cref="FormatException">A hash key is not one.</exception>
    /// <exception cref="ArgumentException">As for the constructor.</exception>
    public static ShardMap FromListShards(IEnumerable<(string ShardId, string StartingHashKey, string EndingHashKey)> openShards)
    {
        ArgumentNullException.ThrowIfNull(openShards);
        return new ShardMap(openShards.Select(s => (s.ShardId, HashKeys.Parse(s.StartingHashKey), HashKeys.Parse(s.EndingHashKey))).ToList());
    }

    /// <summary>The shards, sorted by the start of their ranges.</summary>
    public IReadOnlyList<ShardHashRange> Shards => _shards;

    /// <summary>Whether the shards cover every hash key from 0 to 2^128 - 1 without a gap, as a stream's open shards do.</summary>
    public bool IsComplete
    {
        get
        {
            if (_shards.Length == 0 || _shards[0].Range.Start != UInt128.Zero || _shards[^1].Range.End != UInt128.MaxValue)
                return false;
            for (int i = 1; i < _shards.Length; i++)
                if (_shards[i].Range.Start != _shards[i - 1].Range.End + UInt128.One)
                    return false;
            return true;
        }
    }

    /// <summary>The shard whose range holds <paramref name="hashKey"/>; false when none does (a gap, or no shards).</summary>
    public bool TryFind(UInt128 hashKey, out ShardHashRange shard)
    {
        if (TryFindIndex(hashKey, out int index))
        {
            shard = _shards[index];
            return true;
        }
        shard = default;
        return false;
    }

    /// <summary>The index in <see cref="Shards"/> of the shard whose range holds <paramref name="hashKey"/>; false when none does.</summary>
    public bool TryFindIndex(UInt128 hashKey, out int index)
    {
        // The last shard starting at or below the key is the only one that may hold it: the ranges do not overlap.
        // A search by hand: Array.BinarySearch on UInt128 goes through a comparer per step, a cost a producer pays per record.
        int low = 0, high = _starts.Length - 1, at = -1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            if (_starts[middle] <= hashKey)
            {
                at = middle;
                low = middle + 1;
            }
            else
                high = middle - 1;
        }
        index = at;
        return at >= 0 && _shards[at].Range.Contains(hashKey);
    }

    /// <summary>The shard a record of these keys goes to; false when no shard holds its hash key.</summary>
    /// <exception cref="FormatException"><paramref name="explicitHashKey"/> is given and not a hash key.</exception>
    public bool TryFind(string partitionKey, string? explicitHashKey, out ShardHashRange shard) =>
        TryFind(HashKeys.Effective(partitionKey, explicitHashKey), out shard);
}
