namespace Runnel.Client.Models;

/// <summary>Where an iterator or a subscription starts.</summary>
public enum ShardIteratorType
{
    /// <summary>At the oldest record kept (<c>TRIM_HORIZON</c>).</summary>
    TrimHorizon,

    /// <summary>After the newest record: only records put later (<c>LATEST</c>).</summary>
    Latest,

    /// <summary>At a given sequence number (<c>AT_SEQUENCE_NUMBER</c>).</summary>
    AtSequenceNumber,

    /// <summary>Just after a given sequence number (<c>AFTER_SEQUENCE_NUMBER</c>).</summary>
    AfterSequenceNumber,

    /// <summary>At the first record that arrived at or after a given time (<c>AT_TIMESTAMP</c>).</summary>
    AtTimestamp,
}

/// <summary>A GetShardIterator request: the stream (by name or ARN), the shard, and where to start.</summary>
public sealed record GetShardIteratorRequest
{
    /// <summary>The stream's name (or give <see cref="StreamARN"/>).</summary>
    public string? StreamName { get; init; }

    /// <summary>The stream's ARN (or give <see cref="StreamName"/>).</summary>
    public string? StreamARN { get; init; }

    /// <summary>The shard.</summary>
    public required string ShardId { get; init; }

    /// <summary>Where to start.</summary>
    public required ShardIteratorType ShardIteratorType { get; init; }

    /// <summary>The sequence number, for <see cref="ShardIteratorType.AtSequenceNumber"/> and <see cref="ShardIteratorType.AfterSequenceNumber"/>.</summary>
    public string? StartingSequenceNumber { get; init; }

    /// <summary>The time, for <see cref="ShardIteratorType.AtTimestamp"/>.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>The answer of GetShardIterator.</summary>
/// <param name="ShardIterator">The iterator, valid for 5 minutes.</param>
public sealed record GetShardIteratorResponse(string ShardIterator);

/// <summary>The sequence numbers of a shard's records: its first, and its last once it is closed.</summary>
/// <param name="StartingSequenceNumber">The shard's first sequence number.</param>
/// <param name="EndingSequenceNumber">The closed shard's last sequence number; null while the shard is open.</param>
public sealed record SequenceNumberRange(string StartingSequenceNumber, string? EndingSequenceNumber);

/// <summary>A shard of a stream.</summary>
/// <param name="ShardId">The shard's id (<c>shardId-000000000000</c>).</param>
/// <param name="ParentShardId">The shard it was split from or merged from, if any.</param>
/// <param name="AdjacentParentShardId">The other parent of a merge, if any.</param>
/// <param name="HashKeyRange">Its hash keys.</param>
/// <param name="SequenceNumberRange">Its sequence numbers.</param>
public sealed record Shard(string ShardId, string? ParentShardId, string? AdjacentParentShardId, HashKeyRange HashKeyRange, SequenceNumberRange SequenceNumberRange)
{
    /// <summary>Whether the shard is closed (has an ending sequence number).</summary>
    public bool IsClosed => SequenceNumberRange.EndingSequenceNumber is not null;
}

/// <summary>Which shards ListShards returns.</summary>
public enum ShardFilterType
{
    /// <summary>Shards after <see cref="ShardFilter.ShardId"/> (<c>AFTER_SHARD_ID</c>).</summary>
    AfterShardId,

    /// <summary>Shards open at the trim horizon (<c>AT_TRIM_HORIZON</c>).</summary>
    AtTrimHorizon,

    /// <summary>All shards from the trim horizon on (<c>FROM_TRIM_HORIZON</c>).</summary>
    FromTrimHorizon,

    /// <summary>The open shards (<c>AT_LATEST</c>).</summary>
    AtLatest,

    /// <summary>Shards open at <see cref="ShardFilter.Timestamp"/> (<c>AT_TIMESTAMP</c>).</summary>
    AtTimestamp,

    /// <summary>Shards open at or after <see cref="ShardFilter.Timestamp"/> (<c>FROM_TIMESTAMP</c>).</summary>
    FromTimestamp,
}

/// <summary>A filter of ListShards.</summary>
public sealed record ShardFilter
{
    /// <summary>The kind of filter.</summary>
    public required ShardFilterType Type { get; init; }

    /// <summary>The shard, for <see cref="ShardFilterType.AfterShardId"/>.</summary>
    public string? ShardId { get; init; }

    /// <summary>The time, for <see cref="ShardFilterType.AtTimestamp"/> and <see cref="ShardFilterType.FromTimestamp"/>.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>A ListShards request: a stream (by name or ARN), or the <see cref="NextToken"/> of the previous page alone.</summary>
public sealed record ListShardsRequest
{
    /// <summary>The stream's name (not with <see cref="NextToken"/>).</summary>
    public string? StreamName { get; init; }

    /// <summary>The stream's ARN (not with <see cref="NextToken"/>).</summary>
    public string? StreamARN { get; init; }

    /// <summary>The previous page's token; given alone.</summary>
    public string? NextToken { get; init; }

    /// <summary>List shards after this one.</summary>
    public string? ExclusiveStartShardId { get; init; }

    /// <summary>The most shards per page (1 to 10,000; default 1,000).</summary>
    public int? MaxResults { get; init; }

    /// <summary>Which incarnation of a stream name is meant.</summary>
    public DateTimeOffset? StreamCreationTimestamp { get; init; }

    /// <summary>Which shards to list.</summary>
    public ShardFilter? ShardFilter { get; init; }
}

/// <summary>A page of ListShards.</summary>
/// <param name="Shards">The shards of this page.</param>
/// <param name="NextToken">The token of the next page; null on the last.</param>
public sealed record ListShardsResponse(IReadOnlyList<Shard> Shards, string? NextToken);
