using System.Text.Json;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Expressions;

/// <summary>
/// The legacy conditional parameters, which the KCL still sends: <c>Expected</c> (Value, Exists, ComparisonOperator,
/// AttributeValueList), <c>KeyConditions</c>, <c>QueryFilter</c> and <c>ScanFilter</c> (ComparisonOperator and
/// AttributeValueList), joined by <c>ConditionalOperator</c>. Each is translated into the condition an expression
/// would give, so one evaluator serves both. Thread-safe: stateless.
/// </summary>
public static class LegacyConditions
{
    private static readonly Dictionary<string, (int Min, int Max, string[] Types)> Operators = new(StringComparer.Ordinal)
    {
        ["EQ"] = (1, 1, ["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M"]),
        ["NE"] = (1, 1, ["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M"]),
        ["LE"] = (1, 1, ["S", "N", "B"]),
        ["LT"] = (1, 1, ["S", "N", "B"]),
        ["GE"] = (1, 1, ["S", "N", "B"]),
        ["GT"] = (1, 1, ["S", "N", "B"]),
        ["NOT_NULL"] = (0, 0, []),
        ["NULL"] = (0, 0, []),
        ["CONTAINS"] = (1, 1, ["S", "N", "B"]),
        ["NOT_CONTAINS"] = (1, 1, ["S", "N", "B"]),
        ["BEGINS_WITH"] = (1, 1, ["S", "B"]),
        ["IN"] = (1, int.MaxValue, ["S", "N", "B"]),
        ["BETWEEN"] = (2, 2, ["S", "N", "B"]),
    };

    /// <summary>The condition a map of legacy conditions states, or null for an empty map.</summary>
    /// <param name="expected">True for <c>Expected</c>, whose conditions may also use Value and Exists.</param>
    public static Condition? Parse(JsonElement conditions, string? conditionalOperator, bool expected)
    {
        if (conditions.ValueKind != JsonValueKind.Object)
            throw DynamoDbErrors.Serialization("Unexpected field type");
        Condition? all = null;
        foreach (var member in conditions.EnumerateObject())
        {
            var one = expected ? ParseExpected(member.Name, member.Value) : ParseCondition(member.Name, member.Value);
            all = all is null ? one : conditionalOperator == "OR" ? new Or(all, one) : new And(all, one);
        }
        return all;
    }

    private static Condition ParseExpected(string attribute, JsonElement condition)
    {
        bool hasList = condition.TryGetProperty("AttributeValueList", out var list) && list.ValueKind != JsonValueKind.Null;
        bool hasValue = condition.TryGetProperty("Value", out var value) && value.ValueKind != JsonValueKind.Null;
        bool hasExists = condition.TryGetProperty("Exists", out var exists) && exists.ValueKind != JsonValueKind.Null;
        bool hasOperator = condition.TryGetProperty("ComparisonOperator", out var op) && op.ValueKind != JsonValueKind.Null;
        if (hasList && hasValue)
            throw DynamoDbErrors.InvalidParameter($"Value and AttributeValueList cannot be used together for Attribute: {attribute}");
        if (hasOperator)
        {
            if (hasExists)
                throw DynamoDbErrors.InvalidParameter($"Exists and ComparisonOperator cannot be used together for Attribute: {attribute}");
            string name = AttributeJson.Text(op, "String");
            if (name is not ("NULL" or "NOT_NULL") && !hasList && !hasValue)
                throw DynamoDbErrors.InvalidParameter($"Value or AttributeValueList must be used with ComparisonOperator: {name} for Attribute: {attribute}");
            var values = hasList ? Values(list) : hasValue ? [AttributeJson.Read(value)] : [];
            return Translate(attribute, name, values);
        }
        if (hasList)
            throw DynamoDbErrors.InvalidParameter($"AttributeValueList can only be used with a ComparisonOperator for Attribute: {attribute}");
        bool mustExist = !hasExists || AttributeJson.Boolean(exists);
        if (mustExist && !hasValue)
            throw DynamoDbErrors.InvalidParameter($"Value must be provided when Exists is {(hasExists ? "true" : "null")} for Attribute: {attribute}");
        if (!mustExist && hasValue)
            throw DynamoDbErrors.InvalidParameter($"Value cannot be used when Exists is false for Attribute: {attribute}");
        var path = new PathOperand(DocumentPath.Of(attribute));
        return mustExist
            ? new Comparison("=", path, new ValueOperand(":expected", AttributeJson.Read(value)))
            : new FunctionCondition("attribute_not_exists", [path]);
    }

    private static Condition ParseCondition(string attribute, JsonElement condition)
    {
        if (!condition.TryGetProperty("ComparisonOperator", out var op) || op.ValueKind == JsonValueKind.Null)
            throw DynamoDbErrors.Validation("1 validation error detected: Value null at 'comparisonOperator' failed to satisfy constraint: Member must not be null");
        var values = condition.TryGetProperty("AttributeValueList", out var list) && list.ValueKind != JsonValueKind.Null ? Values(list) : [];
        return Translate(attribute, AttributeJson.Text(op, "String"), values);
    }

