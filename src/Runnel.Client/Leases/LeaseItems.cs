using System.Globalization;
using System.Text.Json.Nodes;

namespace Runnel.Client.Leases;

/// <summary>
/// A <see cref="Lease"/> as a DynamoDB item in the KCL's lease-table schema (docs/formats/kcl-leases.md), in DynamoDB's
/// JSON form (each attribute <c>{"S": …}</c>, <c>{"N": …}</c> or <c>{"SS": […]}</c>), and back. Attributes the KCL
/// writes that this library does not use (its 3.x worker metrics, throughput, pending checkpoint state) are left alone:
/// they are not read, and conditional updates touch only the attributes they name.
/// </summary>
public static class LeaseItems
{
    /// <summary>The table's only key attribute (a string hash key).</summary>
    public const string LeaseKey = "leaseKey";

    /// <summary>The holder's worker id.</summary>
    public const string LeaseOwner = "leaseOwner";

    /// <summary>The renewal counter.</summary>
    public const string LeaseCounter = "leaseCounter";

    /// <summary>The checkpointed sequence number or sentinel.</summary>
    public const string Checkpoint = "checkpoint";

    /// <summary>The checkpointed sub-sequence number.</summary>
    public const string CheckpointSubSequenceNumber = "checkpointSubSequenceNumber";

    /// <summary>The pending checkpoint's sequence number.</summary>
    public const string PendingCheckpoint = "pendingCheckpoint";

    /// <summary>The pending checkpoint's sub-sequence number.</summary>
    public const string PendingCheckpointSubSequenceNumber = "pendingCheckpointSubSequenceNumber";

    /// <summary>Changes of holder since the last checkpoint.</summary>
    public const string OwnerSwitchesSinceCheckpoint = "ownerSwitchesSinceCheckpoint";

    /// <summary>The parent shards (a string set).</summary>
    public const string ParentShardId = "parentShardId";

    /// <summary>The child shards (a string set).</summary>
    public const string ChildShardIds = "childShardIds";

    /// <summary>The shard's first hash key.</summary>
    public const string StartingHashKey = "startingHashKey";

    /// <summary>The shard's last hash key.</summary>
    public const string EndingHashKey = "endingHashKey";

    /// <summary>The item of <paramref name="lease"/>.</summary>
    public static JsonObject ToItem(Lease lease)
    {
        var item = new JsonObject
        {
            [LeaseKey] = S(lease.LeaseKey),
            [LeaseCounter] = N(lease.LeaseCounter),
            [OwnerSwitchesSinceCheckpoint] = N(lease.OwnerSwitchesSinceCheckpoint),
            [Checkpoint] = S(lease.Checkpoint.SequenceNumber),
            [CheckpointSubSequenceNumber] = N(lease.Checkpoint.SubSequenceNumber),
        };
        if (lease.LeaseOwner is { } owner)
            item[LeaseOwner] = S(owner);
        if (lease.PendingCheckpoint is { } pending)
        {
            item[PendingCheckpoint] = S(pending.SequenceNumber);
            item[PendingCheckpointSubSequenceNumber] = N(pending.SubSequenceNumber);
        }
        if (lease.ParentShardIds.Count > 0)
            item[ParentShardId] = SS(lease.ParentShardIds);
        if (lease.ChildShardIds.Count > 0)
            item[ChildShardIds] = SS(lease.ChildShardIds);
        if (lease.StartingHashKey is { } start)
            item[StartingHashKey] = S(start);
        if (lease.EndingHashKey is { } end)
            item[EndingHashKey] = S(end);
        return item;
    }

    /// <summary>The lease an item holds; a missing attribute takes its default (no owner, counter 0, TRIM_HORIZON).</summary>
    /// <exception cref="FormatException">The item has no string <c>leaseKey</c>, or a number that is not one.</exception>
    public static Lease FromItem(JsonObject item)
    {
        string key = String(item, LeaseKey) ?? throw new FormatException("a lease item without a string leaseKey");
        var pending = String(item, PendingCheckpoint);
        return new Lease
        {
            LeaseKey = key,
            LeaseOwner = String(item, LeaseOwner),
            LeaseCounter = Number(item, LeaseCounter),
            Checkpoint = String(item, Checkpoint) is { Length: > 0 } checkpoint
                ? new ExtendedSequenceNumber(checkpoint, Number(item, CheckpointSubSequenceNumber))
                : ExtendedSequenceNumber.TrimHorizon,
            PendingCheckpoint = string.IsNullOrEmpty(pending) ? null : new ExtendedSequenceNumber(pending, Number(item, PendingCheckpointSubSequenceNumber)),
            OwnerSwitchesSinceCheckpoint = Number(item, OwnerSwitchesSinceCheckpoint),
            ParentShardIds = Set(item, ParentShardId),
            ChildShardIds = Set(item, ChildShardIds),
            StartingHashKey = String(item, StartingHashKey),
            EndingHashKey = String(item, EndingHashKey),
        };
    }

    /// <summary>A string attribute value.</summary>
    public static JsonObject S(string value) => new() { ["S"] = value };

    /// <summary>A number attribute value.</summary>
    public static JsonObject N(long value) => new() { ["N"] = value.ToString(CultureInfo.InvariantCulture) };

    /// <summary>A string-set attribute value (DynamoDB sets are unordered and hold no duplicates).</summary>
    public static JsonObject SS(IEnumerable<string> values) => new() { ["SS"] = new JsonArray(values.Distinct(StringComparer.Ordinal).Select(v => (JsonNode)v).ToArray()) };

    private static string? String(JsonObject item, string name) =>
        item[name] is JsonObject value && value["S"] is JsonValue s && s.TryGetValue(out string? text) ? text : null;

    private static long Number(JsonObject item, string name)
    {
        if (item[name] is not JsonObject value || value["N"] is not JsonValue n || !n.TryGetValue(out string? text))
            return 0;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number)
            ? number
            : throw new FormatException($"lease attribute {name} is not a whole number: '{text}'");
    }

    private static IReadOnlyList<string> Set(JsonObject item, string name) =>
        item[name] is JsonObject value && value["SS"] is JsonArray values
            ? values.Select(v => v?.GetValue<string>() ?? "").Where(v => v.Length > 0).Order(StringComparer.Ordinal).ToList()
            : [];
}
