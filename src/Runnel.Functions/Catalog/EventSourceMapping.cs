using System.Text.Json.Nodes;

namespace Runnel.Functions.Catalog;

/// <summary>
/// An event-source mapping: a Kinesis stream (or a registered consumer of one) whose records are given in batches to a
/// function, with Lambda's settings for Kinesis sources. Immutable. The per-shard positions the mapping has reached are
/// kept apart (they change with every batch).
/// </summary>
public sealed record EventSourceMapping
{
    public required string Uuid { get; init; }

    public required string FunctionArn { get; init; }

    /// <summary>The function's name: the last part of <see cref="FunctionArn"/>.</summary>
    public string FunctionName => FunctionArn[(FunctionArn.LastIndexOf(':') + 1)..];

    /// <summary>The stream's ARN, or a consumer's (then records are read as that consumer).</summary>
    public required string EventSourceArn { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>TRIM_HORIZON, LATEST or AT_TIMESTAMP: where shards without a position start.</summary>
    public required string StartingPosition { get; init; }

    public long? StartingPositionTimestampMillis { get; init; }

    public int BatchSize { get; init; } = 100;

    public int MaximumBatchingWindowInSeconds { get; init; }

    public int ParallelizationFactor { get; init; } = 1;

    public bool BisectBatchOnFunctionError { get; init; }

    /// <summary>-1: until the records expire.</summary>
    public int MaximumRetryAttempts { get; init; } = -1;

    /// <summary>-1: no limit.</summary>
    public int MaximumRecordAgeInSeconds { get; init; } = -1;

    public int TumblingWindowInSeconds { get; init; }

    /// <summary>Empty, or <c>ReportBatchItemFailures</c>.</summary>
    public IReadOnlyList<string> FunctionResponseTypes { get; init; } = [];

    /// <summary>As given (<c>{"OnFailure": {"Destination": ARN}}</c>), or null.</summary>
    public JsonObject? DestinationConfig { get; init; }

    /// <summary>As given (<c>{"Filters": [{"Pattern": JSON}]}</c>), or null.</summary>
    public JsonObject? FilterCriteria { get; init; }

    public required long LastModifiedMillis { get; init; }

    public string LastProcessingResult { get; init; } = "No records processed";

    public string StateTransitionReason { get; init; } = "User action";

    public ulong Revision { get; init; }
}
