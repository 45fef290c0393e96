using System.Globalization;
using System.Text;

namespace Runnel.Bench.Reporting;

/// <summary>Rows of cells printed either as an aligned plain-text table or as a Markdown table. Not thread-safe.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Row(params string[] cells) => _rows.Add(cells);

    public string ToText()
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells)
        {
            for (int i = 0; i < cells.Length; i++)
            {
                bool numeric = i > 0 && cells[i].Length > 0 && (char.IsDigit(cells[i][0]) || cells[i][0] is '-' or '<' or '>');
                text.Append(numeric ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
                text.Append(i < cells.Length - 1 ? "  " : "");
            }
            text.Append('\n');
        }
        Line(headers);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in _rows)
            Line(row);
        return text.ToString();
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers).Append(" |\n");
        text.Append('|').AppendJoin('|', headers.Select((_, i) => i == 0 ? "---" : "---:")).Append("|\n");
        foreach (var row in _rows)
            text.Append("| ").AppendJoin(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))).Append(" |\n");
        return text.ToString();
    }

    /// <summary>A value formatted for its unit: rates and counts whole with separators, times and sizes with decimals.</summary>
    public static string Format(double value, string unit)
    {
        if (double.IsNaN(value))
            return "n/a";
        string number = unit switch
        {
            "rec/s" or "req/s" or "rec" or "req" => value.ToString("N0", CultureInfo.InvariantCulture),
            "ms" or "µs" => value.ToString(value < 10 ? "0.00" : "N1", CultureInfo.InvariantCulture),
            "cores" => value.ToString("0.00", CultureInfo.InvariantCulture),
            "x" => value.ToString("0.00", CultureInfo.InvariantCulture), // a ratio judged at 0.90 needs its second digit
            _ => value.ToString("N1", CultureInfo.InvariantCulture),
        };
        return unit == "x" ? number + "x" : $"{number} {unit}";
    }

    /// <summary>The report of one server as a table, followed by its notes.</summary>
    public static string Describe(BenchReport report)
    {
        var table = new TextTable("metric", report.Label);
        foreach (var metric in report.Metrics)
            table.Row(metric.Title, Format(metric.Value, metric.Unit));
        var text = new StringBuilder(table.ToText());
        foreach (var note in report.Notes)
            text.Append("note: ").Append(note).Append('\n');
        return text.ToString();
    }
}
