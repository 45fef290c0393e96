using Runnel.Client.Aggregation;
using Runnel.Client.Models;

namespace Runnel.Client.Producer;

/// <summary>
/// What the producer knows of a stream's shards from one ListShards reading: the map of open shards it aggregates by,
/// and the hash-key range of every shard listed, open or closed, to tell which user records of an aggregate that
/// landed on another shard than predicted that shard holds. Immutable.
/// </summary>
internal sealed class ShardTopology
{
    private ShardTopology(ShardMap open, Dictionary<string, HashRange> all)
    {
        Open = open;
        All = all;
    }

    /// <summary>The open shards.</summary>
    public ShardMap Open { get; }

    /// <summary>Every shard listed, by id.</summary>
    public IReadOnlyDictionary<string, HashRange> All { get; }

    /// <summary>Reads the stream's shards.</summary>
    public static async Task<ShardTopology> LoadAsync(KinesisClient client, string streamName, CancellationToken cancellationToken)
    {
        var open = new List<(string, string, string)>();
        var all = new Dictionary<string, HashRange>(StringComparer.Ordinal);
        await foreach (var shard in client.ListAllShardsAsync(new ListShardsRequest { StreamName = streamName }, cancellationToken).ConfigureAwait(false))
        {
            all[shard.ShardId] = HashRange.Parse(shard.HashKeyRange.StartingHashKey, shard.HashKeyRange.EndingHashKey);
            if (!shard.IsClosed)
                open.Add((shard.ShardId, shard.HashKeyRange.StartingHashKey, shard.HashKeyRange.EndingHashKey));
        }
        return new ShardTopology(ShardMap.FromListShards(open), all);
    }

    /// <summary>Whether <paramref name="other"/> has the same open shards with the same ranges.</summary>
    public bool SameOpenShards(ShardTopology other) => Open.Shards.SequenceEqual(other.Open.Shards);
}
