using System.Text.Json;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Model;

/// <summary>
/// Attribute values in DynamoDB's JSON (<c>{"S":"x"}</c>, <c>{"N":"1.5"}</c>, <c>{"B":"base64"}</c>, …), read with
/// AWS's checks and messages (a value of the wrong JSON type is a SerializationException; an empty, doubly typed,
/// NULL-false, empty-set or duplicate-set value a ValidationException) and written back. The item documents stored
/// in the metadata store use the same JSON (docs/formats/dynamodb.md). Thread-safe: stateless.
/// </summary>
public static class AttributeJson
{
    public static AttributeValue Read(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw DynamoDbErrors.Serialization(json.ValueKind == JsonValueKind.Array
                ? "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
                : "Unexpected value type in payload");
        AttributeValue? value = null;
        int types = 0;
        string? error = null;
        foreach (var member in json.EnumerateObject())
        {
            if (member.Value.ValueKind == JsonValueKind.Null)
                continue;
            AttributeValue? read = member.Name switch
            {
                "S" => AttributeValue.S(Text(member.Value, "String")),
                "N" => Number(member.Value, ref error),
                "B" => AttributeValue.B(Binary(member.Value)),
                "BOOL" => AttributeValue.Bool(Boolean(member.Value)),
                "NULL" => Boolean(member.Value) ? AttributeValue.Null : Fail(ref error, "One or more parameter values were invalid: Null attribute value types must have the value of true"),
                "M" => AttributeValue.M(ReadItem(member.Value)),
                "L" => AttributeValue.L(Array(member.Value).Select(Read).ToList()),
                "SS" => StringSet(member.Value, ref error),
                "NS" => NumberSet(member.Value, ref error),
                "BS" => BinarySet(member.Value, ref error),
                _ => null, // unknown members are ignored, as AWS's framework ignores them
            };
            if (member.Name is "S" or "N" or "B" or "BOOL" or "NULL" or "M" or "L" or "SS" or "NS" or "BS")
                types++;
            value ??= read;
        }
        if (error is not null)
            throw DynamoDbErrors.Validation(error);
        if (types == 0)
            throw DynamoDbErrors.Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        if (types > 1)
            throw DynamoDbErrors.Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
        return value!;
    }

    /// <summary>A map of attribute names to values (an item, a key, an M value).</summary>
    public static Item ReadItem(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw DynamoDbErrors.Serialization(json.ValueKind == JsonValueKind.Array
                ? "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
                : "Unexpected field type");
        var item = new Item(StringComparer.Ordinal);
        foreach (var member in json.EnumerateObject())
            if (member.Value.ValueKind != JsonValueKind.Null)
                item[member.Name] = Read(member.Value);
        return item;
    }

    private static AttributeValue? Fail(ref string? error, string message)
    {
        error ??= message;
        return null;
    }

    private static AttributeValue? Number(JsonElement json, ref string? error)
    {
        var number = DynamoNumber.TryParse(Text(json, "String"), out string? message);
        return number is { } n ? AttributeValue.N(n) : Fail(ref error, message!);
    }

    private static AttributeValue? StringSet(JsonElement json, ref string? error)
    {
        var members = Array(json).Select(e => Text(e, "String")).ToList();
        if (members.Count == 0)
            return Fail(ref error, "One or more parameter values were invalid: An string set  may not be empty");
        if (members.Distinct(StringComparer.Ordinal).Count() != members.Count)
            return Fail(ref error, $"One or more parameter values were invalid: Input collection [{string.Join(", ", members)}] contains duplicates.");
        return AttributeValue.SS(members);
    }

    private static AttributeValue? NumberSet(JsonElement json, ref string? error)
    {
        var numbers = new List<DynamoNumber>();
        foreach (var text in Array(json).Select(e => Text(e, "String")))
        {
            var number = DynamoNumber.TryParse(text, out string? message);
            if (number is null)
                return Fail(ref error, message!);
            numbers.Add(number.Value);
        }
        if (numbers.Count == 0)
            return Fail(ref error, "One or more parameter values were invalid: An number set  may not be empty");
        if (numbers.Distinct().Count() != numbers.Count)
            return Fail(ref error, "Input collection contains duplicates");
        return AttributeValue.NS(numbers);
    }

    private static AttributeValue? BinarySet(JsonElement json, ref string? error)
    {
        var members = Array(json).Select(Binary).ToList();
        if (members.Count == 0)
            return Fail(ref error, "One or more parameter values were invalid: Binary sets should not be empty");
        if (members.Select(Convert.ToBase64String).Distinct(StringComparer.Ordinal).Count() != members.Count)
            return Fail(ref error, $"One or more parameter values were invalid: Input collection [{string.Join(", ", members.Select(Convert.ToBase64String))}]of type BS contains duplicates.");
        return AttributeValue.BS(members);
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement json) => json.ValueKind == JsonValueKind.Array
        ? json.EnumerateArray()
        : throw DynamoDbErrors.Serialization(json.ValueKind == JsonValueKind.Object ? "Start of structure or map found where not expected" : "Unexpected field type");

