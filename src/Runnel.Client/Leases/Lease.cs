namespace Runnel.Client.Leases;

/// <summary>
/// One shard's lease in an application's lease table, with the attributes the KCL keeps (docs/formats/kcl-leases.md):
/// who holds it and how often it has been renewed (<see cref="LeaseCounter"/>: a holder renews by adding 1, so a
/// counter that stops moving means the holder is gone), where processing has reached, and the shard's place in the
/// stream's lineage. A Java KCL worker and a Runnel.Client worker read and write the same items.
/// </summary>
public sealed record Lease
{
    /// <summary>The lease's key: the shard id (the KCL's single-stream form).</summary>
    public required string LeaseKey { get; init; }

    /// <summary>The worker holding the lease; null when nobody does.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>Raised by 1 by every renewal, take and checkpoint; conditional writes expect the value last read.</summary>
    public long LeaseCounter { get; init; }

    /// <summary>Where processing has reached: the last record processed, or where to start (a sentinel).</summary>
    public ExtendedSequenceNumber Checkpoint { get; init; } = ExtendedSequenceNumber.TrimHorizon;

    /// <summary>A checkpoint asked for but not yet made (two-phase checkpoints); null for none.</summary>
    public ExtendedSequenceNumber? PendingCheckpoint { get; init; }

    /// <summary>How many times the lease changed hands since its last checkpoint.</summary>
    public long OwnerSwitchesSinceCheckpoint { get; init; }

    /// <summary>The shards this one was split or merged from; processed to their end before this one.</summary>
    public IReadOnlyList<string> ParentShardIds { get; init; } = [];

    /// <summary>The shards made from this one by a reshard, known once it ended.</summary>
    public IReadOnlyList<string> ChildShardIds { get; init; } = [];

    /// <summary>The first hash key of the shard's range (decimal), when known.</summary>
    public string? StartingHashKey { get; init; }

    /// <summary>The last hash key of the shard's range (decimal), when known.</summary>
    public string? EndingHashKey { get; init; }

    /// <summary>Whether the shard is wholly processed (checkpointed at SHARD_END).</summary>
    public bool IsFinished => Checkpoint.IsShardEnd;
}
