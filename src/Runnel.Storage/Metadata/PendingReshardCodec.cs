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
                ShardJson.WriteMembers(w, s);
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
            var create = root.GetProperty("create").EnumerateArray().Select(ShardJson.Read).ToList();
            return new ReshardPlan(close, create);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException($"pending_reshard is not a reshard plan ({e.Message})", e);
        }
    }
}
