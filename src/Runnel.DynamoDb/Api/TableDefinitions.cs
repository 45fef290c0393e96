using System.Text.Json;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Api;

/// <summary>
/// The parts of CreateTable and UpdateTable that define a table: attribute definitions, key schemas, throughput and
/// global secondary indexes, read and checked with AWS's messages in AWS's order.
/// </summary>
internal static class TableDefinitions
{
    private const long MaxCapacity = 1_000_000_000_000;

    public static List<KeyElement> Attributes(JsonElement? definitions, Constraints constraints, string path = "attributeDefinitions")
    {
        var list = new List<KeyElement>();
        int i = 0;
        foreach (var definition in DynamoDbRequest.Elements(definitions))
        {
            i++;
            string? name = Text(definition, "AttributeName");
            string? type = Text(definition, "AttributeType");
            constraints.NotNull(name, $"{path}.{i}.member.attributeName");
            constraints.NotNull(type, $"{path}.{i}.member.attributeType");
            constraints.Enum(type, $"{path}.{i}.member.attributeType", "B", "N", "S");
            if (name is not null && type is "B" or "N" or "S")
                list.Add(new KeyElement(name, Enum.Parse<AttributeType>(type)));
        }
        return list;
    }

    /// <summary>A key schema's elements as given: (name, HASH or RANGE).</summary>
    public static List<(string Name, string Type)> KeyElements(JsonElement? schema, Constraints constraints, string path)
    {
        var elements = new List<(string, string)>();
        int i = 0;
        foreach (var element in DynamoDbRequest.Elements(schema))
        {
            i++;
            string? name = Text(element, "AttributeName");
            string? type = Text(element, "KeyType");
            constraints.NotNull(name, $"{path}.{i}.member.attributeName");
            constraints.NotNull(type, $"{path}.{i}.member.keyType");
            constraints.Enum(type, $"{path}.{i}.member.keyType", "HASH", "RANGE");
            if (name is not null && type is not null)
                elements.Add((name, type));
        }
        if (schema is not null)
        {
            constraints.Require(i >= 1, "[]", path, "Member must have length greater than or equal to 1");
            constraints.Require(i <= 2, $"[{i} elements]", path, "Member must have length less than or equal to 2");
        }
        return elements;
    }

    /// <summary>The key schema of the elements, each defined; AWS's messages for an ill-formed one.</summary>
    public static KeySchema Key(List<(string Name, string Type)> elements, List<KeyElement> definitions)
    {
        var defined = definitions.Select(d => d.Name).ToList();
        var names = elements.Select(e => e.Name).ToList();
        if (names.Count > defined.Count)
            throw DynamoDbErrors.Validation("Invalid KeySchema: Some index key attribute have no definition");
        if (names.Any(n => !defined.Contains(n)))
            throw DynamoDbErrors.InvalidParameter($"Some index key attributes are not defined in AttributeDefinitions. Keys: [{string.Join(", ", names)}], AttributeDefinitions: [{string.Join(", ", defined)}]");
        if (names.Count == 2 && names[0] == names[1])
            throw DynamoDbErrors.Validation("Both the Hash Key and the Range Key element in the KeySchema have the same name");
        if (elements[0].Type != "HASH")
            throw DynamoDbErrors.Validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
        if (elements.Count == 2 && elements[1].Type != "RANGE")
            throw DynamoDbErrors.Validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
        KeyElement Typed(string name) => definitions.First(d => d.Name == name);
        return new KeySchema(Typed(names[0]), names.Count == 2 ? Typed(names[1]) : null);
    }

    /// <summary>ProvisionedThroughput as given (null when absent), its members checked.</summary>
    public static Throughput? Throughput(JsonElement? member, Constraints constraints, string path)
    {
        if (member is not { } throughput)
            return null;
        long? read = throughput.TryGetProperty("ReadCapacityUnits", out var r) && r.ValueKind != JsonValueKind.Null ? DynamoDbRequest.Long(r, "Long") : null;
        long? write = throughput.TryGetProperty("WriteCapacityUnits", out var w) && w.ValueKind != JsonValueKind.Null ? DynamoDbRequest.Long(w, "Long") : null;
        constraints.NotNull(read, $"{path}.readCapacityUnits");
        constraints.NotNull(write, $"{path}.writeCapacityUnits");
        constraints.AtLeast(read, 1, $"{path}.readCapacityUnits");
        constraints.AtLeast(write, 1, $"{path}.writeCapacityUnits");
        return new Throughput(read ?? 0, write ?? 0);
    }

