using Runnel.Core.Model;
using Runnel.Core.Throughput;

namespace Runnel.Server.Streams;

/// <summary>
/// Warm throughput in shards: an on-demand stream kept scaled for a write rate in MiB/s holds at least as many
/// open shards as that rate needs at the per-shard write limit (1 MiB/s unless --shard-write-bytes says
/// otherwise). The on-demand scaler never merges below it.
/// </summary>
public static class WarmThroughput
{
    /// <summary>The most AWS accepts by default (10 GiB/s).</summary>
    public const int MaxMiBps = 10240;

    private const double MiB = 1024 * 1024;

    /// <summary>The open shards a target needs (at least one).</summary>
    public static int ShardsFor(int targetMiBps, ThroughputLimits limits) =>
        Math.Max(1, (int)Math.Ceiling(targetMiBps * MiB / limits.WriteBytesPerSecond));

    /// <summary>What the stream's open shards can take now, MiB/s (CurrentMiBps).</summary>
    public static int CurrentMiBps(StreamInfo stream, ThroughputLimits limits) =>
        (int)Math.Floor(stream.OpenShards.Count() * limits.WriteBytesPerSecond / MiB);

    /// <summary>The fewest open shards the on-demand scaler may leave the stream with.</summary>
    public static int Floor(StreamInfo stream, int minShards, ThroughputLimits limits) =>
        stream.WarmThroughputMiBps is { } target ? Math.Max(minShards, ShardsFor(target, limits)) : minShards;
}
