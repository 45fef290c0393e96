namespace Runnel.Server.Streams;

/// <summary>
/// How ON_DEMAND streams scale themselves. A shard whose write rate over <see cref="Window"/> reaches
/// <see cref="ScaleUpAt"/> of its capacity (bytes or records, whichever is nearer) is split in two; when a
/// stream's write rate stays below <see cref="ScaleDownBelow"/> of its capacity for <see cref="ScaleDownAfter"/>,
/// its coldest adjacent pair of shards is merged, never below <see cref="MinShards"/>. After any change the
/// stream is left alone for <see cref="Cooldown"/>.
/// </summary>
public sealed record OnDemandPolicy
{
    /// <summary>The period over which write rates are measured.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the scaler looks at the streams.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Fraction of a shard's write capacity at which it is split.</summary>
    public double ScaleUpAt { get; init; } = 0.8;

    /// <summary>Fraction of a stream's write capacity under which it may shrink.</summary>
    public double ScaleDownBelow { get; init; } = 0.2;

    /// <summary>How long a stream must stay under <see cref="ScaleDownBelow"/> before it shrinks.</summary>
    public TimeSpan ScaleDownAfter { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Quiet time after a scaling of a stream before the next.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The fewest shards of an ON_DEMAND stream (AWS starts them with 4).</summary>
    public int MinShards { get; init; } = 4;
}