    /// <summary>A JSON string, or AWS's SerializationException for another JSON type.</summary>
    public static string Text(JsonElement json, string type) => json.ValueKind switch
    {
        JsonValueKind.String => json.GetString()!,
        JsonValueKind.True => throw DynamoDbErrors.Serialization($"TRUE_VALUE cannot be converted to {type}"),
        JsonValueKind.False => throw DynamoDbErrors.Serialization($"FALSE_VALUE cannot be converted to {type}"),
        JsonValueKind.Number => throw DynamoDbErrors.Serialization((json.TryGetInt64(out _) ? "NUMBER_VALUE" : "DECIMAL_VALUE") + $" cannot be converted to {type}"),
        JsonValueKind.Array => throw DynamoDbErrors.Serialization($"Unrecognized collection type class java.lang.{type}"),
        _ => throw DynamoDbErrors.Serialization("Start of structure or map found where not expected"),
    };

    /// <summary>A JSON boolean (or the strings AWS's parser takes for one), or AWS's SerializationException.</summary>
    public static bool Boolean(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => json.GetString()!.ToUpperInvariant() switch
        {
            "TRUE" or "1" or "YES" => true,
            "FALSE" or "0" or "NO" => false,
            _ => throw DynamoDbErrors.Serialization("Unexpected token received from parser"),
        },
        JsonValueKind.Number => throw DynamoDbErrors.Serialization((json.TryGetInt64(out _) ? "NUMBER_VALUE" : "DECIMAL_VALUE") + " cannot be converted to Boolean"),
        JsonValueKind.Array => throw DynamoDbErrors.Serialization("Unrecognized collection type class java.lang.Boolean"),
        _ => throw DynamoDbErrors.Serialization("Start of structure or map found where not expected"),
    };

    private static byte[] Binary(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.String)
            throw DynamoDbErrors.Serialization(json.ValueKind == JsonValueKind.Array
                ? "Unrecognized collection type class java.nio.ByteBuffer"
                : json.ValueKind == JsonValueKind.Object ? "Start of structure or map found where not expected" : "only base-64-encoded strings are convertible to bytes");
        string text = json.GetString()!;
        if (text.Length % 4 != 0)
            throw DynamoDbErrors.Serialization($"Base64 encoded length is expected a multiple of 4 bytes but found: {text.Length}");
        var bytes = new byte[text.Length / 4 * 3];
        return Convert.TryFromBase64String(text, bytes, out int written)
            ? bytes[..written]
            : throw DynamoDbErrors.Serialization("Invalid last non-pad Base64 character dectected");
    }

    public static void Write(Utf8JsonWriter w, AttributeValue value)
    {
        w.WriteStartObject();
        switch (value.Type)
        {
            case AttributeType.S:
                w.WriteString("S", value.String);
                break;
            case AttributeType.N:
                w.WriteString("N", value.Number.ToString());
                break;
            case AttributeType.B:
                w.WriteBase64String("B", value.Bytes);
                break;
            case AttributeType.BOOL:
                w.WriteBoolean("BOOL", value.Boolean);
                break;
            case AttributeType.NULL:
                w.WriteBoolean("NULL", true);
                break;
            case AttributeType.M:
                w.WritePropertyName("M");
                WriteItem(w, value.Map);
                break;
            case AttributeType.L:
                w.WriteStartArray("L");
                foreach (var element in value.List)
                    Write(w, element);
                w.WriteEndArray();
                break;
            case AttributeType.SS:
                w.WriteStartArray("SS");
                foreach (string s in value.StringSet)
                    w.WriteStringValue(s);
                w.WriteEndArray();
                break;
            case AttributeType.NS:
                w.WriteStartArray("NS");
                foreach (var n in value.NumberSet)
                    w.WriteStringValue(n.ToString());
                w.WriteEndArray();
                break;
            case AttributeType.BS:
                w.WriteStartArray("BS");
                foreach (var b in value.BinarySet)
                    w.WriteBase64StringValue(b);
                w.WriteEndArray();
                break;
        }
        w.WriteEndObject();
    }

    public static void WriteItem(Utf8JsonWriter w, Item item)
    {
        w.WriteStartObject();
        foreach (var (name, value) in item)
        {
            w.WritePropertyName(name);
            Write(w, value);
        }
        w.WriteEndObject();
    }

    public static void WriteItem(Utf8JsonWriter w, string property, Item item)
    {
        w.WritePropertyName(property);
        WriteItem(w, item);
    }
}
