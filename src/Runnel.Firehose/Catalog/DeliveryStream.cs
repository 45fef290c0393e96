using System.Text.Json.Nodes;

namespace Runnel.Firehose.Catalog;

/// <summary>The statuses AWS gives a delivery stream (DeliveryStreamStatus) and its encryption (DeliveryStreamEncryptionStatus).</summary>
public static class DeliveryStreamStatus
{
    public const string Creating = "CREATING", CreatingFailed = "CREATING_FAILED", Deleting = "DELETING", Active = "ACTIVE";
    public const string Enabled = "ENABLED", Disabled = "DISABLED";
}

/// <summary>The source types a delivery stream can have (DeliveryStreamType); Runnel serves the first two.</summary>
public static class DeliveryStreamType
{
    public const string DirectPut = "DirectPut", KinesisStreamAsSource = "KinesisStreamAsSource";
}

/// <summary>Why a delivery stream is CREATING_FAILED (AWS's FailureDescription).</summary>
public sealed record DeliveryFailure(string Type, string Details);

/// <summary>Server-side encryption as DescribeDeliveryStream shows it: Status, and KeyType and KeyARN while enabled.</summary>
public sealed record DeliveryEncryption(string Status, string? KeyType, string? KeyArn);

/// <summary>
/// One delivery stream as the catalog keeps it: what CreateDeliveryStream and UpdateDestination were given (the
/// destination's configuration as sent, defaults filled only when described) and the state Firehose reports. Stored
/// as a metadata document of kind <see cref="DeliveryStreamCodec.Kind"/> (docs/formats/firehose.md). Immutable: the
/// JSON objects in it are never changed once the record is made; a change makes a new record with copies.
/// </summary>
public sealed record DeliveryStream
{
    public required string Name { get; init; }
    public required string Arn { get; init; }
    public required string Status { get; init; }
    public required string Type { get; init; }

    /// <summary>VersionId: 1 when created, one more at each UpdateDestination.</summary>
    public long Version { get; init; } = 1;
    public required long CreatedMillis { get; init; }

    /// <summary>LastUpdateTimestamp: absent until the destination is first updated.</summary>
    public long? UpdatedMillis { get; init; }

    /// <summary>When a CREATING stream becomes ACTIVE (or a DELETING one goes), Unix ms; null when no change is due.</summary>
    public long? DueMillis { get; init; }
    public DeliveryFailure? Failure { get; init; }

    /// <summary>KinesisStreamSourceConfiguration as given (KinesisStreamARN, RoleARN); null for DirectPut.</summary>
    public JsonObject? KinesisSource { get; init; }

    /// <summary>When delivery began reading the source stream (DeliveryStartTimestamp).</summary>
    public long? DeliveryStartMillis { get; init; }

    /// <summary>DirectPutSourceConfiguration as given (ThroughputHintInMBs), if it was.</summary>
    public JsonObject? DirectPutSource { get; init; }

    /// <summary>Which destination: the prefix of its members' names (ExtendedS3, S3, Redshift, HttpEndpoint, …).</summary>
    public required string DestinationKind { get; init; }

    /// <summary>The destination's configuration, as CreateDeliveryStream and UpdateDestination gave it.</summary>
    public required JsonObject Destination { get; init; }

    /// <summary>Server-side encryption; null where AWS shows none (a Kinesis-sourced stream).</summary>
    public DeliveryEncryption? Encryption { get; init; }

    /// <summary>The data keys its buffered records are sealed under at rest (its encryption on: the newest), or null when never encrypted.</summary>
    public Runnel.Core.Model.AtRestEncryption? AtRest { get; init; }

    /// <summary>When StartDeliveryStreamEncryption and StopDeliveryStreamEncryption were called in the last 24 hours, Unix ms.</summary>
    public IReadOnlyList<long> EncryptionChanges { get; init; } = [];

    /// <summary>Tags in the order they were first added.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; init; } = [];

    /// <summary>The log a DirectPut stream's records are appended to (an id from the streams' own counter); null otherwise.</summary>
    public long? LogId { get; init; }

    /// <summary>The stored document's revision (not part of the body): the compare-and-set of the next change.</summary>
    public ulong Revision { get; init; }
}
