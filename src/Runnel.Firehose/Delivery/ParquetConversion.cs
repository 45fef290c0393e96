using System.Globalization;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace Runnel.Firehose.Delivery;

/// <summary>A column of a conversion's schema: its name and its Hive/Glue type (string, int, bigint, double, float, boolean, timestamp).</summary>
public sealed record SchemaColumn(string Name, string Type);

/// <summary>
/// Record format conversion (<c>DataFormatConversionConfiguration</c>) from JSON to Parquet with Parquet.Net: each
/// record a JSON object (the OpenX or Hive JSON deserializer: members matched to columns case-insensitively unless
/// CaseInsensitive is false, ColumnToJsonKeyMappings applied), the schema the table's as Runnel's schema file gives it
/// (AWS reads it from Glue), a batch one Parquet file of one row group (ParquetSerDe's Compression: SNAPPY by
/// default, GZIP, UNCOMPRESSED). A record that is not an object, or whose value does not fit its column, is not
/// converted: it goes to the error output (<c>format-conversion-failed</c>). Immutable, thread-safe.
/// </summary>
public sealed class ParquetConversion(IReadOnlyList<SchemaColumn> columns, CompressionMethod compression, bool caseInsensitive,
    IReadOnlyDictionary<string, string> columnToKey, string database, string table)
{
    public string Database { get; } = database;
    public string Table { get; } = table;

    /// <summary>The types Runnel converts to, by their Hive names.</summary>
    public static bool Supports(string type) => type.ToLowerInvariant() is "string" or "varchar" or "char" or "int" or "integer" or "bigint" or "double" or "float" or "boolean" or "timestamp";

    /// <summary>The batch as a Parquet file (null when no record converted), and the records that did not convert, with why.</summary>
    public async Task<(byte[]? File, List<(int Index, string Code, string Message)> Failed)> ConvertAsync(DeliveryBatch batch, CancellationToken cancellationToken)
    {
        var failed = new List<(int, string, string)>();
        var rows = new List<object?[]>();
        for (int i = 0; i < batch.Count; i++)
        {
            try
            {
                rows.Add(Row(batch.Record(i)));
            }
            catch (Exception e) when (e is JsonException or FormatException or OverflowException or InvalidOperationException)
            {
                failed.Add((i, "DataFormatConversion.MalformedData", e.Message));
            }
        }
        if (rows.Count == 0)
            return (null, failed);
        var fields = columns.Select(Field).ToArray();
        using var file = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file, new ParquetOptions { CompressionMethod = compression }, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            using var group = writer.CreateRowGroup();
            for (int c = 0; c < columns.Count; c++)
            {
                var values = rows.Select(r => r[c]).ToList();
                switch (columns[c].Type.ToLowerInvariant())
                {
                    case "int" or "integer":
                        await group.WriteAsync(fields[c], (ReadOnlyMemory<int?>)values.Select(v => (int?)v).ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false);
                        break;
                    case "bigint":
                        await group.WriteAsync(fields[c], (ReadOnlyMemory<long?>)values.Select(v => (long?)v).ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false);
                        break;
                    case "double":
                        await group.WriteAsync(fields[c], (ReadOnlyMemory<double?>)values.Select(v => (double?)v).ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false);
                        break;
                    case "float":
                        await group.WriteAsync(fields[c], (ReadOnlyMemory<float?>)values.Select(v => (float?)v).ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false);
                        break;
                    case "boolean":
                        await group.WriteAsync(fields[c], (ReadOnlyMemory<bool?>)values.Select(v => (bool?)v).ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false);
                        break;
                    case "timestamp":
                        await group.WriteAsync(fields[c], (ReadOnlyMemory<DateTime?>)values.Select(v => (DateTime?)v).ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        await group.WriteAsync(fields[c], (IReadOnlyCollection<string>)values.Select(v => (string?)v!).ToArray(), null).ConfigureAwait(false);
                        break;
                }
            }
        }
        return (file.ToArray(), failed);
    }

    private static DataField Field(SchemaColumn column) => column.Type.ToLowerInvariant() switch
    {
        "int" or "integer" => new DataField<int?>(column.Name),
        "bigint" => new DataField<long?>(column.Name),
        "double" => new DataField<double?>(column.Name),
        "float" => new DataField<float?>(column.Name),
        "boolean" => new DataField<bool?>(column.Name),
        "timestamp" => new DataField<DateTime?>(column.Name),
        _ => new DataField<string>(column.Name, true),
    };

    private object?[] Row(ReadOnlyMemory<byte> record)
    {
        using var json = JsonDocument.Parse(record);
        if (json.RootElement.ValueKind != JsonValueKind.Object)
            throw new JsonException("The record is not a JSON object.");
        var comparer = caseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var members = json.RootElement.EnumerateObject().GroupBy(p => p.Name, comparer).ToDictionary(g => g.Key, g => g.Last().Value, comparer);
        var row = new object?[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            string key = columnToKey.GetValueOrDefault(columns[c].Name, columns[c].Name);
            row[c] = members.TryGetValue(key, out var value) ? Value(value, columns[c]) : null;
        }
        return row;
    }

    private static object? Value(JsonElement value, SchemaColumn column)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return null;
        string type = column.Type.ToLowerInvariant();
        try
        {
            return type switch
            {
                "int" or "integer" => value.ValueKind == JsonValueKind.String ? int.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetInt32(),
                "bigint" => value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetInt64(),
                "double" => value.ValueKind == JsonValueKind.String ? double.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetDouble(),
                "float" => value.ValueKind == JsonValueKind.String ? float.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetSingle(),
                "boolean" => value.ValueKind == JsonValueKind.String ? bool.Parse(value.GetString()!) : value.GetBoolean(),
                "timestamp" => value.ValueKind == JsonValueKind.Number
                    ? DateTimeOffset.FromUnixTimeMilliseconds(value.GetInt64()).UtcDateTime
                    : DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcDateTime,
                _ => value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText(),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException or ArgumentNullException)
        {
            throw new FormatException($"The value of '{column.Name}' ({value.GetRawText()}) is not a {column.Type}.", e);
        }
    }
}
