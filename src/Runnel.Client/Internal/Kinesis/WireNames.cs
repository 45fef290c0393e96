using Runnel.Client.Models;

namespace Runnel.Client.Internal.Kinesis;

/// <summary>The wire spelling of the model's enumerations (no reflection: AOT and trimming keep them).</summary>
internal static class WireNames
{
    public static string Of(ShardIteratorType type) => type switch
    {
        ShardIteratorType.TrimHorizon => "TRIM_HORIZON",
        ShardIteratorType.Latest => "LATEST",
        ShardIteratorType.AtSequenceNumber => "AT_SEQUENCE_NUMBER",
        ShardIteratorType.AfterSequenceNumber => "AFTER_SEQUENCE_NUMBER",
        ShardIteratorType.AtTimestamp => "AT_TIMESTAMP",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a shard iterator type."),
    };

    public static string Of(ShardFilterType type) => type switch
    {
        ShardFilterType.AfterShardId => "AFTER_SHARD_ID",
        ShardFilterType.AtTrimHorizon => "AT_TRIM_HORIZON",
        ShardFilterType.FromTrimHorizon => "FROM_TRIM_HORIZON",
        ShardFilterType.AtLatest => "AT_LATEST",
        ShardFilterType.AtTimestamp => "AT_TIMESTAMP",
        ShardFilterType.FromTimestamp => "FROM_TIMESTAMP",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a shard filter type."),
    };

    public static string Of(StreamMode mode) => mode switch
    {
        StreamMode.Provisioned => "PROVISIONED",
        StreamMode.OnDemand => "ON_DEMAND",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Not a stream mode."),
    };
}
