using Runnel.Protocol.Validation;
using static Runnel.Protocol.Validation.Members;

namespace Runnel.Protocol.Kinesis;

/// <summary>
/// The channel operations (CreateChannel, DescribeChannel, ListChannels, UpdateChannel, DeleteChannel): members and
/// constraints from AWS's API reference and the current JavaScript SDK's model (docs/adr/0002-firehose-channels.md,
/// section 3); no botocore model on this machine has them. Members are checked in the model's order.
/// </summary>
public static partial class KinesisShapes
{
    public const string ChannelArnPattern = @"arn:aws.*:kinesis:.*:\d{12}:channel/\S+";
    private const string BucketArnPattern = @"arn:aws[-a-z0-9]*:s3:::[a-z0-9._-]{3,63}";

    private static Member ChannelArn() => Str("ChannelARN", true, 1, 2048, ChannelArnPattern);

    private static readonly Shape DeadLetterQueue = new(
        Str("BucketARN", true, 1, 2048, BucketArnPattern),
        Str("ExpectedBucketOwner", true, 12, 12, @"\d{12}"),
        Str("ErrorOutputPrefix", false, 1, 512, @"[0-9A-Za-z!\-_'.*()\/]+"));

    private static readonly Shape CloudWatchLogs = new(
        Bool("Enabled", true),
        Str("LogGroupName", false, 1, 512, @"[\.\-_/#A-Za-z0-9]+"),
        Str("LogStreamName", false, 1, 512, "[^:*]*"));

    private static Member Logging() => Struct("LoggingConfiguration", new Shape(Struct("CloudWatchLogs", CloudWatchLogs, required: true)));

    private static readonly Shape StreamConfiguration = new(
        Str("StreamARN", true, 1, 2048, ArnPattern),
        Struct("RecordConfiguration", new Shape(
            Enum("RecordFormatType", true, "GSR_JSON", "JSON", "STRING", "BYTE_ARRAY"),
            Str("GSRSchemaARN", false, 1, 512, @"arn:aws[-a-z0-9]*:glue:[-a-z0-9]+:\d{12}:schema/[-a-zA-Z0-9_$#.]+/[-a-zA-Z0-9_$#.]+")), required: true));

    private static readonly Shape S3Destination = new(
        Struct("StorageConfiguration", new Shape(
            Str("BucketARN", true, 1, 2048, BucketArnPattern),
            Str("ExpectedBucketOwner", true, 12, 12, @"\d{12}"),
            Enum("CompressionType", true, "NONE", "GZIP", "ZSTD"),
            Str("OutputKeyTemplate", false, 1, 1024, @"[0-9A-Za-z!\-_'.*()\/=:{}]+"),
            Enum("StorageClass", false, "STANDARD", "INTELLIGENT_TIERING", "GLACIER_IR")), required: true),
        Int("DataFreshnessInSeconds"),
        Struct("DeadLetterQueueS3Configuration", DeadLetterQueue));

    private static readonly Shape S3TablesDestination = new(
        List("S3TablesConfigurationList", Struct("member", new Shape(
            Str("TableBucketARN", true, 1, 2048, @"arn:aws[-a-z0-9]*:s3tables:[-a-z0-9]+:\d{12}:bucket/[a-z0-9_-]{3,63}"),
            Str("Namespace", true, 1, 255, "[0-9a-z_]+"),
            Str("TableName", true, 1, 255, "[0-9a-z_]+"),
            Enum("CompressionType", true, "NONE", "ZSTD", "SNAPPY"),
            Struct("PartitionSpec", new Shape(
                List("PartitionFields", Struct("member", new Shape(
                    Enum("Transform", true, "TIME_HOUR"),
                    Str("SourceName", true, 1, 255, @"[a-zA-Z0-9\.\_]+"))), true, 1, 10))))), true, 1, 10000),
        Struct("DeadLetterQueueS3Configuration", DeadLetterQueue, required: true),
        Int("DataFreshnessInSeconds"));

    public static readonly Shape CreateChannel = new(
        Str("ChannelName", true, 1, 128, NamePattern),
        Str("ServiceExecutionRoleARN", true, 1, 512),
        List("StreamConfigurationList", Struct("member", StreamConfiguration), true, 1, 10000),
        Struct("S3DestinationConfiguration", S3Destination),
        Struct("S3TablesDestinationConfiguration", S3TablesDestination),
        Struct("EncryptionConfiguration", new Shape(Enum("EncryptionType", true, "KMS"), Str("KeyId", true, 1, 2048))),
        Map("Tags", Str("Key", true, 1, 128), Str("Value", true, 0, 256), false, 1, 200), // not TagMap: another file's field, maybe not yet initialized
        Logging());

    /// <summary>DescribeChannel and DeleteChannel.</summary>
    public static readonly Shape ChannelReference = new(ChannelArn());

    public static readonly Shape ListChannels = new(
        List("StreamFilter", Struct("member", new Shape(Str("StreamARN", true, 1, 2048, ArnPattern), Time("StreamCreationTimestamp"))), false, 1, 10000),
        Int("MaxResults", min: 1, max: 10000),
        Str("NextToken", false, 1, 1048576));

    public static readonly Shape UpdateChannel = new(
        ChannelArn(),
        Struct("S3DestinationConfiguration", new Shape(Int("DataFreshnessInSeconds", required: true))),
        Struct("S3TablesDestinationConfiguration", new Shape(Int("DataFreshnessInSeconds", required: true))),
        Logging());
}
