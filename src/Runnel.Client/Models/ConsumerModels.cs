namespace Runnel.Client.Models;

/// <summary>A registered (enhanced fan-out) consumer of a stream.</summary>
/// <param name="ConsumerName">The consumer's name.</param>
/// <param name="ConsumerARN">The consumer's ARN, which SubscribeToShard names.</param>
/// <param name="ConsumerStatus"><c>CREATING</c>, <c>DELETING</c> or <c>ACTIVE</c>.</param>
/// <param name="ConsumerCreationTimestamp">When it was registered.</param>
/// <param name="StreamARN">The stream's ARN (in DescribeStreamConsumer's answer).</param>
public sealed record Consumer(string ConsumerName, string ConsumerARN, string ConsumerStatus, DateTimeOffset? ConsumerCreationTimestamp, string? StreamARN);

/// <summary>A RegisterStreamConsumer request.</summary>
public sealed record RegisterStreamConsumerRequest
{
    /// <summary>The stream's ARN.</summary>
    public required string StreamARN { get; init; }

    /// <summary>The new consumer's name, unique in the stream.</summary>
    public required string ConsumerName { get; init; }
}

/// <summary>The answer of RegisterStreamConsumer.</summary>
/// <param name="Consumer">The consumer, <c>CREATING</c> at first.</param>
public sealed record RegisterStreamConsumerResponse(Consumer Consumer);

/// <summary>A consumer named by its ARN, or by its stream's ARN and its name: for DescribeStreamConsumer and DeregisterStreamConsumer.</summary>
public sealed record StreamConsumerRequest
{
    /// <summary>The stream's ARN (with <see cref="ConsumerName"/>).</summary>
    public string? StreamARN { get; init; }

    /// <summary>The consumer's name (with <see cref="StreamARN"/>).</summary>
    public string? ConsumerName { get; init; }

    /// <summary>The consumer's ARN (alone).</summary>
    public string? ConsumerARN { get; init; }
}

/// <summary>The answer of DescribeStreamConsumer.</summary>
/// <param name="ConsumerDescription">The consumer.</param>
public sealed record DescribeStreamConsumerResponse(Consumer ConsumerDescription);

/// <summary>A ListStreamConsumers request.</summary>
public sealed record ListStreamConsumersRequest
{
    /// <summary>The stream's ARN.</summary>
    public required string StreamARN { get; init; }

    /// <summary>The previous page's token.</summary>
    public string? NextToken { get; init; }

    /// <summary>The most consumers per page.</summary>
    public int? MaxResults { get; init; }

    /// <summary>Which incarnation of the stream is meant.</summary>
    public DateTimeOffset? StreamCreationTimestamp { get; init; }
}

/// <summary>A page of ListStreamConsumers.</summary>
/// <param name="Consumers">The consumers of this page.</param>
/// <param name="NextToken">The token of the next page; null on the last.</param>
public sealed record ListStreamConsumersResponse(IReadOnlyList<Consumer> Consumers, string? NextToken);

/// <summary>Where a subscription starts.</summary>
public sealed record StartingPosition
{
    /// <summary>The kind of position.</summary>
    public required ShardIteratorType Type { get; init; }

    /// <summary>The sequence number, for <see cref="ShardIteratorType.AtSequenceNumber"/> and <see cref="ShardIteratorType.AfterSequenceNumber"/>.</summary>
    public string? SequenceNumber { get; init; }

    /// <summary>The time, for <see cref="ShardIteratorType.AtTimestamp"/>.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>A SubscribeToShard request.</summary>
public sealed record SubscribeToShardRequest
{
    /// <summary>The registered consumer's ARN.</summary>
    public required string ConsumerARN { get; init; }

    /// <summary>The shard.</summary>
    public required string ShardId { get; init; }

    /// <summary>Where to start.</summary>
    public required StartingPosition StartingPosition { get; init; }
}

/// <summary>One event of a subscription: the records pushed since the last, and where to continue.</summary>
/// <param name="Records">The records (possibly none: an event comes every few seconds even when idle).</param>
/// <param name="ContinuationSequenceNumber">The sequence number to subscribe after to continue; null at a closed shard's end.</param>
/// <param name="MillisBehindLatest">How far behind the shard's tip the subscription is, in milliseconds.</param>
/// <param name="ChildShards">At a closed shard's end, its children; else empty.</param>
public sealed record SubscribeToShardEvent(IReadOnlyList<Record> Records, string? ContinuationSequenceNumber, long MillisBehindLatest, IReadOnlyList<ChildShard> ChildShards);
