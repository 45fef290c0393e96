using System.Text.Json;
using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Api;

/// <summary>BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems. Nothing is ever left unprocessed.</summary>
internal static class BatchOperations
{
    private const int MaxBatchGetKeys = 100;
    private const int MaxBatchWrites = 25;
    private const int MaxTransactItems = 100;

    public static void BatchGet(DynamoDbRequest r)
    {
        var requests = RequestItems(r);
        int keys = 0;
        var reads = new List<(Table Table, List<Item> Keys, IReadOnlyList<DocumentPath>? Projection, bool Consistent)>();
        foreach (var entry in requests.EnumerateObject())
        {
            CheckTableName(entry.Name);
            var constraints = new Constraints();
            var keysMember = ItemOperations.Sub(entry.Value, "Keys");
            constraints.NotNull(keysMember, $"requestItems.{entry.Name}.member.keys");
            constraints.Throw();
            var list = DynamoDbRequest.Elements(keysMember).Select(AttributeJson.ReadItem).ToList();
            keys += list.Count;
            if (keys > MaxBatchGetKeys)
                throw DynamoDbErrors.Validation("Too many items requested for the BatchGetItem call");
            var context = DynamoDbRequest.Context(ItemOperations.Sub(entry.Value, "ExpressionAttributeNames"), null);
            IReadOnlyList<DocumentPath>? projection = ItemOperations.Sub(entry.Value, "ProjectionExpression") is { } p
                ? ConditionParser.ParseProjection(AttributeJson.Text(p, "String"), context)
                : ItemOperations.Sub(entry.Value, "AttributesToGet") is { } a ? DynamoDbRequest.Elements(a).Select(n => DocumentPath.Of(AttributeJson.Text(n, "String"))).ToList() : null;
            context.CheckAllUsed();
            bool consistent = ItemOperations.Sub(entry.Value, "ConsistentRead") is { } c && AttributeJson.Boolean(c);
            reads.Add((r.ActiveTable(entry.Name), list, projection, consistent));
        }
        foreach (var (table, list, _, _) in reads)
        {
            foreach (var key in list)
                ItemKeys.CheckKey(key, table.Key);
            if (list.Select(k => ItemKeys.DocumentKey(k, table.Key)).Distinct().Count() != list.Count)
                throw DynamoDbErrors.Validation("Provided list of item keys contains duplicates");
        }
        var w = r.Response;
        w.WriteStartObject();
        w.WriteStartObject("Responses");
        var capacity = new List<(string Table, double Units)>();
        foreach (var (table, list, projection, consistent) in reads)
        {
            w.WriteStartArray(table.Name);
            long bytes = 0;
            foreach (var key in list)
                if (r.Service.Items.Get(table, key) is { } item)
                {
                    bytes += AttributeValue.SizeOf(item);
                    AttributeJson.WriteItem(w, projection is null ? item : Documents.Project(item, projection));
                }
            w.WriteEndArray();
            capacity.Add((table.Name, DynamoDbRequest.ReadUnits(bytes, consistent)));
        }
        w.WriteEndObject();
        w.WriteStartObject("UnprocessedKeys");
        w.WriteEndObject();
        WriteCapacities(r, capacity);
        w.WriteEndObject();
    }

