using System.Text.Json;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Api;

/// <summary>A table as DescribeTable, CreateTable, UpdateTable and DeleteTable describe it (TableDescription).</summary>
internal static class TableWire
{
    /// <param name="counts">Item counts and sizes of the table and its indexes; null to show 0 (a new or deleted table).</param>
    public static void Write(Utf8JsonWriter w, Table table, string region, Func<GlobalIndex?, (long Count, long Bytes)>? counts)
    {
        w.WriteStartObject();
        w.WriteStartArray("AttributeDefinitions");
        foreach (var definition in table.AttributeDefinitions)
        {
            w.WriteStartObject();
            w.WriteString("AttributeName", definition.Name);
            w.WriteString("AttributeType", definition.Type.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("TableName", table.Name);
        WriteKeySchema(w, table.Key);
        w.WriteString("TableStatus", table.Status);
        WriteTime(w, "CreationDateTime", table.CreatedMillis);
        WriteThroughput(w, table.Throughput);
        var (count, bytes) = counts?.Invoke(null) ?? (0, 0);
        w.WriteNumber("TableSizeBytes", bytes);
        w.WriteNumber("ItemCount", count);
        w.WriteString("TableArn", table.Arn(region));
        w.WriteString("TableId", table.TableId);
        if (table.PayPerRequestSinceMillis is { } since)
        {
            w.WriteStartObject("BillingModeSummary");
            w.WriteString("BillingMode", table.BillingMode);
            WriteTime(w, "LastUpdateToPayPerRequestDateTime", since);
            w.WriteEndObject();
        }
        if (table.Indexes.Count > 0)
        {
            w.WriteStartArray("GlobalSecondaryIndexes");
            foreach (var index in table.Indexes)
            {
                w.WriteStartObject();
                w.WriteString("IndexName", index.Name);
                WriteKeySchema(w, index.Key);
                w.WriteStartObject("Projection");
                w.WriteString("ProjectionType", index.ProjectionType);
                if (index.ProjectionType == "INCLUDE")
                {
                    w.WriteStartArray("NonKeyAttributes");
                    foreach (string attribute in index.NonKeyAttributes)
                        w.WriteStringValue(attribute);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteString("IndexStatus", table.Status == "DELETING" ? "DELETING" : "ACTIVE");
                WriteThroughput(w, index.Throughput);
                var (indexCount, indexBytes) = counts?.Invoke(index) ?? (0, 0);
                w.WriteNumber("IndexSizeBytes", indexBytes);
                w.WriteNumber("ItemCount", indexCount);
                w.WriteString("IndexArn", $"{table.Arn(region)}/index/{index.Name}");
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteBoolean("DeletionProtectionEnabled", table.DeletionProtection);
        w.WriteEndObject();
    }

    private static void WriteKeySchema(Utf8JsonWriter w, KeySchema key)
    {
        w.WriteStartArray("KeySchema");
        foreach (var element in key.Elements)
        {
            w.WriteStartObject();
            w.WriteString("AttributeName", element.Name);
            w.WriteString("KeyType", element == key.Hash ? "HASH" : "RANGE");
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteThroughput(Utf8JsonWriter w, Throughput throughput)
    {
        w.WriteStartObject("ProvisionedThroughput");
        if (throughput.LastIncreaseMillis is { } increase)
            WriteTime(w, "LastIncreaseDateTime", increase);
        if (throughput.LastDecreaseMillis is { } decrease)
            WriteTime(w, "LastDecreaseDateTime", decrease);
        w.WriteNumber("NumberOfDecreasesToday", throughput.DecreasesToday);
        w.WriteNumber("ReadCapacityUnits", throughput.Read);
        w.WriteNumber("WriteCapacityUnits", throughput.Write);
        w.WriteEndObject();
    }

    /// <summary>A timestamp as AWS's JSON protocols send one: epoch seconds, with milliseconds as a fraction.</summary>
    public static void WriteTime(Utf8JsonWriter w, string name, long millis) => w.WriteNumber(name, millis / 1000m);
}
