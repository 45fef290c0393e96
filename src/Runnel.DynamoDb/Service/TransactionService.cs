using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Tables;
using Runnel.Storage.Metadata;

namespace Runnel.DynamoDb.Service;

/// <summary>One action of TransactWriteItems: a Put, Update or Delete (<see cref="ItemWrite"/>), or a ConditionCheck.</summary>
public sealed record TransactAction(ItemWrite Write, bool CheckOnly);

/// <summary>
/// TransactWriteItems over single-document compare-and-set: every condition is evaluated on the items as read, and
/// only when all hold are the items written, each on the revision read. When another writer changes one of them
/// before it is written, the writes already made are put back (each on the revision this transaction wrote) and the
/// whole transaction is decided again on what is stored now. Readers can see a transaction half written for the
/// moment between its first and last write (docs/compatibility.md). Thread-safe.
/// </summary>
public sealed class TransactionService(TableStore store)
{
    private const int MaxAttempts = 32;

    public void Write(IReadOnlyList<TransactAction> actions)
    {
        for (int attempt = 0; ; attempt++)
        {
            var stored = actions.Select(a => store.ReadItem(a.Write.Table, a.Write.DocumentKey)).ToList();
            var reasons = new List<CancellationReason>();
            var next = new List<Item?>();
            for (int i = 0; i < actions.Count; i++)
            {
                var write = actions[i].Write;
                var old = stored[i]?.Item;
                if (write.Condition is { } condition && !ConditionEvaluator.Matches(condition, old))
                {
                    reasons.Add(new CancellationReason("ConditionalCheckFailed", "The conditional request failed", write.ReturnOldOnFailure ? old : null));
                    next.Add(old);
                    continue;
                }
                try
                {
                    var changed = actions[i].CheckOnly ? old : write.Change(old);
                    if (changed is not null)
                        ItemService.CheckSize(changed, write.IsUpdate);
                    next.Add(changed);
                    reasons.Add(new CancellationReason("None"));
                }
                catch (DynamoDbException e) when (e.ErrorType.EndsWith("#ValidationException", StringComparison.Ordinal))
                {
                    reasons.Add(new CancellationReason("ValidationError", e.WireMessage));
                    next.Add(old);
                }
            }
            if (reasons.Any(r => r.Code != "None"))
                throw DynamoDbErrors.TransactionCanceled(reasons);
            int conflicted = Apply(actions, stored, next);
            if (conflicted < 0)
                return;
            if (attempt >= MaxAttempts)
                throw DynamoDbErrors.TransactionCanceled(actions.Select((_, i) => i == conflicted
                    ? new CancellationReason("TransactionConflict", "Transaction is ongoing for the item")
                    : new CancellationReason("None")).ToList());
            Thread.Sleep(Random.Shared.Next(0, Math.Min(attempt + 1, 20)));
        }
    }

    /// <summary>Writes every action's item; -1 when all were written, else the index of the one that met a newer
    /// revision, after the writes before it were put back.</summary>
    private int Apply(IReadOnlyList<TransactAction> actions, List<StoredItem?> stored, List<Item?> next)
    {
        var written = new List<(int Index, ulong Revision)>();
        for (int i = 0; i < actions.Count; i++)
        {
            if (actions[i].CheckOnly)
                continue;
            var write = actions[i].Write;
            try
            {
                if (next[i] is { } item)
                    written.Add((i, store.WriteItem(write.Table, write.DocumentKey, item, stored[i]?.Revision ?? 0)));
                else if (stored[i] is { } old)
                {
                    store.DeleteItem(write.Table, write.DocumentKey, old.Revision);
                    written.Add((i, 0));
                }
            }
            catch (DocumentConflictException)
            {
                Undo(actions, stored, written);
                return i;
            }
        }
        // A ConditionCheck's item must not have changed either: checked last, so that a change meanwhile undoes the rest.
        for (int i = 0; i < actions.Count; i++)
        {
            if (!actions[i].CheckOnly)
                continue;
            var now = store.ReadItem(actions[i].Write.Table, actions[i].Write.DocumentKey);
            if (now?.Revision != stored[i]?.Revision)
            {
                Undo(actions, stored, written);
                return i;
            }
        }
        return -1;
    }

    private void Undo(IReadOnlyList<TransactAction> actions, List<StoredItem?> stored, List<(int Index, ulong Revision)> written)
    {
        foreach (var (i, revision) in written)
        {
            var write = actions[i].Write;
            try
            {
                if (stored[i] is { } old)
                    store.WriteItem(write.Table, write.DocumentKey, old.Item, revision);
                else
                    store.DeleteItem(write.Table, write.DocumentKey, revision);
            }
            catch (DocumentConflictException)
            {
                // Another writer changed the item after this transaction wrote it: its write stands, as it would have had
                // this transaction finished first.
            }
        }
    }
}
