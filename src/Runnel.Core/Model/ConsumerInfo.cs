namespace Runnel.Core.Model;

public enum ConsumerStatus { Creating, Deleting, Active }

public static class ConsumerEnums
{
    public static string ToWire(this ConsumerStatus status) => status switch
    {
        ConsumerStatus.Creating => "CREATING",
        ConsumerStatus.Deleting => "DELETING",
        ConsumerStatus.Active => "ACTIVE",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}

/// <summary>
/// A consumer registered with a stream (enhanced fan-out), as the metadata store keeps it. Immutable; a
/// change makes a new value.
/// </summary>
public sealed record ConsumerInfo(
    // The metadata row's key; unique among the consumers stored at one time.
    long Id,
    // The incarnation of the stream (StreamInfo.Id) the consumer belongs to.
    long StreamId,
    string Name,
    ConsumerStatus Status,
    DateTimeOffset CreatedAt,
    // When the current status ends (CREATING → ACTIVE, DELETING → gone), if it is transitional.
    DateTimeOffset? StatusUntil,
    IReadOnlyDictionary<string, string> Tags)
{
    /// <summary>The creation time in whole Unix seconds, as the consumer ARN carries it.</summary>
    public long CreatedSeconds => CreatedAt.ToUnixTimeSeconds();

    /// <summary>The resource-based policy attached by PutResourcePolicy (an IAM JSON document), or null.</summary>
    public string? ResourcePolicy { get; init; }

    /// <summary>
    /// The metadata store's revision of this consumer's document when this copy was read or written (a cluster's
    /// key-value revision; always 0 on the embedded store): a change decided from this copy is stored only if the
    /// stored document is still at this revision.
    /// </summary>
    public ulong Revision { get; init; }
}
