using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>
/// What an on-demand stream offers beyond its mode: UpdateStreamWarmThroughput (kept scaled for a write rate,
/// with the account's billing commitment) and UpdateStreamRecordDistributionStrategy (AUTO: the server places
/// records, partition keys optional). CreateStream and UpdateStreamMode take the same settings through
/// <see cref="CheckWarmThroughput"/> and <see cref="CheckDistribution"/>.
/// </summary>
internal static class CapacityOperations
{
    public static async ValueTask UpdateStreamWarmThroughput(KinesisRequest r)
    {
        string name = r.StreamName();
        int target = (int)r.Integer("WarmThroughputMiBps")!.Value;
        var before = r.Streams.Get(name);
        StreamOperations.RequireActive(r, before);
        if (before.Mode != StreamMode.OnDemand)
            throw KinesisErrors.InvalidArgument($"Warm throughput is only supported for streams in ON_DEMAND mode. Stream {KinesisRequest.Plain(name)} under account {r.AccountOf(name)} is in PROVISIONED mode.");
        int current = WarmThroughput.CurrentMiBps(before, r.Streams.Options.Limits);
        var stream = await ScaleForWarmThroughputAsync(r, name, target);
        var w = r.Response;
        w.StartObject();
        w.String("StreamARN", r.Streams.ArnOf(stream.Name));
        w.String("StreamName", stream.PlainName);
        w.StartObject("WarmThroughput");
        w.Number("TargetMiBps", target);
        w.Number("CurrentMiBps", current);
        w.EndObject();
        w.EndObject();
    }

    /// <summary>
    /// Sets a stream's warm throughput: the stream goes UPDATING and, when it has fewer open shards than the target
    /// needs, is split evenly up to them (as UpdateShardCount's UNIFORM_SCALING does, without its daily allowance).
    /// A lower target only lowers the floor the on-demand scaler keeps: capacity is released as traffic allows.
    /// The caller has checked that the stream is ACTIVE and on demand, or becoming so (UpdateStreamMode).
    /// </summary>
    public static async ValueTask<StreamInfo> ScaleForWarmThroughputAsync(KinesisRequest r, string name, int target)
    {
        var limits = r.Streams.Options.Limits;
        var stream = r.Streams.Get(name);
        CheckWarmThroughput(r, target);
        int needed = WarmThroughput.ShardsFor(target, limits);
        int open = stream.OpenShards.Count();
        if (needed > open)
        {
            int accountOpen = r.Streams.OpenShardCountIn(r.AccountOf(name));
            if (accountOpen + needed - open > r.Streams.Options.ShardLimit)
                throw StreamOperations.ShardLimitExceeded(r, name, accountOpen, needed - open);
            await r.Streams.ReshardAsync(name, current => current.OpenShards, // a uniform scale closes them all
                current => Resharding.UniformScale(current, Math.Max(needed, current.OpenShards.Count()), r.Streams.Now));
        }
        return r.Streams.Update(name, current =>
        {
            var warmed = current with { WarmThroughputMiBps = target };
            return current.Status == StreamStatus.Active ? r.Streams.BeginUpdate(warmed) : warmed;
        });
    }

    /// <summary>A warm throughput needs the account's billing commitment and stays within AWS's default maximum.</summary>
    public static void CheckWarmThroughput(KinesisRequest r, int target)
    {
        if (!r.Streams.SettingsOf(r.Account).Commitment.InForce)
            throw KinesisErrors.InvalidArgument(
                $"Warm throughput requires the minimum throughput billing commitment of account {r.Account} to be enabled (UpdateAccountSettings).");
        if (target > WarmThroughput.MaxMiBps)
            throw KinesisErrors.LimitExceeded($"WarmThroughputMiBps {target} is greater than the maximum of {WarmThroughput.MaxMiBps} MiBps.");
    }

    public static ValueTask UpdateStreamRecordDistributionStrategy(KinesisRequest r)
    {
        var distribution = StreamEnums.ParseDistribution(r.String("RecordDistributionStrategy")!);
        r.Streams.Update(r.StreamName(), stream =>
        {
            if (stream.Status is StreamStatus.Creating or StreamStatus.Deleting)
                throw KinesisErrors.StreamNotActive(stream.Name, r.Streams.AccountId, stream.Status.ToWire());
            CheckDistribution(r, stream.Name, stream.Mode, distribution);
            return stream with { Distribution = distribution }; // immediate, no UPDATING (as AWS documents)
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>AUTO is for on-demand streams only.</summary>
    public static void CheckDistribution(KinesisRequest r, string name, StreamMode mode, RecordDistribution distribution)
    {
        if (distribution == RecordDistribution.Auto && mode != StreamMode.OnDemand)
            throw KinesisErrors.InvalidArgument(
                $"The AUTO record distribution strategy is only supported for streams in ON_DEMAND mode. Stream {KinesisRequest.Plain(name)} under account {r.AccountOf(name)} is in PROVISIONED mode.");
    }
}
