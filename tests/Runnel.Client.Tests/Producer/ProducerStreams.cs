using Runnel.Client.Aggregation;
using Runnel.Client.Models;

namespace Runnel.Client.Tests.Producer;

/// <summary>A user record read back, with the shard it was read from and that shard's range.</summary>
public sealed record ReadBack(string ShardId, HashRange ShardRange, DeaggregatedRecord Record);

/// <summary>What the producer tests do to streams: make one, read every shard of it back whole.</summary>
public static class ProducerStreams
{
    public static async Task<string> CreateAsync(KinesisClient client, string prefix, int shards)
    {
        string stream = RunnelHost.UniqueName(prefix);
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = shards });
        await client.WaitForStreamActiveAsync(new DescribeStreamSummaryRequest { StreamName = stream }, TimeSpan.FromMilliseconds(20));
        return stream;
    }

    public static async Task<ShardMap> MapAsync(KinesisClient client, string stream)
    {
        var open = new List<(string, string, string)>();
        await foreach (var shard in client.ListAllShardsAsync(new ListShardsRequest { StreamName = stream }))
            if (!shard.IsClosed)
                open.Add((shard.ShardId, shard.HashKeyRange.StartingHashKey, shard.HashKeyRange.EndingHashKey));
        return ShardMap.FromListShards(open);
    }

    /// <summary>
    /// Every user record of every shard (closed ones included), in each shard's order; with <paramref name="filterByRange"/>,
    /// without the user records of an aggregate that the shard does not hold, as a KCL consumer reads them.
    /// </summary>
    public static async Task<List<ReadBack>> ReadAllAsync(KinesisClient client, string stream, bool filterByRange = true)
    {
        var all = new List<ReadBack>();
        await foreach (var shard in client.ListAllShardsAsync(new ListShardsRequest { StreamName = stream }))
        {
            var range = HashRange.Parse(shard.HashKeyRange.StartingHashKey, shard.HashKeyRange.EndingHashKey);
            string? iterator = (await client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TrimHorizon })).ShardIterator;
            while (iterator is not null)
            {
                var page = await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 });
                foreach (var record in page.Records)
                    foreach (var user in Deaggregator.Deaggregate(record.Data, record.PartitionKey ?? "", record.SequenceNumber, filterByRange ? range : null))
                        all.Add(new ReadBack(shard.ShardId, range, user));
                iterator = page.NextShardIterator;
                if (page.Records.Count == 0 && (page.MillisBehindLatest ?? 0) == 0 && !shard.IsClosed)
                    break;
            }
        }
        return all;
    }

    /// <summary>The first partition keys of the form <c>{prefix}-{n}</c> whose hash keys <paramref name="shardId"/> holds.</summary>
    public static List<string> KeysOf(ShardMap map, string shardId, string prefix, int count) =>
        Enumerable.Range(0, int.MaxValue)
            .Select(n => $"{prefix}-{n}")
            .Where(key => map.TryFind(key, null, out var shard) && shard.ShardId == shardId)
            .Take(count)
            .ToList();
}
