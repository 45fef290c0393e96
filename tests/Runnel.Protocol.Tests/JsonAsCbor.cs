using System.Formats.Cbor;
using System.Text.Json;

namespace Runnel.Protocol.Tests;

/// <summary>
/// The CBOR an AWS SDK would send for a JSON request body: text as text, whole numbers as integers, other numbers
/// as doubles, timestamps as tag 1 with epoch milliseconds. Blobs stay base64 text (both encodings accept that).
/// </summary>
internal static class JsonAsCbor
{
    public static byte[] Encode(string json)
    {
        using var document = JsonDocument.Parse(json);
        var writer = new CborWriter(CborConformanceMode.Lax);
        Write(writer, document.RootElement, null);
        return writer.Encode();
    }

    private static void Write(CborWriter writer, JsonElement value, string? member)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartMap(null);
                foreach (var property in value.EnumerateObject())
                {
                    writer.WriteTextString(property.Name);
                    Write(writer, property.Value, property.Name);
                }
                writer.WriteEndMap();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray(null);
                foreach (var item in value.EnumerateArray())
                    Write(writer, item, null);
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteTextString(value.GetString()!);
                break;
            case JsonValueKind.Number when member is "Timestamp" or "StreamCreationTimestamp":
                writer.WriteTag(CborTag.UnixTimeSeconds);
                writer.WriteInt64((long)(value.GetDecimal() * 1000));
                break;
            case JsonValueKind.Number when value.TryGetInt64(out long whole):
                writer.WriteInt64(whole);
                break;
            case JsonValueKind.Number:
                writer.WriteDouble(value.GetDouble());
                break;
            case JsonValueKind.True or JsonValueKind.False:
                writer.WriteBoolean(value.GetBoolean());
                break;
            default:
                writer.WriteNull();
                break;
        }
    }
}
