using Runnel.DynamoDb.Model;

namespace Runnel.DynamoDb.Tables;

/// <summary>One attribute of a key schema, with its type from the AttributeDefinitions.</summary>
public sealed record KeyElement(string Name, AttributeType Type);

/// <summary>A table's or an index's key: a HASH attribute and an optional RANGE attribute.</summary>
public sealed record KeySchema(KeyElement Hash, KeyElement? Range)
{
    public IEnumerable<KeyElement> Elements => Range is null ? [Hash] : [Hash, Range];

    public bool Contains(string attribute) => Hash.Name == attribute || Range?.Name == attribute;
}

/// <summary>Provisioned throughput as DescribeTable echoes it; 0 and 0 for PAY_PER_REQUEST.</summary>
public sealed record Throughput(long Read, long Write, long? LastIncreaseMillis = null, long? LastDecreaseMillis = null, int DecreasesToday = 0);

/// <summary>A global secondary index: its key, its projection (ALL, KEYS_ONLY or INCLUDE with NonKeyAttributes), its throughput.</summary>
public sealed record GlobalIndex(string Name, KeySchema Key, string ProjectionType, IReadOnlyList<string> NonKeyAttributes, Throughput Throughput)
{
    /// <summary>Whether an item is in the index: it has every key attribute of the index, of the defined type.</summary>
    public bool Holds(Item item) => Key.Elements.All(k => item.TryGetValue(k.Name, out var v) && v.Type == k.Type);

    /// <summary>What a read through the index returns of an item: the projected attributes and the keys of both.</summary>
    public Item Project(Item item, KeySchema table)
    {
        if (ProjectionType == "ALL")
            return item;
        var keep = new HashSet<string>(Key.Elements.Concat(table.Elements).Select(k => k.Name), StringComparer.Ordinal);
        if (ProjectionType == "INCLUDE")
            keep.UnionWith(NonKeyAttributes);
        return item.Where(p => keep.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
    }
}

/// <summary>
/// A DynamoDB table as stored (docs/formats/dynamodb.md): its key schema and attribute definitions, billing, indexes,
/// tags and settings. Items live in their own documents under <see cref="ItemKind"/>; <see cref="Id"/> is unique for
/// the life of the store, so a table deleted and made again under its name never sees the old table's items.
/// Immutable; <see cref="Revision"/> is the store's revision of the document it was read from.
/// </summary>
public sealed record Table(
    string Account,
    string Name,
    long Id,
    string TableId,
    string Status,
    long CreatedMillis,
    KeySchema Key,
    IReadOnlyList<KeyElement> AttributeDefinitions,
    string BillingMode,
    Throughput Throughput,
    IReadOnlyList<GlobalIndex> Indexes)
{
    public long? PayPerRequestSinceMillis { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public bool DeletionProtection { get; init; }
    public bool PointInTimeRecovery { get; init; }
    public int RecoveryPeriodDays { get; init; } = 35;
    public long? PointInTimeRecoverySinceMillis { get; init; }
    public string? TimeToLiveAttribute { get; init; }
    public ulong Revision { get; init; }

    /// <summary>The documents' kind that holds this table's items.</summary>
    public string ItemKind => ItemKindOf(Id);

    public static string ItemKindOf(long id) => $"dynamodb-items-{id}";

    public GlobalIndex? Index(string name) => Indexes.FirstOrDefault(i => i.Name == name);

    public string Arn(string region) => $"arn:aws:dynamodb:{region}:{Account}:table/{Name}";
}
