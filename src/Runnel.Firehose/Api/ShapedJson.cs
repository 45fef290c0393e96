using System.Globalization;
using System.Text.Json.Nodes;
using Runnel.Protocol;
using Runnel.Protocol.Requests;
using Runnel.Protocol.Validation;

namespace Runnel.Firehose.Api;

/// <summary>
/// Copies a validated request member into JSON the way AWS reads it: only the members the model names, a null the
/// same as absent, integers floored, booleans given as strings made booleans; and writes such JSON back onto the
/// wire. What a delivery stream keeps of its configuration is this copy, never the request's raw text.
/// </summary>
public static class ShapedJson
{
    /// <summary>A structure member's value as the model reads it.</summary>
    public static JsonObject From(RequestValue value, Shape shape)
    {
        var json = new JsonObject();
        foreach (var member in shape.Members)
            if (value.TryGetProperty(member.Name, out var v) && !v.IsAbsent && Copy(v, member) is { } copy)
                json[member.Name] = copy;
        return json;
    }

    private static JsonNode? Copy(RequestValue value, Member member) => member.Type switch
    {
        WireType.String => JsonValue.Create(value.GetString()),
        WireType.Integer or WireType.Long => JsonValue.Create(RequestValidator.IntegerValue(value, member.Type)),
        WireType.Double => JsonValue.Create(value.GetDouble()),
        WireType.Boolean => JsonValue.Create(value.Kind == RequestKind.True
            || (value.Kind == RequestKind.String && WireValues.ParseBoolean(value.GetString()) == true)),
        WireType.Timestamp => JsonValue.Create(value.GetTimestampMillis()),
        WireType.Blob => JsonValue.Create(value.GetRawText().Trim('"')),
        WireType.List => new JsonArray(value.EnumerateArray().Where(e => !e.IsAbsent).Select(e => Copy(e, member.Element!)).ToArray()),
        WireType.Map => MapOf(value, member.Value!),
        WireType.Structure => From(value, member.Structure!),
        _ => null,
    };

    private static JsonObject MapOf(RequestValue value, Member valueMember)
    {
        var json = new JsonObject();
        foreach (var (name, v) in value.EnumerateObject())
            if (!v.IsAbsent)
                json[name] = Copy(v, valueMember);
        return json;
    }

    /// <summary>Writes an object's members onto the wire (strings, numbers, booleans, objects, arrays of them).</summary>
    public static void WriteMembers(IWireWriter writer, JsonObject json)
    {
        foreach (var (name, node) in json)
            Write(writer, name, node);
    }

    public static void Write(IWireWriter writer, string name, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                writer.StartObject(name);
                WriteMembers(writer, obj);
                writer.EndObject();
                break;
            case JsonArray array:
                writer.StartArray(name);
                foreach (var item in array)
                {
                    if (item is JsonObject element)
                    {
                        writer.StartObject();
                        WriteMembers(writer, element);
                        writer.EndObject();
                    }
                    else if (item is not null)
                        writer.String(item.ToString()); // the model's lists hold structures or strings
                }
                writer.EndArray();
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case System.Text.Json.JsonValueKind.String:
                        writer.String(name, v.GetValue<string>());
                        break;
                    case System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False:
                        writer.Boolean(name, v.GetValueKind() == System.Text.Json.JsonValueKind.True);
                        break;
                    case System.Text.Json.JsonValueKind.Number:
                        // Whatever .NET type holds it (a parsed element, an int, a long, a double): its JSON text says.
                        string number = v.ToJsonString();
                        if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
                            writer.Number(name, integer);
                        else
                            writer.Double(name, double.Parse(number, CultureInfo.InvariantCulture));
                        break;
                }
                break;
        }
    }
}
