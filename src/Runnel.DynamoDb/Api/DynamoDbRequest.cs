using System.Text.Json;
using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Api;

/// <summary>
/// One DynamoDB request: typed access to its members (a member of the wrong JSON type is AWS's SerializationException),
/// the checks the operations share (table names, expression parameters), the answer's writer, the service and the
/// caller's account. Not thread-safe: one per request.
/// </summary>
public sealed class DynamoDbRequest(JsonElement body, Utf8JsonWriter response, DynamoDbService service, string account)
{
    public JsonElement Body { get; } = body;
    public Utf8JsonWriter Response { get; } = response;
    public DynamoDbService Service { get; } = service;

    /// <summary>The caller's account, whose tables a name refers to.</summary>
    public string Account { get; } = account;

    public JsonElement? Member(string name) =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public string? String(string name) => Member(name) is { } value ? AttributeJson.Text(value, "String") : null;

    public bool? Bool(string name) => Member(name) is { } value ? AttributeJson.Boolean(value) : null;

    public long? Long(string name) => Member(name) is { } value ? Long(value, "Long") : null;

    public static long Long(JsonElement value, string type) => value.ValueKind switch
    {
        JsonValueKind.Number => value.TryGetInt64(out long l) ? l : (long)Math.Floor(value.GetDouble()),
        JsonValueKind.String => throw DynamoDbErrors.Serialization($"STRING_VALUE cannot be converted to {type}"),
        JsonValueKind.True => throw DynamoDbErrors.Serialization($"TRUE_VALUE cannot be converted to {type}"),
        JsonValueKind.False => throw DynamoDbErrors.Serialization($"FALSE_VALUE cannot be converted to {type}"),
        JsonValueKind.Array => throw DynamoDbErrors.Serialization($"Unrecognized collection type class java.lang.{type}"),
        _ => throw DynamoDbErrors.Serialization("Start of structure or map found where not expected"),
    };

    public Item? Item(string name) => Member(name) is { } value ? AttributeJson.ReadItem(value) : null;

    /// <summary>A JSON array member's elements (empty when absent).</summary>
    public static IEnumerable<JsonElement> Elements(JsonElement? list) => list switch
    {
        null => [],
        { ValueKind: JsonValueKind.Array } array => array.EnumerateArray(),
        _ => throw DynamoDbErrors.Serialization(list.Value.ValueKind == JsonValueKind.Object ? "Start of structure or map found where not expected" : "Unexpected field type"),
    };

    /// <summary>A table name member, checked as AWS checks it (null when absent and not required).</summary>
    public string? TableName(string member = "TableName", bool required = true)
    {
        string? name = String(member);
        string path = char.ToLowerInvariant(member[0]) + member[1..];
        var constraints = new Constraints();
        if (required)
            constraints.NotNull(name, path);
        constraints.Throw();
        if (name is not null && name.Length is < 3 or > 255)
            throw DynamoDbErrors.Validation($"{member} must be at least 3 characters long and at most 255 characters long");
        constraints.Name(name, path);
        constraints.Throw();
        return name;
    }

    /// <summary>
    /// AWS's rules on mixing the two generations of parameters: expression members and legacy members may not both
    /// appear; names and values only with expressions. Returns the context the expressions resolve through.
    /// </summary>
    public ExpressionContext Expressions(string[] expressionMembers, string[] legacyMembers)
    {
        var usedExpressions = expressionMembers.Where(m => Member(m) is not null).ToList();
        var usedLegacy = legacyMembers.Where(m => Member(m) is not null).ToList();
        if (usedExpressions.Count > 0 && usedLegacy.Count > 0)
            throw DynamoDbErrors.Validation("Can not use both expression and non-expression parameters in the same request: " +
                $"Non-expression parameters: {{{string.Join(", ", usedLegacy)}}} Expression parameters: {{{string.Join(", ", usedExpressions)}}}");
        if (Member("ExpressionAttributeNames") is not null && usedExpressions.Count == 0)
            throw DynamoDbErrors.Validation("ExpressionAttributeNames can only be specified when using expressions");
        var valueExpressions = expressionMembers.Where(m => m != "ProjectionExpression").ToList();
        if (Member("ExpressionAttributeValues") is not null && valueExpressions.All(m => Member(m) is null))
            throw DynamoDbErrors.Validation($"ExpressionAttributeValues can only be specified when using expressions: {string.Join(" and ", valueExpressions)} {(valueExpressions.Count > 1 ? "are" : "is")} null");
        return Context(Member("ExpressionAttributeNames"), Member("ExpressionAttributeValues"));
    }

