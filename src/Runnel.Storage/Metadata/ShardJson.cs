using System.Globalization;
using System.Text.Json;
using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// One shard as a JSON object, the same wherever metadata keeps shards as JSON: a pending reshard's shards
/// (docs/formats/metadata.md) and a stream's shards in the cluster's metadata (docs/formats/jetstream.md).
/// </summary>
internal static class ShardJson
{
    /// <summary>Writes the shard's members into the object the caller has started (and ends).</summary>
    public static void WriteMembers(Utf8JsonWriter w, ShardInfo s)
    {
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
    }

    /// <summary>The shard written by <see cref="WriteMembers"/>; throws as <see cref="JsonElement"/> does on a wrong document.</summary>
    public static ShardInfo Read(JsonElement s) =>
        new(s.GetProperty("idx").GetInt32(),
            new HashKeyRange(Hash(s, "start"), Hash(s, "end")),
            s.GetProperty("epoch").GetInt64(),
            s.TryGetProperty("parent", out var parent) ? parent.GetInt32() : null,
            s.TryGetProperty("adjacent", out var adjacent) ? adjacent.GetInt32() : null,
            s.TryGetProperty("endOffset", out var end) ? ulong.Parse(end.GetString()!, NumberStyles.None, CultureInfo.InvariantCulture) : null,
            DateTimeOffset.FromUnixTimeMilliseconds(s.GetProperty("createdMs").GetInt64()),
            s.TryGetProperty("closedMs", out var closed) ? DateTimeOffset.FromUnixTimeMilliseconds(closed.GetInt64()) : null)
        { SequenceSeconds = s.GetProperty("seq").GetInt64() };

    private static UInt128 Hash(JsonElement s, string name) =>
        UInt128.Parse(s.GetProperty(name).GetString()!, NumberStyles.None, CultureInfo.InvariantCulture);
}
