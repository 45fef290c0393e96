using System.Globalization;
using System.Text.Json;
using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// A reshard waiting for its stream to return to ACTIVE (<c>streams.pending_reshard</c>) as JSON: the indexes of
/// the shards it closes and the shards it creates (docs/formats/metadata.md).
/// </summary>
internal static class PendingReshardCodec
{
    public static string Encode(ReshardPlan plan)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("close");
            foreach (int index in plan.Close)
                w.WriteNumberValue(index);
            w.WriteEndArray();
            w.WriteStartArray("create");
            foreach (var s in plan.Create)
            {
                w.WriteStartObject();
                w.WriteNumber("idx", s.Index);
                w.WriteString("start", s.HashKeyRange.StartingHashKey);
                w.WriteString("end", s.HashKeyRange.EndingHashKey);
                w.WriteNumber("epoch", s.Epoch);
                if (s.ParentIndex is { } parent)
                    w.WriteNumber("parent", parent);
                if (s.AdjacentParentIndex is { } adjacent)
                    w.WriteNumber("adjacent", adjacent);
                if (s.EndOffset is { } end)
                    w.WriteString("endOffset", end.ToString(CultureInfo.InvariantCulture));
                w.WriteNumber("createdMs", s.CreatedAt.ToUnixTimeMilliseconds());
                if (s.ClosedAt is { } closed)
                    w.WriteNumber("closedMs", closed.ToUnixTimeMilliseconds());
                w.WriteNumber("seq", s.SequenceSeconds);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The plan stored by <see cref="Encode"/>; FormatException when the text is not one.</summary>
    public static ReshardPlan Decode(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var close = root.GetProperty("close").EnumerateArray().Select(e => e.GetInt32()).ToList();
            var create = new List<ShardInfo>();
            foreach (var s in root.GetProperty("create").EnumerateArray())
            {
                create.Add(new ShardInfo(
                    s.GetProperty("idx").GetInt32(),
                    new HashKeyRange(Hash(s, "start"), Hash(s, "end")),
                    s.GetProperty("epoch").GetInt64(),
                    s.TryGetProperty("parent", out var parent) ? parent.GetInt32() : null,
                    s.TryGetProperty("adjacent", out var adjacent) ? adjacent.GetInt32() : null,
                    s.TryGetProperty("endOffset", out var end) ? ulong.Parse(end.GetString()!, NumberStyles.None, CultureInfo.InvariantCulture) : null,
                    DateTimeOffset.FromUnixTimeMilliseconds(s.GetProperty("createdMs").GetInt64()),
                    s.TryGetProperty("closedMs", out var closed) ? DateTimeOffset.FromUnixTimeMilliseconds(closed.GetInt64()) : null)
                { SequenceSeconds = s.GetProperty("seq").GetInt64() });
            }
            return new ReshardPlan(close, create);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException($"pending_reshard is not a reshard plan ({e.Message})", e);
        }
    }

    private static UInt128 Hash(JsonElement s, string name) =>
        UInt128.Parse(s.GetProperty(name).GetString()!, NumberStyles.None, CultureInfo.InvariantCulture);
}
