namespace Runnel.Storage.JetStream;

/// <summary>How the JetStream backend keeps shard logs.</summary>
public sealed record JetStreamSettings
{
    /// <summary>JetStream's replication of every stream: 1, 3 or 5 (<c>--replicas</c>).</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>How long JetStream remembers a message id: a publish retried within it is stored once.</summary>
    public TimeSpan DuplicateWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The server's one clock: arrival times come from it.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>How often a log that has listeners re-reads its tip, behind the notices of other writers (which may
    /// be lost); <see cref="Timeout.InfiniteTimeSpan"/> for never.</summary>
    public TimeSpan TipPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>This node's part of every message id; unique per process so that two nodes' appends never collide.</summary>
    public string WriterId { get; init; } = Guid.NewGuid().ToString("N")[..16];
}
