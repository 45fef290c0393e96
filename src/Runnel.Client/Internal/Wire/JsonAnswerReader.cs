using System.Text.Json;

namespace Runnel.Client.Internal.Wire;

/// <summary>
/// Parses a JSON answer into <see cref="WireNode"/>s with <see cref="Utf8JsonReader"/> (no reflection). A long string
/// without escapes stays a slice of the body until read (<see cref="WireNode.Utf8"/>): a record's base64 data is decoded
/// from it straight into bytes, with no string of twice its size between. Thread-safe (stateless).
/// </summary>
internal static class JsonAnswerReader
{
    private const int MaxDepth = 64;

    /// <summary>Strings this long or longer are kept as slices of the body.</summary>
    private const int SliceFrom = 64;

    /// <summary>Parses <paramref name="body"/>; the nodes may hold slices of it, so it must not change after.</summary>
    public static WireNode Parse(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
            return new WireNode(WireKind.Object) { Members = [] };
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { MaxDepth = MaxDepth });
        if (!reader.Read())
            throw new FormatException("An empty JSON answer.");
        return Read(ref reader, body);
    }

    private static WireNode Read(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var members = new Dictionary<string, WireNode>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    string name = reader.GetString()!;
                    reader.Read();
                    members[name] = Read(ref reader, body);
                }
                return new WireNode(WireKind.Object) { Members = members };
            case JsonTokenType.StartArray:
                var items = new List<WireNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    items.Add(Read(ref reader, body));
                return new WireNode(WireKind.Array) { Items = items };
            case JsonTokenType.String when !reader.ValueIsEscaped && reader.ValueSpan.Length >= SliceFrom:
                // The token starts at its opening quote; unescaped, its value is the bytes up to the closing one.
                return new WireNode(WireKind.String) { Utf8 = body.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length) };
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
