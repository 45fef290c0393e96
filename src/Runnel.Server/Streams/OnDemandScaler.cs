using System.Collections.Concurrent;
using Runnel.Core.Model;

namespace Runnel.Server.Streams;

/// <summary>
/// Scales ON_DEMAND streams by their measured write rates (<see cref="OnDemandPolicy"/>), with the same
/// splits and merges a client could ask for, so the result shows in ListShards exactly as a manual
/// reshard does. Rates come from the per-shard throughput counters, counting throttled records too (a
/// throttled shard is a hot shard). Thread-safe; <see cref="ScaleOnce"/> runs on a timer and in tests.
/// </summary>
public sealed class OnDemandScaler(StreamService streams, OnDemandPolicy policy, Action<string> log)
{
    private readonly ConcurrentDictionary<(long Stream, int Shard), Queue<(long Millis, long Bytes, long Records)>> _samples = new();
    private readonly ConcurrentDictionary<long, DateTimeOffset> _lastScaled = new();
    private readonly ConcurrentDictionary<long, DateTimeOffset> _coldSince = new();
    private readonly Lock _pass = new();

    public OnDemandPolicy Policy => policy;

    /// <summary>One look at every ON_DEMAND stream; returns how many reshards it made.</summary>
    public int ScaleOnce()
    {
        lock (_pass)
        {
            int changes = 0;
            foreach (var stream in streams.All.Where(s => s.Mode == StreamMode.OnDemand && s.Status == StreamStatus.Active).ToList())
            {
                try
                {
                    changes += ScaleStream(stream) ? 1 : 0;
                }
                catch (Core.Errors.KinesisException e)
                {
                    log($"On-demand scaling of {stream.Name} skipped: {e.Message}");
                }
            }
            return changes;
        }
    }

    private bool ScaleStream(StreamInfo stream)
    {
        var now = streams.Now;
        long nowMillis = now.ToUnixTimeMilliseconds();
        var limits = streams.Options.Limits;
        var open = stream.OpenShards.OrderBy(s => s.HashKeyRange.Start).ToList();
        var utilization = new Dictionary<int, double>();
        foreach (var shard in open)
        {
            var counters = streams.Shard(stream, shard).Throughput.Counters;
            var samples = _samples.GetOrAdd((stream.Id, shard.Index), _ => new Queue<(long, long, long)>());
            samples.Enqueue((nowMillis, counters.AttemptedBytesIn, counters.AttemptedRecordsIn));
            while (samples.Count > 1 && nowMillis - samples.Peek().Millis > policy.Window.TotalMilliseconds)
                samples.Dequeue();
            var oldest = samples.Peek();
            double seconds = (nowMillis - oldest.Millis) / 1000.0;
            utilization[shard.Index] = seconds <= 0 ? 0 : Math.Max(
                (counters.AttemptedBytesIn - oldest.Bytes) / seconds / limits.WriteBytesPerSecond,
                (counters.AttemptedRecordsIn - oldest.Records) / seconds / limits.WriteRecordsPerSecond);
        }
        if (_lastScaled.TryGetValue(stream.Id, out var last) && now - last < policy.Cooldown)
            return false;

        var hottest = open.MaxBy(s => utilization[s.Index])!;
        if (utilization[hottest.Index] >= policy.ScaleUpAt && streams.OpenShardCount < streams.Options.ShardLimit)
        {
            var range = hottest.HashKeyRange;
            var middle = range.Start + (range.End - range.Start) / 2 + 1;
            Reshard(stream.Name, current => current.FindShard(hottest.Index) is { } parent ? [parent] : [],
                current => current.Status == StreamStatus.Active && current.FindShard(hottest.Index) is { IsOpen: true } shard
                    ? Resharding.Split(current, shard, middle, streams.Now)
                    : throw Core.Errors.KinesisErrors.ResourceInUse("the stream changed meanwhile"));
            log($"On-demand stream {stream.Name}: {hottest.ShardId} at {utilization[hottest.Index]:P0} of its write capacity; split it in two.");
            Scaled(stream.Id, now);
            return true;
        }

        double total = open.Sum(s => utilization[s.Index]) / open.Count;
        if (total >= policy.ScaleDownBelow || open.Count <= WarmThroughput.Floor(stream, policy.MinShards, limits))
        {
            _coldSince.TryRemove(stream.Id, out _);
            return false;
        }
        var coldSince = _coldSince.GetOrAdd(stream.Id, now);
        if (now - coldSince < policy.ScaleDownAfter)
            return false;
        var pair = open.Zip(open.Skip(1)).MinBy(p => utilization[p.First.Index] + utilization[p.Second.Index]);
        Reshard(stream.Name, current => new[] { current.FindShard(pair.First.Index), current.FindShard(pair.Second.Index) }.OfType<ShardInfo>(),
            current => current.Status == StreamStatus.Active
                && current.FindShard(pair.First.Index) is { IsOpen: true } a && current.FindShard(pair.Second.Index) is { IsOpen: true } b
                    ? Resharding.Merge(current, a, b, streams.Now)
                    : throw Core.Errors.KinesisErrors.ResourceInUse("the stream changed meanwhile"));
        log($"On-demand stream {stream.Name}: at {total:P0} of its write capacity for {policy.ScaleDownAfter}; merged {pair.First.ShardId} and {pair.Second.ShardId}.");
        Scaled(stream.Id, now);
        return true;
    }

    /// <summary>The shared reshard path (its parents' logs opened before the catalog's lock), waited for: a scaling pass
    /// runs on the server's timer, one at a time.</summary>
    private void Reshard(string name, Func<StreamInfo, IEnumerable<ShardInfo>> closing, Func<StreamInfo, ReshardPlan> plan) =>
        streams.ReshardAsync(name, closing, plan).AsTask().GetAwaiter().GetResult();

    private void Scaled(long streamId, DateTimeOffset now)
    {
        _lastScaled[streamId] = now;
        _coldSince.TryRemove(streamId, out _);
    }
}
