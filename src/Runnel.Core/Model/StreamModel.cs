namespace Runnel.Core.Model;

public enum StreamStatus { Creating, Deleting, Active, Updating }

public enum StreamMode { Provisioned, OnDemand }

/// <summary>How records find their shard: by their partition key (the default), or spread by the server (AUTO, on-demand streams).</summary>
public enum RecordDistribution { UserPartitionKey, Auto }

public static class StreamEnums
{
    public static string ToWire(this StreamStatus status) => status switch
    {
        StreamStatus.Creating => "CREATING",
        StreamStatus.Deleting => "DELETING",
        StreamStatus.Active => "ACTIVE",
        StreamStatus.Updating => "UPDATING",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static string ToWire(this StreamMode mode) => mode == StreamMode.OnDemand ? "ON_DEMAND" : "PROVISIONED";

    public static string ToWire(this RecordDistribution distribution) => distribution == RecordDistribution.Auto ? "AUTO" : "USER_PARTITION_KEY";

    public static RecordDistribution ParseDistribution(string wire) => wire == "AUTO" ? RecordDistribution.Auto : RecordDistribution.UserPartitionKey;
}

/// <summary>One shard of a stream as the metadata store keeps it. Immutable; a change makes a new value.</summary>
public sealed record ShardInfo(
    int Index,
    HashKeyRange HashKeyRange,
    // The reshard generation that created the shard (0 for the shards of CreateStream).
    long Epoch,
    int? ParentIndex,
    int? AdjacentParentIndex,
    // Set when the shard is closed by a reshard: the offset one past its last record.
    ulong? EndOffset,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosedAt)
{
    public string ShardId => Model.ShardId.Format(Index);

    public bool IsOpen => EndOffset is null;

    public long CreatedSeconds => CreatedAt.ToUnixTimeSeconds();

    /// <summary>
    /// The shard time its sequence numbers encode: its creation time, raised above its parents' (see
    /// <see cref="Resharding"/>) so that every child sequence number sorts above every parent one.
    /// </summary>
    public long SequenceSeconds { get; init; } = CreatedAt.ToUnixTimeSeconds();

    /// <summary>
    /// True for a shard created before metadata schema 4, whose records clients may know by Runnel's former
    /// 43-digit sequence numbers: those are still accepted where a sequence number is (checkpoints survive the upgrade).
    /// </summary>
    public bool AcceptsLegacySequenceNumbers { get; init; }

    public SequenceNumber StartingSequenceNumber => new(SequenceSeconds, Index, 0, CreatedSeconds);

    /// <summary>The sequence number of the record at <paramref name="offset"/>, which arrived at <paramref name="arrivalMillis"/>.</summary>
    public SequenceNumber SequenceOf(ulong offset, long arrivalMillis) => new(SequenceSeconds, Index, offset + 1, arrivalMillis / 1000);

    /// <summary>
    /// A closed shard's EndingSequenceNumber: its last record's counter with the closing time, so that it is at or
    /// above every record of the shard and below every record of its children.
    /// </summary>
    public SequenceNumber? EndingSequenceNumber => EndOffset is { } end ? new(SequenceSeconds, Index, end, (ClosedAt ?? CreatedAt).ToUnixTimeSeconds()) : null;
}

/// <summary>A stream as the metadata store keeps it. Immutable; a change makes a new value.</summary>
public sealed record StreamInfo(
    string Name,
    // Unique per incarnation of the name: a deleted and recreated stream gets a new id.
    long Id,
    StreamStatus Status,
    StreamMode Mode,
    int RetentionHours,
    DateTimeOffset CreatedAt,
    // When the current status ends (CREATING → ACTIVE, DELETING → gone), if it is transitional.
    DateTimeOffset? StatusUntil,
    IReadOnlyList<ShardInfo> Shards,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> EnhancedMetrics,
    long Epoch)
{
    /// <summary>The stream's own name, as clients know it: <see cref="Name"/> is the name it is held under, which for a
    /// stream of another account than the server's carries that account (<see cref="StreamNames"/>).</summary>
    public string PlainName => StreamNames.Plain(Name);

    /// <summary>The largest record the stream accepts, KiB: 1024 (1 MiB) to 10240 (10 MiB).</summary>
    public int MaxRecordSizeKiB { get; init; } = DefaultMaxRecordSizeKiB;

    public const int DefaultMaxRecordSizeKiB = 1024;

    /// <summary>How records find their shard (RecordDistributionStrategy).</summary>
    public RecordDistribution Distribution { get; init; } = RecordDistribution.UserPartitionKey;

    /// <summary>The write throughput, MiB/s, an on-demand stream is kept scaled for (warm throughput); null when none was asked.</summary>
    public int? WarmThroughputMiBps { get; init; }

    /// <summary>The resource-based policy attached by PutResourcePolicy (an IAM JSON document), or null.</summary>
    public string? ResourcePolicy { get; init; }

    /// <summary>
    /// A reshard asked for while the stream is UPDATING, applied when it returns to ACTIVE (as AWS shows it: the
    /// parents stay open and take the writes until then, the children appear at the switch); null for none.
    /// </summary>
    public ReshardPlan? PendingReshard { get; init; }

    /// <summary>How the stream's records are encrypted at rest (StartStreamEncryption), or null when they never were.</summary>
    public AtRestEncryption? Encryption { get; init; }

    /// <summary>
    /// The metadata store's revision of this stream's document when this copy was read or written (a cluster's
    /// key-value revision; always 0 on the embedded store, which has one writer): a change decided from this copy is
    /// stored only if the stored document is still at this revision.
    /// </summary>
    public ulong Revision { get; init; }

    public IEnumerable<ShardInfo> OpenShards => Shards.Where(s => s.IsOpen);

    /// <summary>
    /// The shards AWS lists: open ones, and closed ones that may still hold unexpired records (closed
    /// less than the retention period ago). Older closed shards disappear from listings.
    /// </summary>
    public IEnumerable<ShardInfo> ListedShards(DateTimeOffset now) =>
        Shards.Where(s => s.ClosedAt is not { } closed || closed > now - TimeSpan.FromHours(RetentionHours));

    /// <summary>The shard of this index, or null. Shards are kept in the order of their indexes (each new one the next
    /// index), so this is a binary search (a shard's index is its place until closed shards are dropped); an unsorted
    /// list is searched through.</summary>
    public ShardInfo? FindShard(int index)
    {
        var shards = Shards;
        if ((uint)index < (uint)shards.Count && shards[index].Index == index)
            return shards[index];
        int low = 0, high = shards.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            int at = shards[middle].Index;
            if (at == index)
                return shards[middle];
            if (at < index)
                low = middle + 1;
            else
                high = middle - 1;
        }
        for (int i = 0; i < shards.Count; i++)
            if (shards[i].Index == index)
                return shards[i];
        return null;
    }
}
