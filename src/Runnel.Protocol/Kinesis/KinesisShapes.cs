using Runnel.Protocol.Validation;
using static Runnel.Protocol.Validation.Members;

namespace Runnel.Protocol.Kinesis;

/// <summary>
/// The request shape of every Kinesis operation: members, constraints (from the service model) and the
/// order in which AWS reports violations (captured from AWS; see docs/compatibility.md). Newer members
/// (StreamARN, Tags on CreateStream, ...) whose order was not captured follow StreamName or come last.
/// </summary>
public static partial class KinesisShapes
{
    public const string NamePattern = "[a-zA-Z0-9_.-]+";

    /// <summary>The largest record any stream can take (UpdateMaxRecordSize's ceiling, 10240 KiB).</summary>
    public const long MaxDataBytes = 10L * 1024 * 1024;
    public const string ArnPattern = @"arn:aws.*:kinesis:.*:\d{12}:stream/\S+";
    public const string ConsumerArnPattern = @"^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+";

    /// <summary>
    /// StreamName: required unless the request names the stream by StreamARN. Without either, AWS's answer is
    /// the not-null validation error for streamName, as before ARNs existed.
    /// </summary>
    private static Member StreamName(bool required = false) =>
        Str("StreamName", required, 1, 128, NamePattern) with { RequiredUnless = required ? null : "StreamARN" };

    private static Member StreamArn() => Str("StreamARN", false, 1, 2048, ArnPattern);

    private static Member ConsumerName(bool required = false) => Str("ConsumerName", required, 1, 128, NamePattern);

    private static Member ConsumerArn() => Str("ConsumerARN", false, 1, 2048, ConsumerArnPattern);

    private static Member ShardId(string name, bool required = false) => Str(name, required, 1, 128, NamePattern);

    /// <summary>The data plane's DryRun (PutRecord, PutRecords, GetShardIterator, GetRecords, SubscribeToShard): check
    /// everything, do nothing, answer DryRunOperationException.</summary>
    private static Member DryRun() => Bool("DryRun");

    /// <summary>StreamId, which the current model adds to every operation on a stream or consumer: "Not Implemented.
    /// Reserved for future use." Its constraints are checked; its value is not used.</summary>
    private static Member StreamIdMember() => Str("StreamId", false, 1, 24, "[a-z0-9]{20}-[a-z0-9]{3}");

    private static Member TagKey(string name) => Str(name, true, 1, 128);

    /// <summary>PartitionKey: optional in the current model, required (with the not-null error) unless the stream uses the AUTO record distribution strategy.</summary>
    private static Member PartitionKey() => Str("PartitionKey", true, 1, 256) with { Waivable = true };

    /// <summary>Any Kinesis resource a policy can be attached to: a stream or a registered consumer.</summary>
    public const string ResourceArnPattern = @"arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+";

    private static Member ResourceArn() => Str("ResourceARN", true, 1, 2048, ResourceArnPattern);

    private static Member DistributionStrategy(bool required = false) => Enum("RecordDistributionStrategy", required, "AUTO", "USER_PARTITION_KEY");

    private static readonly Member TagMap = Map("Tags", Str("Key", true, 1, 128), Str("Value", true, 0, 256), true, 1, 200);

    private static readonly string[] MetricNames =
        ["IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds", "ALL"];

    public static readonly Shape CreateStream = new(
        Int("ShardCount", min: 1),
        StreamName(required: true),
        Struct("StreamModeDetails", new Shape(Enum("StreamMode", true, "PROVISIONED", "ON_DEMAND"))),
        TagMap with { Required = false, MaxLength = 50 },
        Int("WarmThroughputMiBps", min: 0),
        Int("MaxRecordSizeInKiB", min: 1024, max: 10240),
        DistributionStrategy());

    public static readonly Shape DeleteStream = new(StreamName(), StreamArn(), Bool("EnforceConsumerDeletion"), StreamIdMember());

