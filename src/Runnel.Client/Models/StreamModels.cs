namespace Runnel.Client.Models;

/// <summary>How a stream's capacity is managed.</summary>
public enum StreamMode
{
    /// <summary>A fixed number of shards (<c>PROVISIONED</c>).</summary>
    Provisioned,

    /// <summary>Shards scaled by the service (<c>ON_DEMAND</c>).</summary>
    OnDemand,
}

/// <summary>A CreateStream request.</summary>
public sealed record CreateStreamRequest
{
    /// <summary>The new stream's name.</summary>
    public required string StreamName { get; init; }

    /// <summary>The number of shards of a provisioned stream.</summary>
    public int? ShardCount { get; init; }

    /// <summary>The capacity mode; default provisioned.</summary>
    public StreamMode? StreamMode { get; init; }

    /// <summary>Tags to set on the stream.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

/// <summary>A DeleteStream request.</summary>
public sealed record DeleteStreamRequest
{
    /// <summary>The stream's name (or give <see cref="StreamARN"/>).</summary>
    public string? StreamName { get; init; }

    /// <summary>The stream's ARN (or give <see cref="StreamName"/>).</summary>
    public string? StreamARN { get; init; }

    /// <summary>Delete the stream even when it has registered consumers.</summary>
    public bool? EnforceConsumerDeletion { get; init; }
}

/// <summary>A DescribeStreamSummary request.</summary>
public sealed record DescribeStreamSummaryRequest
{
    /// <summary>The stream's name (or give <see cref="StreamARN"/>).</summary>
    public string? StreamName { get; init; }

    /// <summary>The stream's ARN (or give <see cref="StreamName"/>).</summary>
    public string? StreamARN { get; init; }
}

/// <summary>A stream, without its shards.</summary>
/// <param name="StreamName">The stream's name.</param>
/// <param name="StreamARN">The stream's ARN.</param>
/// <param name="StreamStatus"><c>CREATING</c>, <c>DELETING</c>, <c>ACTIVE</c> or <c>UPDATING</c>.</param>
/// <param name="StreamMode"><c>PROVISIONED</c> or <c>ON_DEMAND</c>, when given.</param>
/// <param name="RetentionPeriodHours">How long records are kept, in hours.</param>
/// <param name="StreamCreationTimestamp">When the stream was created.</param>
/// <param name="EncryptionType"><c>KMS</c> or <c>NONE</c>.</param>
/// <param name="KeyId">The KMS key of an encrypting stream.</param>
/// <param name="OpenShardCount">The number of open shards.</param>
/// <param name="ConsumerCount">The number of registered consumers.</param>
public sealed record StreamDescriptionSummary(
    string StreamName,
    string StreamARN,
    string StreamStatus,
    string? StreamMode,
    int RetentionPeriodHours,
    DateTimeOffset? StreamCreationTimestamp,
    string? EncryptionType,
    string? KeyId,
    int OpenShardCount,
    int? ConsumerCount);

/// <summary>The answer of DescribeStreamSummary.</summary>
/// <param name="StreamDescriptionSummary">The stream.</param>
public sealed record DescribeStreamSummaryResponse(StreamDescriptionSummary StreamDescriptionSummary);
