using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Runnel.Core.Model;
using Runnel.Storage.Metadata;

namespace Runnel.Storage.JetStream;

/// <summary>
/// A stream (with its shards and tags) or a consumer as one JSON document, the value of its key in the
/// metadata bucket: the fields of the SQLite rows of docs/formats/metadata.md, by the same names. Written and
/// read by hand (no reflection: the server is compiled ahead of time). Times are Unix milliseconds; hash keys
/// and offsets decimal strings (beyond what JSON numbers carry exactly).
/// </summary>
internal static class MetadataDocuments
{
    public static byte[] Encode(StreamInfo stream)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", 1);
            w.WriteNumber("id", stream.Id);
            w.WriteString("name", stream.Name);
            w.WriteString("status", stream.Status.ToString());
            w.WriteString("mode", stream.Mode.ToString());
            w.WriteNumber("retention_hours", stream.RetentionHours);
            w.WriteNumber("created_ms", stream.CreatedAt.ToUnixTimeMilliseconds());
            WriteMillis(w, "status_until_ms", stream.StatusUntil);
            w.WriteNumber("epoch", stream.Epoch);
            w.WriteString("enhanced_metrics", string.Join(',', stream.EnhancedMetrics));
            w.WriteNumber("max_record_kib", stream.MaxRecordSizeKiB);
            w.WriteString("distribution", stream.Distribution.ToString());
            if (stream.WarmThroughputMiBps is { } warm)
                w.WriteNumber("warm_mibps", warm);
            if (stream.ResourcePolicy is { } policy)
                w.WriteString("policy", policy);
            if (stream.PendingReshard is { } plan)
                w.WriteString("pending_reshard", PendingReshardCodec.Encode(plan));
            if (stream.Encryption is { } encryption)
                w.WriteString("encryption", EncryptionCodec.Encode(encryption));
            w.WriteStartArray("shards");
            foreach (var s in stream.Shards)
            {
                w.WriteStartObject();
                ShardJson.WriteMembers(w, s);
                if (s.AcceptsLegacySequenceNumbers)
                    w.WriteBoolean("legacy_sequence_numbers", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteTags(w, stream.Tags);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a stream document; <see cref="FormatException"/> when it is not one.</summary>
    public static StreamInfo DecodeStream(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            var shards = root.GetProperty("shards").EnumerateArray().Select(s => ShardJson.Read(s) with
            {
                AcceptsLegacySequenceNumbers = s.TryGetProperty("legacy_sequence_numbers", out var legacy) && legacy.GetBoolean(),
            }).ToList();
            string metrics = root.GetProperty("enhanced_metrics").GetString()!;
            return new StreamInfo(
                root.GetProperty("name").GetString()!,
                root.GetProperty("id").GetInt64(),
                Enum.Parse<StreamStatus>(root.GetProperty("status").GetString()!),
                Enum.Parse<StreamMode>(root.GetProperty("mode").GetString()!),
                root.GetProperty("retention_hours").GetInt32(),
                Millis(root.GetProperty("created_ms")),
                root.TryGetProperty("status_until_ms", out var until) ? Millis(until) : null,
                shards,
                Tags(root),
                metrics.Length == 0 ? [] : metrics.Split(','),
                root.GetProperty("epoch").GetInt64())
            {
                MaxRecordSizeKiB = root.GetProperty("max_record_kib").GetInt32(),
                Distribution = Enum.Parse<RecordDistribution>(root.GetProperty("distribution").GetString()!),
                WarmThroughputMiBps = OptionalInt(root, "warm_mibps"),
                ResourcePolicy = root.TryGetProperty("policy", out var policy) ? policy.GetString() : null,
                PendingReshard = root.TryGetProperty("pending_reshard", out var pending) ? PendingReshardCodec.Decode(pending.GetString()!) : null,
                Encryption = root.TryGetProperty("encryption", out var encryption) ? EncryptionCodec.Decode(encryption.GetString()!) : null,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or OverflowException)
        {
            throw new FormatException($"not a stream document: {e.Message}", e);
        }
    }

    public static byte[] Encode(ConsumerInfo consumer)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", 1);
            w.WriteNumber("id", consumer.Id);
            w.WriteNumber("stream_id", consumer.StreamId);
            w.WriteString("name", consumer.Name);
            w.WriteString("status", consumer.Status.ToString());
            w.WriteNumber("created_ms", consumer.CreatedAt.ToUnixTimeMilliseconds());
            WriteMillis(w, "status_until_ms", consumer.StatusUntil);
            if (consumer.ResourcePolicy is { } policy)
                w.WriteString("policy", policy);
            WriteTags(w, consumer.Tags);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a consumer document; <see cref="FormatException"/> when it is not one.</summary>
    public static ConsumerInfo DecodeConsumer(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            return new ConsumerInfo(
                root.GetProperty("id").GetInt64(),
                root.GetProperty("stream_id").GetInt64(),
                root.GetProperty("name").GetString()!,
                Enum.Parse<ConsumerStatus>(root.GetProperty("status").GetString()!),
                Millis(root.GetProperty("created_ms")),
                root.TryGetProperty("status_until_ms", out var until) ? Millis(until) : null,
                Tags(root))
            {
                ResourcePolicy = root.TryGetProperty("policy", out var policy) ? policy.GetString() : null,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or OverflowException)
        {
            throw new FormatException($"not a consumer document: {e.Message}", e);
        }
    }

    private static void WriteMillis(Utf8JsonWriter w, string name, DateTimeOffset? time)
    {
        if (time is { } t)
            w.WriteNumber(name, t.ToUnixTimeMilliseconds());
    }

    private static void WriteTags(Utf8JsonWriter w, IReadOnlyDictionary<string, string> tags)
    {
        w.WriteStartObject("tags");
        foreach (var (key, value) in tags)
            w.WriteString(key, value);
        w.WriteEndObject();
    }

    private static Dictionary<string, string> Tags(JsonElement root) =>
        root.GetProperty("tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);

    private static DateTimeOffset Millis(JsonElement value) => DateTimeOffset.FromUnixTimeMilliseconds(value.GetInt64());

    private static int? OptionalInt(JsonElement obj, string name) => obj.TryGetProperty(name, out var value) ? value.GetInt32() : null;

}