    /// <summary>The names and values of one set of expressions (a request's, or one action's of a transaction).</summary>
    public static ExpressionContext Context(JsonElement? names, JsonElement? values)
    {
        Dictionary<string, string>? nameMap = null;
        Dictionary<string, AttributeValue>? valueMap = null;
        if (names is { } n)
        {
            if (n.ValueKind != JsonValueKind.Object)
                throw DynamoDbErrors.Serialization("Unexpected field type");
            nameMap = n.EnumerateObject().ToDictionary(p => p.Name, p => AttributeJson.Text(p.Value, "String"), StringComparer.Ordinal);
            if (nameMap.Count == 0)
                throw DynamoDbErrors.Validation("ExpressionAttributeNames must not be empty");
            foreach (string key in nameMap.Keys)
                if (key.Length < 2 || key[0] != '#' || !key[1..].All(IsWordPart))
                    throw DynamoDbErrors.Validation($"ExpressionAttributeNames contains invalid key: Syntax error; key: \"{key}\"");
        }
        if (values is { } v)
        {
            if (v.ValueKind != JsonValueKind.Object)
                throw DynamoDbErrors.Serialization("Unexpected field type");
            valueMap = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
            foreach (var property in v.EnumerateObject())
            {
                if (property.Name.Length < 2 || property.Name[0] != ':' || !property.Name[1..].All(IsWordPart))
                    throw DynamoDbErrors.Validation($"ExpressionAttributeValues contains invalid key: Syntax error; key: \"{property.Name}\"");
                try
                {
                    valueMap[property.Name] = AttributeJson.Read(property.Value);
                }
                catch (DynamoDbException e) when (e.ErrorType.EndsWith("#ValidationException", StringComparison.Ordinal))
                {
                    throw DynamoDbErrors.Validation($"ExpressionAttributeValues contains invalid value: {e.WireMessage} for key {property.Name}");
                }
            }
            if (valueMap.Count == 0)
                throw DynamoDbErrors.Validation("ExpressionAttributeValues must not be empty");
        }
        return new ExpressionContext(nameMap, valueMap);
    }

    private static bool IsWordPart(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';

    /// <summary>The condition of a write: ConditionExpression, or the legacy Expected with ConditionalOperator.</summary>
    public Condition? WriteCondition(ExpressionContext context, JsonElement? source = null)
    {
        var body = source ?? Body;
        string? expression = body.TryGetProperty("ConditionExpression", out var e) && e.ValueKind != JsonValueKind.Null ? AttributeJson.Text(e, "String") : null;
        if (expression is not null)
            return ConditionParser.Parse(expression, "ConditionExpression", context);
        if (body.TryGetProperty("Expected", out var expected) && expected.ValueKind != JsonValueKind.Null)
            return LegacyConditions.Parse(expected, String("ConditionalOperator"), expected: true);
        return null;
    }

    /// <summary>ProjectionExpression or the legacy AttributesToGet; null when neither asks for fewer attributes.</summary>
    public IReadOnlyList<DocumentPath>? Projection(ExpressionContext context)
    {
        if (String("ProjectionExpression") is { } projection)
            return ConditionParser.ParseProjection(projection, context);
        if (Member("AttributesToGet") is { } attributes)
        {
            var names = Elements(attributes).Select(a => AttributeJson.Text(a, "String")).ToList();
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
                throw DynamoDbErrors.Validation($"One or more parameter values were invalid: Duplicate value in attribute name: {names.GroupBy(n => n).First(g => g.Count() > 1).Key}");
            return names.Select(DocumentPath.Of).ToList();
        }
        return null;
    }

    /// <summary>The ACTIVE table an item operation names; ResourceNotFoundException when there is none.</summary>
    public Table ActiveTable(string name) => Service.Tables.Active(Account, name);

    /// <summary>Writes ConsumedCapacity when ReturnConsumedCapacity asks for it (TOTAL or INDEXES).</summary>
    public void Capacity(string table, double units, string? mode = null)
    {
        mode ??= String("ReturnConsumedCapacity");
        if (mode is not ("TOTAL" or "INDEXES"))
            return;
        Response.WriteStartObject("ConsumedCapacity");
        WriteCapacity(Response, table, units, mode);
        Response.WriteEndObject();
    }

    public static void WriteCapacity(Utf8JsonWriter w, string table, double units, string mode)
    {
        w.WriteString("TableName", table);
        w.WriteNumber("CapacityUnits", units);
        if (mode == "INDEXES")
        {
            w.WriteStartObject("Table");
            w.WriteNumber("CapacityUnits", units);
            w.WriteEndObject();
        }
    }

    /// <summary>Write units of an item write: 1 per KB of the larger of the item before and after (at least 1).</summary>
    public static double WriteUnits(Item? old, Item? @new) =>
        Math.Max(1, Math.Ceiling(Math.Max(old is null ? 0 : AttributeValue.SizeOf(old), @new is null ? 0 : AttributeValue.SizeOf(@new)) / 1024.0));

    /// <summary>Read units: 1 per 4 KB read (at least 1), half for an eventually consistent read.</summary>
    public static double ReadUnits(long bytes, bool consistent) => Math.Max(1, Math.Ceiling(bytes / 4096.0)) / (consistent ? 1 : 2);
}