    public static readonly Shape DescribeStream = new(
        Int("Limit", min: 1, max: 10000),
        ShardId("ExclusiveStartShardId"),
        StreamName(),
        StreamArn(), StreamIdMember());

    public static readonly Shape DescribeStreamSummary = new(StreamName(), StreamArn(), StreamIdMember());

    public static readonly Shape ListStreams = new(
        Int("Limit", min: 1, max: 10000),
        Str("ExclusiveStartStreamName", false, 1, 128, NamePattern),
        Str("NextToken", false, 1, 1048576));

    public static readonly Shape ListShards = new(
        ShardId("ExclusiveStartShardId"),
        Int("MaxResults", min: 1, max: 10000),
        Str("NextToken", false, 1, 1048576),
        Time("StreamCreationTimestamp"),
        Str("StreamName", false, 1, 128, NamePattern), // ListShards has its own rules for StreamName, StreamARN and NextToken
        StreamArn(),
        Struct("ShardFilter", new Shape(
            Enum("Type", true, "AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"),
            ShardId("ShardId"),
            Time("Timestamp"))), StreamIdMember());

    public static readonly Shape PutRecord = new(
        Str("SequenceNumberForOrdering", pattern: @"0|([1-9]\d{0,128})"),
        PartitionKey(),
        Str("ExplicitHashKey", pattern: @"0|([1-9]\d{0,38})"),
        // 10 MiB is the model's bound since records may be up to 10 MiB; a stream's own limit
        // (1 MiB unless UpdateMaxRecordSize raised it) is checked after the stream is found.
        Blob("Data", true, 0, MaxDataBytes),
        StreamName(),
        StreamArn(),
        DryRun(), StreamIdMember());

    public static readonly Shape PutRecordsEntry = new(
        PartitionKey(),
        Str("ExplicitHashKey", pattern: @"0|([1-9]\d{0,38})"),
        Blob("Data", true, 0, MaxDataBytes));

    public static readonly Shape PutRecords = new(
        List("Records", Struct("member", PutRecordsEntry), true, 1, 500),
        StreamName(),
        StreamArn(),
        DryRun(), StreamIdMember());

    public static readonly Shape GetShardIterator = new(
        ShardId("ShardId", required: true),
        Enum("ShardIteratorType", true, "AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"),
        Str("StartingSequenceNumber", pattern: @"0|([1-9]\d{0,128})"),
        StreamName(),
        Time("Timestamp"),
        StreamArn(),
        DryRun(), StreamIdMember());

    public static readonly Shape GetRecords = new(
        Int("Limit", min: 1, max: 10000),
        Str("ShardIterator", true, 1, 512),
        StreamArn(),
        DryRun(), StreamIdMember());

    public static readonly Shape ChangeRetention = new(
        Int("RetentionPeriodHours", required: true, min: 1),
        StreamName(),
        StreamArn(), StreamIdMember());

    public static readonly Shape AddTagsToStream = new(TagMap, StreamName(), StreamArn(), StreamIdMember());

    public static readonly Shape RemoveTagsFromStream = new(
        List("TagKeys", TagKey("member"), true, 1, 50),
        StreamName(),
        StreamArn(), StreamIdMember());

    public static readonly Shape ListTagsForStream = new(
        Int("Limit", min: 1, max: 50),
        Str("ExclusiveStartTagKey", false, 1, 128),
        StreamName(),
        StreamArn(), StreamIdMember());

    public static readonly Shape TagResource = new(
        TagMap,
        Str("ResourceARN", true, 1, 2048, @"arn:aws.*:kinesis:.*:\d{12}:.+"), StreamIdMember());

    public static readonly Shape UntagResource = new(
        List("TagKeys", TagKey("member"), true, 1, 50),
        Str("ResourceARN", true, 1, 2048, @"arn:aws.*:kinesis:.*:\d{12}:.+"), StreamIdMember());

    public static readonly Shape ListTagsForResource = new(
        Str("ResourceARN", true, 1, 2048, @"arn:aws.*:kinesis:.*:\d{12}:.+"), StreamIdMember());

    public static readonly Shape DescribeLimits = new();

