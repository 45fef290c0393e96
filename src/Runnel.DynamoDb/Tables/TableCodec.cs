using System.Buffers;
using System.Text.Json;
using Runnel.DynamoDb.Model;

namespace Runnel.DynamoDb.Tables;

/// <summary>
/// The documents of DynamoDB tables and items (docs/formats/dynamodb.md): a table as JSON under kind
/// <see cref="TableKind"/>, an item as JSON holding its attributes in DynamoDB's own JSON under the table's item kind.
/// Written and read by hand (no reflection: the server is compiled ahead of time). Both carry a version; a reader
/// refuses a version newer than it knows. Thread-safe: stateless.
/// </summary>
public static class TableCodec
{
    public const string TableKind = "dynamodb-table";
    public const int Version = 1;

    public static byte[] Encode(Table table)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            w.WriteString("account", table.Account);
            w.WriteString("name", table.Name);
            w.WriteNumber("id", table.Id);
            w.WriteString("table_id", table.TableId);
            w.WriteString("status", table.Status);
            w.WriteNumber("created_ms", table.CreatedMillis);
            WriteKey(w, "key", table.Key);
            w.WriteStartObject("attributes");
            foreach (var definition in table.AttributeDefinitions)
                w.WriteString(definition.Name, definition.Type.ToString());
            w.WriteEndObject();
            w.WriteString("billing", table.BillingMode);
            WriteThroughput(w, table.Throughput);
            if (table.PayPerRequestSinceMillis is { } since)
                w.WriteNumber("pay_per_request_since_ms", since);
            w.WriteStartArray("indexes");
            foreach (var index in table.Indexes)
            {
                w.WriteStartObject();
                w.WriteString("name", index.Name);
                WriteKey(w, "key", index.Key);
                w.WriteString("projection", index.ProjectionType);
                w.WriteStartArray("non_key_attributes");
                foreach (string attribute in index.NonKeyAttributes)
                    w.WriteStringValue(attribute);
                w.WriteEndArray();
                WriteThroughput(w, index.Throughput);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("tags");
            foreach (var (key, value) in table.Tags)
                w.WriteString(key, value);
            w.WriteEndObject();
            w.WriteBoolean("deletion_protection", table.DeletionProtection);
            w.WriteBoolean("point_in_time_recovery", table.PointInTimeRecovery);
            w.WriteNumber("recovery_period_days", table.RecoveryPeriodDays);
            if (table.PointInTimeRecoverySinceMillis is { } recovery)
                w.WriteNumber("point_in_time_recovery_since_ms", recovery);
            if (table.TimeToLiveAttribute is { } ttl)
                w.WriteString("ttl_attribute", ttl);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A table document; <see cref="InvalidDataException"/> when it is not one this version reads.</summary>
    public static Table Decode(byte[] body, ulong revision)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            CheckVersion(root, "table");
            var types = root.GetProperty("attributes").EnumerateObject()
                .Select(p => new KeyElement(p.Name, Enum.Parse<AttributeType>(p.Value.GetString()!))).ToList();
            return new Table(
                root.GetProperty("account").GetString()!,
                root.GetProperty("name").GetString()!,
                root.GetProperty("id").GetInt64(),
                root.GetProperty("table_id").GetString()!,
                root.GetProperty("status").GetString()!,
                root.GetProperty("created_ms").GetInt64(),
                ReadKey(root.GetProperty("key"), types),
                types,
                root.GetProperty("billing").GetString()!,
                ReadThroughput(root),
                root.GetProperty("indexes").EnumerateArray().Select(i => new GlobalIndex(
                    i.GetProperty("name").GetString()!,
                    ReadKey(i.GetProperty("key"), types),
                    i.GetProperty("projection").GetString()!,
                    i.GetProperty("non_key_attributes").EnumerateArray().Select(a => a.GetString()!).ToList(),
                    ReadThroughput(i))).ToList())
            {
                PayPerRequestSinceMillis = root.TryGetProperty("pay_per_request_since_ms", out var since) ? since.GetInt64() : null,
                Tags = root.GetProperty("tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
                DeletionProtection = root.GetProperty("deletion_protection").GetBoolean(),
                PointInTimeRecovery = root.GetProperty("point_in_time_recovery").GetBoolean(),
                RecoveryPeriodDays = root.GetProperty("recovery_period_days").GetInt32(),
                PointInTimeRecoverySinceMillis = root.TryGetProperty("point_in_time_recovery_since_ms", out var recovery) ? recovery.GetInt64() : null,
                TimeToLiveAttribute = root.TryGetProperty("ttl_attribute", out var ttl) ? ttl.GetString() : null,
                Revision = revision,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"not a DynamoDB table document: {e.Message}", e);
        }
    }

    public static byte[] EncodeItem(Item item)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            AttributeJson.WriteItem(w, "item", item);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An item document; <see cref="InvalidDataException"/> when it is not one this version reads.</summary>
    public static Item DecodeItem(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            CheckVersion(document.RootElement, "item");
            return AttributeJson.ReadItem(document.RootElement.GetProperty("item"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or Service.DynamoDbException)
        {
            throw new InvalidDataException($"not a DynamoDB item document: {e.Message}", e);
        }
    }

    private static void CheckVersion(JsonElement root, string what)
    {
        int version = root.GetProperty("version").GetInt32();
        if (version is < 1 or > Version)
            throw new InvalidDataException($"a DynamoDB {what} document of version {version}; this Runnel reads version {Version} and older");
    }

    private static void WriteKey(Utf8JsonWriter w, string name, KeySchema key)
    {
        w.WriteStartObject(name);
        w.WriteString("hash", key.Hash.Name);
        if (key.Range is { } range)
            w.WriteString("range", range.Name);
        w.WriteEndObject();
    }

    private static KeySchema ReadKey(JsonElement key, List<KeyElement> types)
    {
        KeyElement Typed(string name) => types.First(t => t.Name == name);
        return new KeySchema(Typed(key.GetProperty("hash").GetString()!), key.TryGetProperty("range", out var range) ? Typed(range.GetString()!) : null);
    }

    private static void WriteThroughput(Utf8JsonWriter w, Throughput throughput)
    {
        w.WriteStartObject("throughput");
        w.WriteNumber("read", throughput.Read);
        w.WriteNumber("write", throughput.Write);
        if (throughput.LastIncreaseMillis is { } increase)
            w.WriteNumber("last_increase_ms", increase);
        if (throughput.LastDecreaseMillis is { } decrease)
            w.WriteNumber("last_decrease_ms", decrease);
        w.WriteNumber("decreases_today", throughput.DecreasesToday);
        w.WriteEndObject();
    }

    private static Throughput ReadThroughput(JsonElement owner)
    {
        var t = owner.GetProperty("throughput");
        return new Throughput(t.GetProperty("read").GetInt64(), t.GetProperty("write").GetInt64(),
            t.TryGetProperty("last_increase_ms", out var increase) ? increase.GetInt64() : null,
            t.TryGetProperty("last_decrease_ms", out var decrease) ? decrease.GetInt64() : null,
            t.GetProperty("decreases_today").GetInt32());
    }
}
