using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Api;

/// <summary>GetItem, PutItem, UpdateItem and DeleteItem: parse and check, let the service decide, write the answer.</summary>
internal static class ItemOperations
{
    public static void Get(DynamoDbRequest r)
    {
        string name = r.TableName()!;
        var key = RequiredItem(r, "Key");
        var context = r.Expressions(["ProjectionExpression"], ["AttributesToGet"]);
        var projection = r.Projection(context);
        context.CheckAllUsed();
        var table = r.ActiveTable(name);
        ItemKeys.CheckKey(key, table.Key);
        var item = r.Service.Items.Get(table, key);
        r.Response.WriteStartObject();
        if (item is not null)
            AttributeJson.WriteItem(r.Response, "Item", projection is null ? item : Documents.Project(item, projection));
        r.Capacity(table.Name, DynamoDbRequest.ReadUnits(item is null ? 0 : AttributeValue.SizeOf(item), r.Bool("ConsistentRead") == true));
        r.Response.WriteEndObject();
    }

    public static void Put(DynamoDbRequest r)
    {
        var (write, returnValues) = ParsePut(r, r.TableName()!, r.Body);
        WriteAndAnswer(r, write, returnValues);
    }

    /// <summary>A PutItem's or DeleteItem's write, answered: the old item when ALL_OLD asks for it, and the capacity used.</summary>
    private static void WriteAndAnswer(DynamoDbRequest r, ItemWrite write, string returnValues)
    {
        var outcome = r.Service.Items.Write(write);
        r.Response.WriteStartObject();
        if (returnValues == "ALL_OLD" && outcome.Old is not null)
            AttributeJson.WriteItem(r.Response, "Attributes", outcome.Old);
        r.Capacity(write.Table.Name, DynamoDbRequest.WriteUnits(outcome.Old, outcome.New));
        r.Response.WriteEndObject();
    }

