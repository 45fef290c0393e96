using System.Text.Json;

namespace Runnel.Client.Internal.Wire;

/// <summary>Parses a JSON answer into <see cref="WireNode"/>s with <see cref="Utf8JsonReader"/> (no reflection). Thread-safe (stateless).</summary>
internal static class JsonAnswerReader
{
    private const int MaxDepth = 64;

    public static WireNode Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
            return new WireNode(WireKind.Object) { Members = [] };
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth });
        if (!reader.Read())
            throw new FormatException("An empty JSON answer.");
        return Read(ref reader);
    }

    private static WireNode Read(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var members = new Dictionary<string, WireNode>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    string name = reader.GetString()!;
                    reader.Read();
                    members[name] = Read(ref reader);
                }
                return new WireNode(WireKind.Object) { Members = members };
            case JsonTokenType.StartArray:
                var items = new List<WireNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    items.Add(Read(ref reader));
                return new WireNode(WireKind.Array) { Items = items };
            case JsonTokenType.String:
                return new WireNode(WireKind.String) { Text = reader.GetString() };
            case JsonTokenType.Number:
                // Epoch seconds come with a fraction (1700000000.123) and sometimes in exponent form (1.7E9).
                return new WireNode(WireKind.Number) { Number = reader.TryGetDecimal(out decimal exact) ? exact : (decimal)reader.GetDouble() };
            case JsonTokenType.True or JsonTokenType.False:
                return new WireNode(WireKind.Boolean) { Flag = reader.TokenType == JsonTokenType.True };
            default:
                return new WireNode(WireKind.Null);
        }
    }
}