    private static List<AttributeValue> Values(JsonElement list) => list.ValueKind == JsonValueKind.Array
        ? list.EnumerateArray().Select(AttributeJson.Read).ToList()
        : throw DynamoDbErrors.Serialization("Unexpected field type");

    private static Condition Translate(string attribute, string name, List<AttributeValue> values)
    {
        if (!Operators.TryGetValue(name, out var rule))
            throw DynamoDbErrors.Validation($"1 validation error detected: Value '{name}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]");
        if (values.Count < rule.Min || values.Count > rule.Max)
            throw DynamoDbErrors.InvalidParameter($"Invalid number of argument(s) for the {name} ComparisonOperator");
        if (values.Count > 0 && values.Any(v => v.Type != values[0].Type))
            throw DynamoDbErrors.InvalidParameter("AttributeValues inside AttributeValueList must be of same type");
        foreach (var value in values)
            if (!rule.Types.Contains(value.Type.ToString()))
                throw DynamoDbErrors.InvalidParameter($"ComparisonOperator {name} is not valid for {value.Type} AttributeValue type");
        if (name == "BETWEEN" && AttributeValue.Compare(values[0], values[1]) > 0)
            throw DynamoDbErrors.Validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound");
        var path = new PathOperand(DocumentPath.Of(attribute));
        var operands = values.Select((v, i) => (Operand)new ValueOperand($":legacy{i}", v)).ToList();
        return name switch
        {
            "EQ" => new Comparison("=", path, operands[0]),
            "NE" => new Comparison("<>", path, operands[0]),
            "LE" => new Comparison("<=", path, operands[0]),
            "LT" => new Comparison("<", path, operands[0]),
            "GE" => new Comparison(">=", path, operands[0]),
            "GT" => new Comparison(">", path, operands[0]),
            "NOT_NULL" => new FunctionCondition("attribute_exists", [path]),
            "NULL" => new FunctionCondition("attribute_not_exists", [path]),
            "CONTAINS" => new FunctionCondition("contains", [path, operands[0]]),
            "NOT_CONTAINS" => new Not(new FunctionCondition("contains", [path, operands[0]])),
            "BEGINS_WITH" => new FunctionCondition("begins_with", [path, operands[0]]),
            "IN" => new In(path, operands),
            _ => new Between(path, operands[0], operands[1]),
        };
    }
}

/// <summary>One entry of the legacy <c>AttributeUpdates</c>: PUT (the default), ADD or DELETE of one top-level attribute.</summary>
public sealed record AttributeUpdate(string Attribute, string Action, AttributeValue? Value)
{
    /// <summary>Reads AttributeUpdates with AWS's checks.</summary>
    public static IReadOnlyList<AttributeUpdate> Parse(JsonElement updates)
    {
        if (updates.ValueKind != JsonValueKind.Object)
            throw DynamoDbErrors.Serialization("Unexpected field type");
        var parsed = new List<AttributeUpdate>();
        foreach (var member in updates.EnumerateObject())
        {
            var value = member.Value.TryGetProperty("Value", out var v) && v.ValueKind != JsonValueKind.Null ? AttributeJson.Read(v) : null;
            string action = member.Value.TryGetProperty("Action", out var a) && a.ValueKind != JsonValueKind.Null ? AttributeJson.Text(a, "String") : "PUT";
            if (action is not ("PUT" or "ADD" or "DELETE"))
                throw DynamoDbErrors.Validation($"1 validation error detected: Value '{action}' at 'attributeUpdates.{member.Name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]");
            if (value is null && action != "DELETE")
                throw DynamoDbErrors.InvalidParameter("Only DELETE action is allowed when no attribute value is specified");
            if (value is not null && action == "DELETE" && !value.IsSet)
                throw DynamoDbErrors.InvalidParameter($"DELETE action with value is not supported for the type {value.Type}");
            if (value is not null && action == "ADD" && !(value.IsSet || value.Type is AttributeType.N or AttributeType.L))
                throw DynamoDbErrors.InvalidParameter($"ADD action is not supported for the type {value.Type}");
            parsed.Add(new AttributeUpdate(member.Name, action, value));
        }
        return parsed;
    }

    /// <summary>The item after the updates (a new copy); <paramref name="original"/> is null for a key not stored yet.</summary>
    public static Item Apply(IReadOnlyList<AttributeUpdate> updates, Item? original, Item key)
    {
        var item = new Item(original ?? key, StringComparer.Ordinal);
        foreach (var update in updates)
        {
            var current = item.GetValueOrDefault(update.Attribute);
            AttributeValue? next;
            try
            {
                next = update.Action switch
                {
                    "PUT" => update.Value,
                    "ADD" => UpdateApplier.Add(current, update.Value!),
                    _ => update.Value is null ? null : UpdateApplier.Subtract(current, update.Value),
                };
            }
            catch (DynamoDbException e) when (e.WireMessage == "An operand in the update expression has an incorrect data type")
            {
                throw DynamoDbErrors.Validation("Type mismatch for attribute to update");
            }
            if (next is null)
                item.Remove(update.Attribute);
            else
                item[update.Attribute] = next;
        }
        return item;
    }
}