    /// <summary>A table's throughput for its billing mode: AWS's messages for one missing, extra or out of bounds.</summary>
    public static Throughput TableThroughput(string billing, Throughput? given)
    {
        if (billing == "PAY_PER_REQUEST")
            return given is null ? new Throughput(0, 0) : throw DynamoDbErrors.InvalidParameter("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
        if (given is null)
            throw DynamoDbErrors.InvalidParameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED");
        if (given.Read > MaxCapacity)
            throw DynamoDbErrors.Validation($"Given value {given.Read} for ReadCapacityUnits is out of bounds");
        if (given.Write > MaxCapacity)
            throw DynamoDbErrors.Validation($"Given value {given.Write} for WriteCapacityUnits is out of bounds");
        return given;
    }

    /// <summary>One GlobalSecondaryIndex (of CreateTable, or an UpdateTable Create), checked against the definitions.</summary>
    public static GlobalIndex Index(JsonElement index, List<KeyElement> definitions, string billing, Constraints constraints, string path)
    {
        string? name = Text(index, "IndexName");
        constraints.NotNull(name, $"{path}.indexName");
        constraints.Name(name, $"{path}.indexName");
        var keySchema = index.TryGetProperty("KeySchema", out var k) && k.ValueKind != JsonValueKind.Null ? k : (JsonElement?)null;
        constraints.NotNull(keySchema, $"{path}.keySchema");
        var elements = KeyElements(keySchema, constraints, $"{path}.keySchema");
        var projection = index.TryGetProperty("Projection", out var p) && p.ValueKind != JsonValueKind.Null ? p : (JsonElement?)null;
        constraints.NotNull(projection, $"{path}.projection");
        string? projectionType = projection is { } pr ? Text(pr, "ProjectionType") : null;
        constraints.Enum(projectionType, $"{path}.projection.projectionType", "ALL", "KEYS_ONLY", "INCLUDE");
        var throughput = Throughput(index.TryGetProperty("ProvisionedThroughput", out var t) && t.ValueKind != JsonValueKind.Null ? t : null, constraints, $"{path}.provisionedThroughput");
        constraints.Throw();
        var key = Key(elements, definitions);
        if (projectionType is null)
            throw DynamoDbErrors.InvalidParameter("Unknown ProjectionType: null");
        var nonKey = projection!.Value.TryGetProperty("NonKeyAttributes", out var n) && n.ValueKind != JsonValueKind.Null
            ? DynamoDbRequest.Elements(n).Select(a => AttributeJson.Text(a, "String")).ToList()
            : null;
        if (nonKey is not null && projectionType != "INCLUDE")
            throw DynamoDbErrors.InvalidParameter($"ProjectionType is {projectionType}, but NonKeyAttributes is specified");
        if (billing == "PAY_PER_REQUEST" && throughput is not null)
            throw DynamoDbErrors.InvalidParameter($"ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST");
        if (billing != "PAY_PER_REQUEST" && throughput is null)
            throw DynamoDbErrors.InvalidParameter($"ProvisionedThroughput must be specified for index: {name}");
        return new GlobalIndex(name!, key, projectionType, nonKey ?? [], throughput ?? new Throughput(0, 0));
    }

    /// <summary>Definitions that no key of the table or an index uses are refused, as AWS refuses them.</summary>
    public static void CheckAllUsed(List<KeyElement> definitions, KeySchema table, IEnumerable<GlobalIndex> indexes)
    {
        var used = table.Elements.Concat(indexes.SelectMany(i => i.Key.Elements)).Select(e => e.Name).Distinct().ToList();
        if (definitions.Count != used.Count || definitions.Any(d => !used.Contains(d.Name)))
            throw DynamoDbErrors.InvalidParameter(definitions.Count > used.Count && indexes.Any()
                ? $"Some AttributeDefinitions are not used. AttributeDefinitions: [{string.Join(", ", definitions.Select(d => d.Name))}], keys used: [{string.Join(", ", used)}]"
                : "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions");
    }

    public static string? Text(JsonElement owner, string member) =>
        owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(member, out var value) && value.ValueKind != JsonValueKind.Null ? AttributeJson.Text(value, "String") : null;
}