    /// <summary>A PutItem's write (also a transaction's Put, whose members come from <paramref name="source"/>).</summary>
    public static (ItemWrite Write, string ReturnValues) ParsePut(DynamoDbRequest r, string name, System.Text.Json.JsonElement source, bool action = false)
    {
        var member = Sub(source, "Item");
        var constraints = new Constraints();
        constraints.NotNull(member, "item");
        string returnValues = Sub(source, "ReturnValues") is { } rv ? AttributeJson.Text(rv, "String") : "NONE";
        constraints.Enum(returnValues, "returnValues", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW");
        constraints.Throw();
        var item = AttributeJson.ReadItem(member!.Value);
        if (returnValues is not ("NONE" or "ALL_OLD"))
            throw DynamoDbErrors.Validation("ReturnValues can only be ALL_OLD or NONE");
        var context = Context(r, source, action, ["ConditionExpression"], ["Expected"]);
        var condition = r.WriteCondition(context, source);
        context.CheckAllUsed();
        var table = r.ActiveTable(name);
        var key = ItemKeys.CheckItem(item, table);
        return (new ItemWrite(table, key, condition, _ => item) { ReturnOldOnFailure = OldOnFailure(source) }, returnValues);
    }

    public static void Delete(DynamoDbRequest r)
    {
        var (write, returnValues) = ParseDelete(r, r.TableName()!, r.Body);
        WriteAndAnswer(r, write, returnValues);
    }

    public static (ItemWrite Write, string ReturnValues) ParseDelete(DynamoDbRequest r, string name, System.Text.Json.JsonElement source, bool action = false)
    {
        var key = RequiredItem(source, "Key");
        string returnValues = Sub(source, "ReturnValues") is { } rv ? AttributeJson.Text(rv, "String") : "NONE";
        var constraints = new Constraints();
        constraints.Enum(returnValues, "returnValues", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW");
        constraints.Throw();
        if (returnValues is not ("NONE" or "ALL_OLD"))
            throw DynamoDbErrors.Validation("ReturnValues can only be ALL_OLD or NONE");
        var context = Context(r, source, action, ["ConditionExpression"], ["Expected"]);
        var condition = r.WriteCondition(context, source);
        context.CheckAllUsed();
        var table = r.ActiveTable(name);
        ItemKeys.CheckKey(key, table.Key);
        return (new ItemWrite(table, key, condition, _ => null) { ReturnOldOnFailure = OldOnFailure(source) }, returnValues);
    }

    public static void Update(DynamoDbRequest r)
    {
        var (write, returnValues, touched) = ParseUpdate(r, r.TableName()!, r.Body);
        var outcome = r.Service.Items.Write(write);
        r.Response.WriteStartObject();
        var shown = returnValues switch
        {
            "ALL_OLD" => outcome.Old,
            "ALL_NEW" => outcome.New,
            "UPDATED_OLD" => outcome.Old is null ? null : Only(outcome.Old, touched),
            "UPDATED_NEW" => outcome.New is null ? null : Only(outcome.New, touched),
            _ => null,
        };
        if (shown is { Count: > 0 })
            AttributeJson.WriteItem(r.Response, "Attributes", shown);
        r.Capacity(write.Table.Name, DynamoDbRequest.WriteUnits(outcome.Old, outcome.New));
        r.Response.WriteEndObject();
    }

    /// <summary>An UpdateItem's write, its ReturnValues and the top-level attributes it changes (for UPDATED_OLD and UPDATED_NEW).</summary>
    public static (ItemWrite Write, string ReturnValues, HashSet<string> Touched) ParseUpdate(DynamoDbRequest r, string name, System.Text.Json.JsonElement source, bool action = false)
    {
        var key = RequiredItem(source, "Key");
        string returnValues = Sub(source, "ReturnValues") is { } rv ? AttributeJson.Text(rv, "String") : "NONE";
        var constraints = new Constraints();
        constraints.Enum(returnValues, "returnValues", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW");
        constraints.Throw();
        var legacy = Sub(source, "AttributeUpdates") is { } updates ? AttributeUpdate.Parse(updates) : null;
        var context = Context(r, source, action, ["UpdateExpression", "ConditionExpression"], ["AttributeUpdates", "Expected"]);
        var actions = Sub(source, "UpdateExpression") is { } expression ? UpdateParser.Parse(AttributeJson.Text(expression, "String"), context) : null;
        var condition = r.WriteCondition(context, source);
        context.CheckAllUsed();
        var table = r.ActiveTable(name);
        ItemKeys.CheckKey(key, table.Key);
        var touched = new HashSet<string>((actions?.Select(a => a.Path.Head) ?? legacy?.Select(u => u.Attribute) ?? []), StringComparer.Ordinal);
        foreach (string attribute in touched)
            if (table.Key.Contains(attribute))
                throw DynamoDbErrors.InvalidParameter($"Cannot update attribute {attribute}. This attribute is part of the key");
        foreach (var index in table.Indexes)
            foreach (var element in index.Key.Elements)
                if (actions?.Any(a => a.Path.Head == element.Name && !a.Path.IsTopLevel) == true)
                    throw DynamoDbErrors.Validation($"Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: {element.Name}");
        Item? Change(Item? old)
        {
            var updated = actions is not null ? UpdateApplier.Apply(actions, old, key)
                : legacy is not null ? AttributeUpdate.Apply(legacy, old, key)
                : new Item(old ?? key, StringComparer.Ordinal);
            ItemKeys.CheckItem(updated, table);
            return updated;
        }
        return (new ItemWrite(table, key, condition, Change) { ReturnOldOnFailure = OldOnFailure(source), IsUpdate = true }, returnValues, touched);
    }

    private static Item Only(Item item, HashSet<string> attributes) =>
        item.Where(p => attributes.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static bool OldOnFailure(System.Text.Json.JsonElement source) =>
        Sub(source, "ReturnValuesOnConditionCheckFailure") is { } v && AttributeJson.Text(v, "String") == "ALL_OLD";

    /// <summary>A member of the request or of a transaction's action.</summary>
    public static System.Text.Json.JsonElement? Sub(System.Text.Json.JsonElement source, string name) =>
        source.ValueKind == System.Text.Json.JsonValueKind.Object && source.TryGetProperty(name, out var value) && value.ValueKind != System.Text.Json.JsonValueKind.Null ? value : null;

    private static Item RequiredItem(DynamoDbRequest r, string member) => RequiredItem(r.Body, member);

    public static Item RequiredItem(System.Text.Json.JsonElement source, string member)
    {
        var value = Sub(source, member);
        var constraints = new Constraints();
        constraints.NotNull(value, char.ToLowerInvariant(member[0]) + member[1..]);
        constraints.Throw();
        return AttributeJson.ReadItem(value!.Value);
    }

    /// <summary>The expression parameters of the request, or of one action of a transaction (which has its own names and values).</summary>
    private static ExpressionContext Context(DynamoDbRequest r, System.Text.Json.JsonElement source, bool action, string[] expressions, string[] legacy)
    {
        if (!action)
            return r.Expressions(expressions, legacy);
        return DynamoDbRequest.Context(Sub(source, "ExpressionAttributeNames"), Sub(source, "ExpressionAttributeValues"));
    }
}