    public static void BatchWrite(DynamoDbRequest r)
    {
        var requests = RequestItems(r);
        var writes = new List<ItemWrite>();
        int count = 0;
        foreach (var entry in requests.EnumerateObject())
        {
            CheckTableName(entry.Name);
            var list = DynamoDbRequest.Elements(entry.Value).ToList();
            count += list.Count;
            if (list.Count == 0 || count > MaxBatchWrites)
                throw DynamoDbErrors.Validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]");
            var table = r.ActiveTable(entry.Name);
            foreach (var request in list)
            {
                var put = ItemOperations.Sub(request, "PutRequest");
                var delete = ItemOperations.Sub(request, "DeleteRequest");
                if ((put is null) == (delete is null))
                    throw DynamoDbErrors.Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
                if (put is { } p)
                {
                    var item = ItemOperations.RequiredItem(p, "Item");
                    writes.Add(new ItemWrite(table, ItemKeys.CheckItem(item, table), null, _ => item));
                }
                else
                {
                    var key = ItemKeys.CheckKey(ItemOperations.RequiredItem(delete!.Value, "Key"), table.Key);
                    writes.Add(new ItemWrite(table, key, null, _ => null));
                }
            }
        }
        if (writes.GroupBy(w => (w.Table.Id, w.DocumentKey)).Any(g => g.Count() > 1))
            throw DynamoDbErrors.Validation("Provided list of item keys contains duplicates");
        var capacity = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            var outcome = r.Service.Items.Write(write);
            capacity[write.Table.Name] = capacity.GetValueOrDefault(write.Table.Name) + DynamoDbRequest.WriteUnits(outcome.Old, outcome.New);
        }
        var w = r.Response;
        w.WriteStartObject();
        w.WriteStartObject("UnprocessedItems");
        w.WriteEndObject();
        WriteCapacities(r, capacity.Select(p => (p.Key, p.Value)).ToList());
        w.WriteEndObject();
    }

    public static void TransactWrite(DynamoDbRequest r)
    {
        var items = TransactItems(r);
        var actions = new List<TransactAction>();
        int i = 0;
        foreach (var entry in items)
        {
            i++;
            string path = $"transactItems.{i}.member";
            var (kind, action) = One(entry, path, "ConditionCheck", "Put", "Delete", "Update");
            string name = ActionTable(action, $"{path}.{char.ToLowerInvariant(kind[0])}{kind[1..]}");
            switch (kind)
            {
                case "Put":
                    actions.Add(new TransactAction(ItemOperations.ParsePut(r, name, action, action: true).Write, false));
                    break;
                case "Delete":
                    actions.Add(new TransactAction(ItemOperations.ParseDelete(r, name, action, action: true).Write, false));
                    break;
                case "Update":
                    Require(action, "UpdateExpression", $"{path}.update.updateExpression");
                    actions.Add(new TransactAction(ItemOperations.ParseUpdate(r, name, action, action: true).Write, false));
                    break;
                default:
                    Require(action, "ConditionExpression", $"{path}.conditionCheck.conditionExpression");
                    var (write, _) = ItemOperations.ParseDelete(r, name, action, action: true);
                    actions.Add(new TransactAction(write, true));
                    break;
            }
        }
        if (actions.GroupBy(a => (a.Write.Table.Id, a.Write.DocumentKey)).Any(g => g.Count() > 1))
            throw DynamoDbErrors.Validation("Transaction request cannot include multiple operations on one item");
        r.Service.Transactions.Write(actions);
        r.Response.WriteStartObject();
        r.Response.WriteEndObject();
    }

    public static void TransactGet(DynamoDbRequest r)
    {
        var items = TransactItems(r);
        var gets = new List<(Table Table, Item Key, IReadOnlyList<DocumentPath>? Projection)>();
        int i = 0;
        foreach (var entry in items)
        {
            string path = $"transactItems.{++i}.member";
            var (_, action) = One(entry, path, "Get");
            string name = ActionTable(action, $"{path}.get");
            var key = ItemOperations.RequiredItem(action, "Key");
            var context = DynamoDbRequest.Context(ItemOperations.Sub(action, "ExpressionAttributeNames"), null);
            var projection = ItemOperations.Sub(action, "ProjectionExpression") is { } p ? ConditionParser.ParseProjection(AttributeJson.Text(p, "String"), context) : null;
            context.CheckAllUsed();
            var table = r.ActiveTable(name);
            gets.Add((table, ItemKeys.CheckKey(key, table.Key), projection));
        }
        var w = r.Response;
        w.WriteStartObject();
        w.WriteStartArray("Responses");
        foreach (var (table, key, projection) in gets)
        {
            w.WriteStartObject();
            if (r.Service.Items.Get(table, key) is { } item)
                AttributeJson.WriteItem(w, "Item", projection is null ? item : Documents.Project(item, projection));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static JsonElement RequestItems(DynamoDbRequest r)
    {
        var requests = r.Member("RequestItems");
        var constraints = new Constraints();
        constraints.NotNull(requests, "requestItems");
        constraints.Throw();
        if (requests!.Value.ValueKind != JsonValueKind.Object)
            throw DynamoDbErrors.Serialization("Unexpected field type");
        constraints.Require(requests.Value.EnumerateObject().Any(), "{}", "requestItems", "Member must have length greater than or equal to 1");
        constraints.Throw();
        return requests.Value;
    }

    private static List<JsonElement> TransactItems(DynamoDbRequest r)
    {
        var member = r.Member("TransactItems");
        var constraints = new Constraints();
        constraints.NotNull(member, "transactItems");
        constraints.Throw();
        var items = DynamoDbRequest.Elements(member).ToList();
        constraints.Require(items.Count >= 1, "[]", "transactItems", "Member must have length greater than or equal to 1");
        constraints.Require(items.Count <= MaxTransactItems, $"[{items.Count} items]", "transactItems", $"Member must have length less than or equal to {MaxTransactItems}");
        constraints.Throw();
        return items;
    }

    /// <summary>The one action an element of TransactItems holds.</summary>
    private static (string Kind, JsonElement Action) One(JsonElement entry, string path, params string[] kinds)
    {
        var present = kinds.Where(k => ItemOperations.Sub(entry, k) is not null).ToList();
        if (present.Count != 1)
            throw DynamoDbErrors.Validation($"TransactItems can only contain one of {string.Join(", ", kinds)}");
        return (present[0], ItemOperations.Sub(entry, present[0])!.Value);
    }

    private static string ActionTable(JsonElement action, string path)
    {
        string? name = TableDefinitions.Text(action, "TableName");
        var constraints = new Constraints();
        constraints.NotNull(name, $"{path}.tableName");
        constraints.Name(name, $"{path}.tableName", 1);
        constraints.Throw();
        return name!;
    }

    private static void Require(JsonElement action, string member, string path)
    {
        var constraints = new Constraints();
        constraints.NotNull(ItemOperations.Sub(action, member), path);
        constraints.Throw();
    }

    private static void CheckTableName(string name)
    {
        var constraints = new Constraints();
        constraints.Name(name, "requestItems.key", 1);
        constraints.Throw();
    }

    private static void WriteCapacities(DynamoDbRequest r, List<(string Table, double Units)> capacity)
    {
        string? mode = r.String("ReturnConsumedCapacity");
        if (mode is not ("TOTAL" or "INDEXES"))
            return;
        r.Response.WriteStartArray("ConsumedCapacity");
        foreach (var (table, units) in capacity)
        {
            r.Response.WriteStartObject();
            DynamoDbRequest.WriteCapacity(r.Response, table, units, mode);
            r.Response.WriteEndObject();
        }
        r.Response.WriteEndArray();
    }
}
