using Runnel.Core.Errors;
using Runnel.Core.Hashing;
using Runnel.Core.Model;

namespace Runnel.Server.Kinesis;

/// <summary>SplitShard, MergeShards, UpdateShardCount and UpdateStreamMode, with AWS's checks in AWS's order.</summary>
internal static class ReshardOperations
{
    public const int MaxShardsPerStream = 10000;
    public const int MaxScalingsPerDay = 10;

    public static async ValueTask SplitShard(KinesisRequest r)
    {
        string key = r.StreamName();
        var (name, account) = r.Shown(key);
        string requested = r.String("ShardToSplit")!;
        int index = ResolveShard(requested, name, account);
        string hashKeyText = r.String("NewStartingHashKey")!;
        await r.Streams.ReshardAsync(key, stream => stream.FindShard(index) is { } parent ? [parent] : [], stream =>
        {
            RequireReshardable(r, stream);
            var shard = FindShard(stream, index, name, account);
            RequireOpen(shard, name, account);
            RequireShardCapacity(r, key, 1);
            var range = shard.HashKeyRange;
            if (!HashKey.TryParseDecimal(hashKeyText, out var hashKey) || hashKey <= range.Start + 1 || hashKey >= range.End)
                throw KinesisErrors.InvalidArgument(
                    $"NewStartingHashKey {hashKeyText} used in SplitShard() on shard {shard.ShardId} in stream {name} under account {account} " +
                    $"is not both greater than one plus the shard's StartingHashKey {range.StartingHashKey} and less than the shard's EndingHashKey {range.EndingHashKey}.");
            return Resharding.Split(stream, shard, hashKey, r.Streams.Now);
        });
        r.EmptyResponse = true;
    }

    public static async ValueTask MergeShards(KinesisRequest r)
    {
        string key = r.StreamName();
        var (name, account) = r.Shown(key);
        int first = ResolveShard(r.String("ShardToMerge")!, name, account);
        int second = ResolveShard(r.String("AdjacentShardToMerge")!, name, account);
        await r.Streams.ReshardAsync(key, stream => new[] { stream.FindShard(first), stream.FindShard(second) }.OfType<ShardInfo>(), stream =>
        {
            RequireReshardable(r, stream);
            var shard = FindShard(stream, first, name, account);
            var adjacent = FindShard(stream, second, name, account);
            RequireOpen(shard, name, account);
            RequireOpen(adjacent, name, account);
            // AWS wants the adjacent shard directly above the one to merge (an inverted pair is refused).
            if (first == second || shard.HashKeyRange.End == UInt128.MaxValue || shard.HashKeyRange.End + 1 != adjacent.HashKeyRange.Start)
                throw KinesisErrors.InvalidArgument(
                    $"Shards {shard.ShardId} and {adjacent.ShardId} in stream {name} under account {account} are not an adjacent pair of shards eligible for merging");
            return Resharding.Merge(stream, shard, adjacent, r.Streams.Now);
        });
        r.EmptyResponse = true;
    }

    public static async ValueTask UpdateShardCount(KinesisRequest r)
    {
        string key = r.StreamName();
        int target = (int)r.Integer("TargetShardCount")!.Value;
        int current = 0;
        var stream = await r.Streams.ReshardAsync(key, stream => stream.OpenShards /* a uniform scale closes them all */, stream =>
        {
            RequireReshardable(r, stream);
            current = stream.OpenShards.Count();
            string counts = $"Current open shard count: {current}, Target shard count: {target}";
            int limit = Math.Min(MaxShardsPerStream, r.Streams.Options.ShardLimit);
            if (target > limit || target - current > r.Streams.Options.ShardLimit - r.Streams.OpenShardCountIn(r.AccountOf(key)))
                throw KinesisErrors.LimitExceeded($"Target shard count or number of open shards cannot be greater than {limit}. {counts}");
            if (target > 2 * current)
                throw KinesisErrors.LimitExceeded($"UpdateShardCount cannot scale up over double your current open shard count. {counts}");
            if (2 * target < current)
                throw KinesisErrors.LimitExceeded($"UpdateShardCount cannot scale down below half your current open shard count. {counts}");
            if (!r.Streams.Scalings.TryRecord(stream, MaxScalingsPerDay))
                throw KinesisErrors.LimitExceeded(
                    $"Stream {KinesisRequest.Plain(key)} under account {r.AccountOf(key)} has already been scaled {MaxScalingsPerDay} times in the last 24 hours. {counts}");
            return Resharding.UniformScale(stream, target, r.Streams.Now);
        });
        var w = r.Response;
        w.StartObject();
        w.String("StreamName", stream.PlainName);
        w.Number("CurrentShardCount", current);
        w.Number("TargetShardCount", target);
        w.String("StreamARN", r.Streams.ArnOf(stream.Name));
        w.EndObject();
    }

