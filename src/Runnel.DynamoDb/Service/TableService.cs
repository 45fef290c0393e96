using Runnel.DynamoDb.Tables;
using Runnel.Storage.Metadata;

namespace Runnel.DynamoDb.Service;

/// <summary>
/// The table operations' decisions: create (ACTIVE at once), describe, change (billing, throughput, indexes, settings)
/// by compare-and-set on the table's document with a retry when another node changed it meanwhile, delete (its items
/// with it), list. Knows nothing of the wire. Thread-safe.
/// </summary>
public sealed class TableService(TableStore store, DynamoDbOptions options, TimeProvider clock)
{
    private const int ConflictRetries = 16;

    public DynamoDbOptions Options => options;

    public TableStore Store => store;

    public long NowMillis => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The table, or null when the account has none of that name.</summary>
    public Table? Find(string account, string name) => store.FindTable(account, name);

    /// <summary>The ACTIVE table for an item or index operation; ResourceNotFoundException otherwise.</summary>
    public Table Active(string account, string name) =>
        store.FindTable(account, name) is { Status: "ACTIVE" } table ? table : throw DynamoDbErrors.TableNotFound();

    public IReadOnlyList<Table> List(string account) => store.Tables(account);

    /// <summary>Stores a new table from its checked definition (id, time and status are given here); ResourceInUseException
    /// when the name is taken.</summary>
    public Table Create(Table draft)
    {
        if (store.FindTable(draft.Account, draft.Name) is not null)
            throw DynamoDbErrors.TableExists(draft.Name);
        if (store.Tables(draft.Account).Count >= options.MaxTables)
            throw DynamoDbErrors.LimitExceeded($"Subscriber limit exceeded: Only {options.MaxTables} tables can be created per account and region");
        long now = NowMillis;
        var table = draft with
        {
            Id = store.NextTableId(),
            TableId = Guid.NewGuid().ToString("D"),
            Status = "ACTIVE",
            CreatedMillis = now,
            PayPerRequestSinceMillis = draft.BillingMode == "PAY_PER_REQUEST" ? now : null,
        };
        return store.TryCreate(table) ?? throw DynamoDbErrors.TableExists(draft.Name);
    }

    /// <summary>
    /// Changes a table: <paramref name="change"/> gets it as stored now and returns it changed (or throws to refuse); the
    /// change is stored only if no other node changed the table meanwhile, and decided again if one did.
    /// </summary>
    public Table Update(string account, string name, Func<Table, Table> change, Func<DynamoDbException>? notFound = null)
    {
        for (int attempt = 0; ; attempt++)
        {
            var current = store.FindTable(account, name);
            if (current is null or { Status: "DELETING" })
                throw notFound?.Invoke() ?? DynamoDbErrors.TableNotFound(name);
            var changed = change(current);
            if (ReferenceEquals(changed, current))
                return current;
            try
            {
                return store.Save(changed);
            }
            catch (DocumentConflictException) when (attempt < ConflictRetries)
            {
            }
        }
    }

    /// <summary>Deletes a table and its items; returns it as it was, with status DELETING (as DeleteTable answers).</summary>
    public Table Delete(string account, string name)
    {
        var table = store.FindTable(account, name) ?? throw DynamoDbErrors.TableNotFound(name);
        if (table.DeletionProtection)
            throw DynamoDbErrors.Validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.");
        store.Delete(table);
        return table with { Status = "DELETING" };
    }

    /// <summary>How many items a table holds and their total size, counted now (AWS updates its figures every six hours).</summary>
    public (long Count, long Bytes) Size(Table table, GlobalIndex? index = null)
    {
        long count = 0, bytes = 0;
        foreach (var stored in store.ReadItems(table))
        {
            if (index is not null && !index.Holds(stored.Item))
                continue;
            count++;
            bytes += Model.AttributeValue.SizeOf(index is null ? stored.Item : index.Project(stored.Item, table.Key));
        }
        return (count, bytes);
    }
}
