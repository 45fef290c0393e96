namespace Runnel.Client.Models;

/// <summary>A PutRecord request: one record to one stream, named by <see cref="StreamName"/> or <see cref="StreamARN"/>.</summary>
public sealed record PutRecordRequest
{
    /// <summary>The stream's name (or give <see cref="StreamARN"/>).</summary>
    public string? StreamName { get; init; }

    /// <summary>The stream's ARN (or give <see cref="StreamName"/>).</summary>
    public string? StreamARN { get; init; }

    /// <summary>The record's bytes (at most 1 MiB with the partition key).</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The partition key, whose MD5 picks the shard unless <see cref="ExplicitHashKey"/> is given.</summary>
    public required string PartitionKey { get; init; }

    /// <summary>A 128-bit hash key in decimal that picks the shard instead of the partition key's MD5.</summary>
    public string? ExplicitHashKey { get; init; }

    /// <summary>A sequence number the record's must follow (strict ordering of one partition key's records).</summary>
    public string? SequenceNumberForOrdering { get; init; }
}

/// <summary>Where a record was stored.</summary>
/// <param name="ShardId">The shard the record went to.</param>
/// <param name="SequenceNumber">The record's sequence number in its shard.</param>
/// <param name="EncryptionType"><c>KMS</c> when the stream encrypts records, <c>NONE</c> or null otherwise.</param>
public sealed record PutRecordResponse(string ShardId, string SequenceNumber, string? EncryptionType);

/// <summary>One record of a PutRecords request.</summary>
public sealed record PutRecordsRequestEntry
{
    /// <summary>The record's bytes.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The partition key.</summary>
    public required string PartitionKey { get; init; }

    /// <summary>A 128-bit hash key in decimal that picks the shard instead of the partition key's MD5.</summary>
    public string? ExplicitHashKey { get; init; }
}

/// <summary>A PutRecords request: up to 500 records (5 MiB) to one stream.</summary>
public sealed record PutRecordsRequest
{
    /// <summary>The stream's name (or give <see cref="StreamARN"/>).</summary>
    public string? StreamName { get; init; }

    /// <summary>The stream's ARN (or give <see cref="StreamName"/>).</summary>
    public string? StreamARN { get; init; }

    /// <summary>The records, in order.</summary>
    public required IReadOnlyList<PutRecordsRequestEntry> Records { get; init; }
}

/// <summary>The outcome of one record of a PutRecords request: a sequence number and shard, or an error.</summary>
/// <param name="SequenceNumber">The record's sequence number, when it was stored.</param>
/// <param name="ShardId">The record's shard, when it was stored.</param>
/// <param name="ErrorCode">Why it was not stored (<c>ProvisionedThroughputExceededException</c>, <c>InternalFailure</c>), or null.</param>
/// <param name="ErrorMessage">The error's message, or null.</param>
public sealed record PutRecordsResultEntry(string? SequenceNumber, string? ShardId, string? ErrorCode, string? ErrorMessage)
{
    /// <summary>Whether the record was stored.</summary>
    public bool Succeeded => ErrorCode is null;
}

/// <summary>The outcome of a PutRecords request; records that failed are not retried by the client.</summary>
/// <param name="FailedRecordCount">How many records were not stored.</param>
/// <param name="Records">One entry per record of the request, in its order.</param>
/// <param name="EncryptionType"><c>KMS</c> when the stream encrypts records, <c>NONE</c> or null otherwise.</param>
public sealed record PutRecordsResponse(int FailedRecordCount, IReadOnlyList<PutRecordsResultEntry> Records, string? EncryptionType);

/// <summary>A GetRecords request.</summary>
public sealed record GetRecordsRequest
{
    /// <summary>The iterator (from GetShardIterator, or the previous call's <see cref="GetRecordsResponse.NextShardIterator"/>).</summary>
    public required string ShardIterator { get; init; }

    /// <summary>The most records to return (at most 10,000); default the service's.</summary>
    public int? Limit { get; init; }

    /// <summary>The stream's ARN, for access control by ARN; optional.</summary>
    public string? StreamARN { get; init; }
}

/// <summary>A record as read.</summary>
/// <param name="SequenceNumber">The record's sequence number in its shard.</param>
/// <param name="ApproximateArrivalTimestamp">When the service stored it.</param>
/// <param name="Data">The record's bytes, exactly as put.</param>
/// <param name="PartitionKey">The partition key it was put with.</param>
/// <param name="EncryptionType"><c>KMS</c> when it was stored encrypted, else null or <c>NONE</c>.</param>
public sealed record Record(string SequenceNumber, DateTimeOffset? ApproximateArrivalTimestamp, byte[] Data, string? PartitionKey, string? EncryptionType);

/// <summary>A range of 128-bit hash keys, in decimal, both ends included.</summary>
/// <param name="StartingHashKey">The lowest key.</param>
/// <param name="EndingHashKey">The highest key.</param>
public sealed record HashKeyRange(string StartingHashKey, string EndingHashKey);

/// <summary>A shard that a closed shard's records continue in (after a split or a merge).</summary>
/// <param name="ShardId">The child's id.</param>
/// <param name="ParentShards">Its parents (one after a split, two after a merge).</param>
/// <param name="HashKeyRange">Its hash keys.</param>
public sealed record ChildShard(string ShardId, IReadOnlyList<string> ParentShards, HashKeyRange HashKeyRange);

/// <summary>The answer of GetRecords.</summary>
/// <param name="Records">The records read (possibly none).</param>
/// <param name="NextShardIterator">The iterator for the next call; null when the shard is closed and read to its end.</param>
/// <param name="MillisBehindLatest">How far behind the shard's tip the read is, in milliseconds.</param>
/// <param name="ChildShards">At a closed shard's end, its children; else empty.</param>
public sealed record GetRecordsResponse(IReadOnlyList<Record> Records, string? NextShardIterator, long? MillisBehindLatest, IReadOnlyList<ChildShard> ChildShards);