    public static readonly Shape EnhancedMonitoring = new(
        List("ShardLevelMetrics", Enum("member", true, MetricNames), true, 1, 7),
        StreamName(),
        StreamArn(), StreamIdMember());

    public static readonly Shape SplitShard = new(
        Str("NewStartingHashKey", true, pattern: @"0|([1-9]\d{0,38})"),
        StreamName(),
        ShardId("ShardToSplit", required: true),
        StreamArn(), StreamIdMember());

    public static readonly Shape MergeShards = new(
        ShardId("ShardToMerge", required: true),
        ShardId("AdjacentShardToMerge", required: true),
        StreamName(),
        StreamArn(), StreamIdMember());

    public static readonly Shape UpdateShardCount = new(
        Enum("ScalingType", true, "UNIFORM_SCALING"),
        StreamName(),
        Int("TargetShardCount", required: true, min: 1, max: 100000),
        StreamArn(), StreamIdMember());

    public static readonly Shape UpdateStreamMode = new(
        Str("StreamARN", true, 1, 2048, ArnPattern),
        Struct("StreamModeDetails", new Shape(Enum("StreamMode", true, "PROVISIONED", "ON_DEMAND")), required: true),
        Int("WarmThroughputMiBps", min: 0), StreamIdMember());

    public static readonly Shape UpdateStreamWarmThroughput = new(
        StreamArn(),
        StreamName(),
        Int("WarmThroughputMiBps", required: true, min: 0),
        StreamIdMember());

    public static readonly Shape UpdateStreamRecordDistributionStrategy = new(
        Str("StreamARN", true, 1, 2048, ArnPattern),
        DistributionStrategy(required: true),
        StreamIdMember());

    public static readonly Shape PutResourcePolicy = new(ResourceArn(), Str("Policy", true), StreamIdMember());

    /// <summary>GetResourcePolicy and DeleteResourcePolicy.</summary>
    public static readonly Shape ResourcePolicyReference = new(ResourceArn(), StreamIdMember());

    public static readonly Shape DescribeAccountSettings = new();

    public static readonly Shape UpdateAccountSettings = new(
        Struct("MinimumThroughputBillingCommitment", new Shape(Enum("Status", true, "ENABLED", "DISABLED")), required: true));

    /// <summary>StartStreamEncryption and StopStreamEncryption.</summary>
    public static readonly Shape StreamEncryption = new(
        Enum("EncryptionType", true, "NONE", "KMS"), Str("KeyId", true, 1, 2048), StreamName(), StreamArn(), StreamIdMember());

    public static readonly Shape UpdateMaxRecordSize = new(
        Int("MaxRecordSizeInKiB", required: true, min: 1024, max: 10240),
        Str("StreamARN", true, 1, 2048, ArnPattern), StreamIdMember());

    public static readonly Shape SubscribeToShard = new(
        Str("ConsumerARN", true, 1, 2048, ConsumerArnPattern),
        ShardId("ShardId", required: true),
        Struct("StartingPosition", new Shape(
            Enum("Type", true, "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"),
            Str("SequenceNumber", pattern: @"0|([1-9]\d{0,128})"),
            Time("Timestamp")), required: true),
        DryRun(), StreamIdMember());

    public static readonly Shape RegisterStreamConsumer = new(
        Str("StreamARN", true, 1, 2048, ArnPattern),
        ConsumerName(required: true),
        TagMap with { Required = false }, StreamIdMember());

    /// <summary>DescribeStreamConsumer and DeregisterStreamConsumer: the consumer by ARN, or by stream ARN and name.</summary>
    public static readonly Shape ConsumerReference = new(StreamArn(), ConsumerName(), ConsumerArn(), StreamIdMember());

    public static readonly Shape ListStreamConsumers = new(
        Str("StreamARN", true, 1, 2048, ArnPattern),
        Str("NextToken", false, 1, 1048576),
        Int("MaxResults", min: 1, max: 10000),
        Time("StreamCreationTimestamp"), StreamIdMember());
}