    public static async ValueTask UpdateStreamMode(KinesisRequest r)
    {
        string name = r.StreamName();
        var mode = r.Member("StreamModeDetails")!.Value.GetProperty("StreamMode").GetString() == "ON_DEMAND" ? StreamMode.OnDemand : StreamMode.Provisioned;
        int? warm = (int?)r.Integer("WarmThroughputMiBps");
        if (warm is not null && mode != StreamMode.OnDemand)
            throw KinesisErrors.InvalidArgument("WarmThroughputMiBps is only valid when the stream mode is being updated to ON_DEMAND.");
        var before = r.Streams.Get(name);
        StreamOperations.RequireActive(r, before);
        if (mode == StreamMode.Provisioned && before.Distribution == RecordDistribution.Auto)
            throw KinesisErrors.InvalidArgument(
                $"Stream {KinesisRequest.Plain(name)} under account {r.AccountOf(name)} uses the AUTO record distribution strategy, which PROVISIONED mode does not support. Set USER_PARTITION_KEY first (UpdateStreamRecordDistributionStrategy).");
        if (warm is { } target)
            await CapacityOperations.ScaleForWarmThroughputAsync(r, name, target);
        r.Streams.Update(name, stream =>
        {
            if (warm is null)
                StreamOperations.RequireActive(r, stream);
            // Leaving ON_DEMAND drops the warm throughput (provisioned streams have none).
            var changed = stream with { Mode = mode, WarmThroughputMiBps = mode == StreamMode.OnDemand ? stream.WarmThroughputMiBps : null };
            return stream.Mode == mode ? stream : stream.Status == StreamStatus.Active ? r.Streams.BeginUpdate(changed) : changed;
        });
        r.EmptyResponse = true;
    }

    /// <summary>AWS's reading of a shard id (digits after the first '-'); a malformed one is "not found".</summary>
    private static int ResolveShard(string text, string stream, string account) =>
        RecordOperations.TryNormalizeShardId(text, out int index)
            ? index
            : throw KinesisErrors.ResourceNotFound($"Could not find shard {text} in stream {stream} under account {account}.");

    private static ShardInfo FindShard(StreamInfo stream, int index, string name, string account) =>
        stream.FindShard(index) ?? throw KinesisErrors.ResourceNotFound($"Could not find shard {ShardId.Format(index)} in stream {name} under account {account}.");

    private static void RequireReshardable(KinesisRequest r, StreamInfo stream)
    {
        StreamOperations.RequireActive(r, stream);
        if (stream.Mode == StreamMode.OnDemand)
            throw KinesisErrors.Validation($"Request is invalid. Stream {stream.PlainName} under account {r.AccountOf(stream.Name)} is in On-Demand mode.");
    }

    private static void RequireOpen(ShardInfo shard, string name, string account)
    {
        if (!shard.IsOpen)
            throw KinesisErrors.InvalidArgument(
                $"Shard {shard.ShardId} in stream {name} under account {account} has already been merged or split, and thus is not eligible for merging or splitting.");
    }

    private static void RequireShardCapacity(KinesisRequest r, string stream, int additional)
    {
        int open = r.Streams.OpenShardCountIn(r.AccountOf(stream));
        if (open + additional > r.Streams.Options.ShardLimit)
            throw StreamOperations.ShardLimitExceeded(r, stream, open, additional);
    }
}
