using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// A Redshift destination's <c>CopyCommand</c> as Runnel runs it on PostgreSQL: the table, its columns, and the
/// subset of Redshift's COPY data-format options that shape rows from the staged object: <c>JSON 'auto'</c> (each
/// JSON object's members by column name, case-insensitively, as <c>'auto ignorecase'</c>), <c>CSV</c>,
/// <c>DELIMITER 'c'</c> (Redshift's default is <c>|</c>), <c>GZIP</c> (the staged object is compressed; the rows are
/// read from the records themselves), and <c>NULL AS 'x'</c>, <c>IGNOREHEADER n</c>, <c>EMPTYASNULL</c>,
/// <c>BLANKSASNULL</c>. Other options (a JSONPaths file, FIXEDWIDTH, LZOP, AVRO…) are refused when the stream is
/// made (<see cref="FormatException"/>). Immutable, thread-safe.
/// </summary>
public sealed partial class RedshiftCopy
{
    private enum Format { Delimited, Csv, Json }

    private readonly Format _format;
    private readonly char _delimiter = '|';
    private readonly string? _nullAs;
    private readonly int _ignoreHeader;
    private readonly bool _emptyAsNull, _blanksAsNull;

    public string Table { get; }

    /// <summary>The columns named (DataTableColumns); empty for all of the table's, in its order.</summary>
    public IReadOnlyList<string> Columns { get; }

    public RedshiftCopy(string table, string? columns, string? options)
    {
        Table = table;
        Columns = (columns ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string rest = options ?? "";
        foreach (Match option in Option().Matches(rest))
        {
            string word = option.Groups["word"].Value.ToUpperInvariant();
            string? value = option.Groups["value"].Success ? option.Groups["value"].Value : null;
            switch (word)
            {
                case "JSON" when value is null || value.Equals("auto", StringComparison.OrdinalIgnoreCase) || value.Equals("auto ignorecase", StringComparison.OrdinalIgnoreCase):
                    _format = Format.Json;
                    break;
                case "JSON":
                    throw new FormatException($"Runnel's COPY reads JSON 'auto' only, not a JSONPaths file ('{value}').");
                case "CSV":
                    _format = Format.Csv;
                    _delimiter = _delimiter == '|' ? ',' : _delimiter;
                    break;
                case "DELIMITER" when value is { Length: 1 }:
                    _delimiter = value[0];
                    break;
                case "DELIMITER" when value is "\\t":
                    _delimiter = '\t';
                    break;
                case "NULL" when value is not null:
                    _nullAs = value;
                    break;
                case "IGNOREHEADER" when int.TryParse(value, out int lines):
                    _ignoreHeader = lines;
                    break;
                case "EMPTYASNULL":
                    _emptyAsNull = true;
                    break;
                case "BLANKSASNULL":
                    _blanksAsNull = true;
                    break;
                case "GZIP" or "AS" or "REGION" or "TIMEFORMAT" or "DATEFORMAT" or "TRUNCATECOLUMNS" or "ACCEPTINVCHARS" or "MAXERROR":
                    break; // how the object is stored or read by Redshift; nothing for the rows
                default:
                    throw new FormatException($"Runnel's COPY does not take the option '{option.Value.Trim()}' (it takes JSON 'auto', CSV, DELIMITER, NULL AS, IGNOREHEADER, EMPTYASNULL, BLANKSASNULL and GZIP).");
            }
        }
    }

    [GeneratedRegex(@"(?<word>[A-Za-z]+)(\s+AS)?\s*('(?<value>[^']*)'|(?<value>\d+))?\s*;?", RegexOptions.CultureInvariant)]
    private static partial Regex Option();

    /// <summary>The rows the records of a staged object give, as text values (null for SQL NULL), in <paramref name="columns"/>' order.</summary>
    public IEnumerable<string?[]> Rows(ReadOnlyMemory<byte> payload, IReadOnlyList<string> columns)
    {
        if (_format == Format.Json)
            return JsonRows(payload, columns);
        var lines = Encoding.UTF8.GetString(payload.Span).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Skip(_ignoreHeader);
        return lines.Select(line => Fit(_format == Format.Csv ? CsvFields(line) : line.Split(_delimiter), columns.Count));
    }

    private string?[] Fit(IReadOnlyList<string> fields, int count)
    {
        if (fields.Count != count)
            throw new InvalidDataException($"Delimiter not found: a line has {fields.Count} fields for {count} columns.");
        return [.. fields.Select(Value)];
    }

    private string? Value(string field) =>
        (_nullAs is not null && field == _nullAs) || (_emptyAsNull && field.Length == 0) || (_blanksAsNull && field.Length > 0 && string.IsNullOrWhiteSpace(field)) ? null : field;

    private static List<string> CsvFields(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                    field.Append(line[++i]);
                else if (c == '"')
                    quoted = false;
                else
                    field.Append(c);
            }
            else if (c == '"')
                quoted = true;
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
                field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    private static List<string?[]> JsonRows(ReadOnlyMemory<byte> payload, IReadOnlyList<string> columns)
    {
        var rows = new List<string?[]>();
        var reader = new Utf8JsonReader(payload.Span, new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("Invalid JSONPath format: a record is not a JSON object.");
            var members = document.RootElement.EnumerateObject().GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.OrdinalIgnoreCase);
            rows.Add([.. columns.Select(c => members.TryGetValue(c, out var value) ? Text(value) : null)]);
        }
        return rows;
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };
}
