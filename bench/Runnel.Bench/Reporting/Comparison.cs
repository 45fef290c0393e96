using System.Globalization;
using System.Text;

namespace Runnel.Bench.Reporting;

/// <summary>
/// <c>runnel-bench compare</c>: the candidate's metrics beside the baseline's (both measured in the same
/// run), the ratio candidate/baseline, and the targets with pass or fail. A target whose
/// metric is missing on either side is reported as not measured, never as passed.
/// </summary>
public static class Comparison
{
    /// <summary>A goal on one metric: either a ratio to the baseline or an absolute bound.</summary>
    private sealed record Target(string MetricId, string Text, Func<double, double?, bool?> Check);

    private static readonly Target[] Targets =
    [
        new("put100.records_per_s", ">= 30x", (c, b) => b is { } v && v > 0 ? c / v >= 30 : null),
        new("put1.requests_per_s", ">= 5x", (c, b) => b is { } v && v > 0 ? c / v >= 5 : null),
        new("drain.records_per_s", ">= 50x", (c, b) => b is { } v && v > 0 ? c / v >= 50 : null),
        // The candidate's own encodings, each within 10% of JSON over HTTP/1.1 in the same run (runnel-bench encodings).
        new("encodings.cbor_h1.put_ratio", ">= 0.90", (c, _) => c >= 0.90),
        new("encodings.cbor_h1.drain_ratio", ">= 0.90", (c, _) => c >= 0.90),
        new("encodings.json_h2.put_ratio", ">= 0.90", (c, _) => c >= 0.90),
        new("encodings.json_h2.drain_ratio", ">= 0.90", (c, _) => c >= 0.90),
        new("latency.visible_p99_ms", "< 3 ms", (c, _) => c < 3),
        new("rss.after_writes_mib", "< 150 MiB", (c, _) => c < 150),
        new("startup.median_ms", "<= 1x", (c, b) => b is { } v ? c <= v : null),
    ];

    /// <summary>The goals of two Runnel nodes on a three-server R3 JetStream cluster (issue 15, docs/benchmarks.md).</summary>
    private static readonly Target[] ClusterTargets =
    [
        new("put100.records_per_s", ">= 5x", (c, b) => b is { } v && v > 0 ? c / v >= 5 : null),
        new("drain.records_per_s", ">= 10x", (c, b) => b is { } v && v > 0 ? c / v >= 10 : null),
        new("latency.visible_p99_ms", "< 10 ms", (c, _) => c < 10),
    ];

    /// <summary>Recording the metrics costs nothing measurable (issue 17): with them on, PutRecords and the drain within
    /// 5% of the same server with <c>--metrics off</c>, in the same run. The drain is judged by its best pass: its
    /// passes spread by more than 5% on two shared cores whatever the server does (docs/benchmarks.md).</summary>
    private static readonly Target[] MetricsTargets =
    [
        new("put100.records_per_s", ">= 0.95", (c, b) => b is { } v && v > 0 ? c / v >= 0.95 : null),
        new("drain.best_records_per_s", ">= 0.95", (c, b) => b is { } v && v > 0 ? c / v >= 0.95 : null),
    ];

    public sealed record Options(IReadOnlyList<string> Candidate, IReadOnlyList<string> Baseline, string? MarkdownPath, string TargetSet = "embedded")
    {
        public static Options Parse(CommandLine cl)
        {
            string targets = cl.String("targets", "embedded");
            if (targets is not ("embedded" or "cluster" or "metrics" or "none"))
                throw new ArgumentException($"--targets is embedded, cluster, metrics or none, not {targets}");
            var options = new Options(cl.All("candidate"), cl.All("baseline"), cl.String("markdown"), targets);
            if (options.Candidate.Count == 0 || options.Baseline.Count == 0)
                throw new ArgumentException("compare needs at least one --candidate FILE and one --baseline FILE");
            return options;
        }

        public const string Help = """
            runnel-bench compare [options]: two servers side by side, with the targets.
              --candidate FILE        JSON report of the server being judged (repeat to merge run and startup)
              --baseline FILE         JSON report of the server it is compared with (likewise)
              --markdown FILE         also write the table as Markdown
              --targets SET           embedded (the single node's goals, default), cluster (two nodes on R3), metrics
                                      (metrics on within 5% of off) or none
            """;
    }

    public static string Run(Options options)
    {
        var targets = options.TargetSet switch { "cluster" => ClusterTargets, "metrics" => MetricsTargets, "none" => [], _ => Targets };
        var candidate = BenchReport.Merge(options.Candidate.Select(BenchReport.Load));
        var baseline = BenchReport.Merge(options.Baseline.Select(BenchReport.Load));
        string ratioHeader = $"ratio {candidate.Label}/{baseline.Label}";
        var table = new TextTable("metric", candidate.Label, baseline.Label, ratioHeader, "target", "result");
        var summary = new TextTable("target", candidate.Label, baseline.Label, ratioHeader, "goal", "result");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var metric in candidate.Metrics.Concat(baseline.Metrics))
        {
            if (!seen.Add(metric.Id))
                continue;
            double? c = candidate.Find(metric.Id);
            double? b = baseline.Find(metric.Id);
            string ratio = c is { } cv && b is { } bv && bv != 0 && !double.IsNaN(cv) && !double.IsNaN(bv)
                ? (cv / bv).ToString(cv / bv >= 100 ? "N0" : cv / bv >= 1 ? "0.0" : "0.00", CultureInfo.InvariantCulture) + "x"
                : "";
            var target = targets.FirstOrDefault(t => t.MetricId == metric.Id);
            string result = "";
            if (target is not null)
                result = (c is { } value && !double.IsNaN(value) ? target.Check(value, b) : null) switch
                {
                    true => "PASS",
                    false => "FAIL",
                    null => "not measured",
                };
            string[] row = [metric.Title,
                c is { } cc ? TextTable.Format(cc, metric.Unit) : "-",
                b is { } bb ? TextTable.Format(bb, metric.Unit) : "-",
                ratio, target?.Text ?? "", result];
            table.Row(row);
            if (target is not null)
                summary.Row(row);
        }

        var missing = targets.Where(t => !seen.Contains(t.MetricId)).Select(t => t.MetricId).ToList();
        var text = new StringBuilder();
        text.Append(table.ToText()).Append('\n').Append(summary.ToText());
        foreach (var id in missing)
            text.Append("target not measured: ").Append(id).Append('\n');
        AppendNotes(text, candidate);
        AppendNotes(text, baseline);

        if (options.MarkdownPath is { } path)
        {
            var md = new StringBuilder(summary.ToMarkdown());
            foreach (var id in missing)
                md.Append("\nTarget not measured: `").Append(id).Append("`.\n");
            md.Append('\n').Append(table.ToMarkdown());
            File.WriteAllText(path, md.ToString());
        }
        return text.ToString();
    }

    private static void AppendNotes(StringBuilder text, BenchReport report)
    {
        foreach (var note in report.Notes)
            text.Append(report.Label).Append(": ").Append(note).Append('\n');
    }
}
