using System.Text.Json.Nodes;

namespace Runnel.Firehose.Channels;

/// <summary>The statuses AWS gives a channel (ChannelStatus) and its destination types (ChannelDestinationType).</summary>
public static class ChannelStatus
{
    public const string Creating = "CREATING", Active = "ACTIVE", Updating = "UPDATING", Deleting = "DELETING", Failed = "FAILED";
    public const string S3 = "S3", S3Tables = "S3_TABLES";
}

/// <summary>
/// One Kinesis channel as the catalog keeps it: what CreateChannel and UpdateChannel were given, with the defaults AWS
/// shows filled in (so a description is this record written out), and the state Kinesis reports. Stored as a metadata
/// document of kind <see cref="ChannelCodec.Kind"/> under its name (docs/formats/firehose.md). Immutable: the JSON
/// objects in it are never changed once the record is made; a change makes a new record with copies.
/// </summary>
public sealed record Channel
{
    public required string Name { get; init; }

    /// <summary>ChannelId: a lowercase UUID, which is a valid DNS label as the SDKs' endpoint rules want it.</summary>
    public required string Id { get; init; }
    public required string Arn { get; init; }
    public required string Status { get; init; }

    /// <summary>ChannelStatusReason: why the channel is FAILED.</summary>
    public string? StatusReason { get; init; }
    public required long CreatedMillis { get; init; }

    /// <summary>When the current status ends (CREATING to ACTIVE or FAILED, UPDATING to ACTIVE, DELETING to gone), Unix ms.</summary>
    public long? DueMillis { get; init; }

    /// <summary>When delivery began (the channel became ACTIVE): records that arrived before it are not delivered.</summary>
    public long? DeliveryStartMillis { get; init; }
    public required string RoleArn { get; init; }
    public required string StreamArn { get; init; }
    public required long StreamCreatedMillis { get; init; }

    /// <summary>RecordConfiguration as given: RecordFormatType and, for S3 Tables, GSRSchemaARN.</summary>
    public required JsonObject RecordConfiguration { get; init; }

    /// <summary><see cref="ChannelStatus.S3"/> or <see cref="ChannelStatus.S3Tables"/>.</summary>
    public required string DestinationType { get; init; }

    /// <summary>The destination as described (S3DestinationDescription or S3TablesDestinationDescription), defaults filled.</summary>
    public required JsonObject Destination { get; init; }

    /// <summary>EncryptionConfiguration as given, or null.</summary>
    public JsonObject? Encryption { get; init; }

    /// <summary>LoggingConfiguration as described ({CloudWatchLogs: {Enabled: false}} when none was given).</summary>
    public required JsonObject Logging { get; init; }

    /// <summary>Tags in the order they were first added.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; init; } = [];

    /// <summary>The stored document's revision (not part of the body): the compare-and-set of the next change.</summary>
    public ulong Revision { get; init; }

    /// <summary>The stream's name, from its ARN.</summary>
    public string StreamName => StreamArn.Split(":stream/", 2)[^1];

    /// <summary>Data freshness: the longest a record waits before it is written, seconds.</summary>
    public long DataFreshnessSeconds => (long?)Destination["DataFreshnessInSeconds"] ?? ChannelDefaults.DataFreshnessSeconds;
}

/// <summary>The values AWS gives what CreateChannel leaves out.</summary>
public static class ChannelDefaults
{
    public const long DataFreshnessSeconds = 300, MinDataFreshnessSeconds = 300, MaxDataFreshnessSeconds = 900;
    public const string StorageClass = "STANDARD", LogStreamName = "DestinationDelivery";

    public static string ErrorOutputPrefix(string name, string id) => $"kinesis-channel/errors/{name}/{id}/";

    public static string LogGroupName(string name, string id) => $"/aws/kinesis/{name}/{id}";
}
