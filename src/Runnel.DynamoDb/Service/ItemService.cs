using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Tables;
using Runnel.Storage.Metadata;

namespace Runnel.DynamoDb.Service;

/// <summary>What a write found and left: the item before (null: none) and after (null: deleted or unchanged absence).</summary>
public sealed record WriteOutcome(Item? Old, Item? New);

/// <summary>
/// A write of one item decided on what is stored: the condition (null: none) is evaluated on the stored item, and
/// <see cref="Change"/> gives the item to store (null: delete it).
/// </summary>
public sealed record ItemWrite(Table Table, Item Key, Condition? Condition, Func<Item?, Item?> Change)
{
    /// <summary>ReturnValuesOnConditionCheckFailure ALL_OLD: a failed condition carries the item as it was.</summary>
    public bool ReturnOldOnFailure { get; init; }

    /// <summary>An UpdateItem (its size error says so).</summary>
    public bool IsUpdate { get; init; }

    public string DocumentKey { get; } = ItemKeys.DocumentKey(Key, Table.Key);
}

/// <summary>
/// Item reads and the conditional write loop: read the item with its revision, evaluate the condition, decide the new
/// item, and store it by compare-and-set on that revision; when another writer (a thread here, another node of the
/// cluster) got there first, decide again on what it stored. So a condition holds at the moment of the write, on every
/// backend. Thread-safe.
/// </summary>
public sealed class ItemService(TableStore store)
{
    /// <summary>Largest item, as DynamoDB's limit (400 KB, counted by its rules).</summary>
    public const int MaxItemBytes = 400 * 1024;

    // Losing this many compare-and-set races in a row on one item means heavy contention: the client retries.
    private const int MaxAttempts = 64;

    public TableStore Store => store;

    public Item? Get(Table table, Item key) => store.ReadItem(table, ItemKeys.DocumentKey(key, table.Key))?.Item;

    public WriteOutcome Write(ItemWrite write)
    {
        var stored = store.ReadItem(write.Table, write.DocumentKey);
        for (int attempt = 0; ; attempt++)
        {
            var old = stored?.Item;
            if (write.Condition is { } condition && !ConditionEvaluator.Matches(condition, old))
                throw DynamoDbErrors.ConditionalCheckFailed(write.ReturnOldOnFailure ? old : null);
            var next = write.Change(old);
            if (next is not null)
                CheckSize(next, write.IsUpdate);
            try
            {
                if (next is null)
                {
                    if (stored is not null)
                        store.DeleteItem(write.Table, write.DocumentKey, stored.Revision);
                }
                else
                    store.WriteItem(write.Table, write.DocumentKey, next, stored?.Revision ?? 0);
                return new WriteOutcome(old, next);
            }
            catch (DocumentConflictException conflict)
            {
                if (attempt >= MaxAttempts)
                    throw DynamoDbErrors.TransactionConflict("Transaction is ongoing for the item"); // AWS's text for a write that meets another in flight
                stored = TableStore.Current(conflict); // the leader's state: decide again on it
                if (attempt > 2)
                    Thread.Sleep(Random.Shared.Next(0, Math.Min(attempt, 20)));
            }
        }
    }

    public static void CheckSize(Item item, bool update)
    {
        if (AttributeValue.SizeOf(item) > MaxItemBytes)
            throw DynamoDbErrors.Validation(update ? "Item size to update has exceeded the maximum allowed size" : "Item size has exceeded the maximum allowed size");
    }
}
