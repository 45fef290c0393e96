using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Service;

/// <summary>A Query or Scan as the service runs it: the table or one of its indexes, what to select and how far to go.</summary>
public sealed record ReadRequest(Table Table, GlobalIndex? Index)
{
    /// <summary>A Query's key condition; null for a Scan.</summary>
    public KeyCondition? Key { get; init; }
    public Condition? Filter { get; init; }
    public bool Forward { get; init; } = true;
    public int? Limit { get; init; }
    public Item? ExclusiveStart { get; init; }
    public int Segment { get; init; }
    public int TotalSegments { get; init; } = 1;
}

/// <summary>One page: the items that passed the filter (projected to the index's attributes when read through one), how
/// many were evaluated, and where the next page starts (null: there is no more).</summary>
public sealed record ReadPage(IReadOnlyList<Item> Items, int ScannedCount, Item? LastEvaluatedKey);

/// <summary>
/// Query and Scan over a table's items as the store holds them now. Scan goes in document-key order (the table's) or
/// index key order (an index's); Query in range-key order, forwards or back; both stop at Limit items evaluated or
/// 1 MB, as DynamoDB pages. Every page reads the table's documents afresh: fit for lease tables of thousands of items,
/// not for millions (docs/compatibility.md). Thread-safe.
/// </summary>
public sealed class ReadService(TableStore store)
{
    /// <summary>A page stops once this much was evaluated (DynamoDB's 1 MB).</summary>
    public const int MaxPageBytes = 1024 * 1024;

    public ReadPage Read(ReadRequest request)
    {
        var table = request.Table;
        var index = request.Index;
        var schema = index?.Key ?? table.Key;
        var candidates = new List<(Item Item, string TableKey, string IndexKey)>();
        foreach (var stored in store.ReadItems(table))
        {
            if (index is not null && !index.Holds(stored.Item))
                continue;
            if (request.Key is { } key && !key.Matches(stored.Item))
                continue;
            string indexKey = index is null ? stored.DocumentKey : ItemKeys.DocumentKey(ItemKeys.KeyOf(stored.Item, index.Key), index.Key);
            if (request.TotalSegments > 1 && Segment(ItemKeys.DocumentKey(ItemKeys.KeyOf(stored.Item, new KeySchema(schema.Hash, null)), new KeySchema(schema.Hash, null)), request.TotalSegments) != request.Segment)
                continue;
            candidates.Add((stored.Item, stored.DocumentKey, indexKey));
        }
        Comparison<(Item Item, string TableKey, string IndexKey)> order = request.Key is null || schema.Range is null
            ? (a, b) => Tie(a.IndexKey, a.TableKey, b.IndexKey, b.TableKey)
            : (a, b) => AttributeValue.Compare(a.Item[schema.Range.Name], b.Item[schema.Range.Name]) is { } c and not 0 ? c : string.CompareOrdinal(a.TableKey, b.TableKey);
        candidates.Sort(order);
        if (!request.Forward)
            candidates.Reverse();
        int start = 0;
        if (request.ExclusiveStart is { } exclusive)
        {
            var position = Position(exclusive, table, index);
            while (start < candidates.Count && (request.Forward ? order(candidates[start], position) <= 0 : order(candidates[start], position) >= 0))
                start++;
        }
        var items = new List<Item>();
        int scanned = 0;
        long bytes = 0;
        Item? last = null;
        for (int i = start; i < candidates.Count; i++)
        {
            var item = candidates[i].Item;
            scanned++;
            bytes += AttributeValue.SizeOf(item);
            if (request.Filter is null || ConditionEvaluator.Matches(request.Filter, item))
                items.Add(index is null ? item : index.Project(item, table.Key));
            if (scanned == request.Limit || bytes >= MaxPageBytes)
            {
                last = LastKey(item, table, index);
                break;
            }
        }
        return new ReadPage(items, scanned, last);
    }

    private static int Tie(string aIndex, string aTable, string bIndex, string bTable) =>
        string.CompareOrdinal(aIndex, bIndex) is var c and not 0 ? Math.Sign(c) : Math.Sign(string.CompareOrdinal(aTable, bTable));

    private static int Segment(string hashKey, int total) => (int)(System.IO.Hashing.XxHash32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes(hashKey)) % (uint)total);

    /// <summary>Where an ExclusiveStartKey stands in the order; AWS's message when it is not a key of the table (and index).</summary>
    private static (Item Item, string TableKey, string IndexKey) Position(Item start, Table table, GlobalIndex? index)
    {
        try
        {
            var tableKey = ItemKeys.CheckKey(start.Where(p => table.Key.Contains(p.Key)).ToDictionary(StringComparer.Ordinal), table.Key);
            if (index is null)
            {
                if (start.Count != tableKey.Count)
                    throw DynamoDbErrors.Validation("The provided key element does not match the schema");
                return (start, ItemKeys.DocumentKey(tableKey, table.Key), ItemKeys.DocumentKey(tableKey, table.Key));
            }
            var indexKey = ItemKeys.CheckKey(start.Where(p => index.Key.Contains(p.Key)).ToDictionary(StringComparer.Ordinal), index.Key);
            return (start, ItemKeys.DocumentKey(tableKey, table.Key), ItemKeys.DocumentKey(indexKey, index.Key));
        }
        catch (DynamoDbException e)
        {
            throw DynamoDbErrors.Validation("The provided starting key is invalid: " + e.WireMessage);
        }
    }

    private static Item LastKey(Item item, Table table, GlobalIndex? index)
    {
        var key = ItemKeys.KeyOf(item, table.Key);
        if (index is not null)
            foreach (var element in index.Key.Elements)
                key[element.Name] = item[element.Name];
        return key;
    }
}
