using System.Globalization;
using System.Text;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>The soak's report: the row of each window, the quarters, the readers' deliveries, and the checks.</summary>
public static partial class SoakScenario
{
    /// <summary>Everything the run measured, for the summary.</summary>
    private sealed record SoakResult(List<Window> Windows, List<ReaderDelivery> Deliveries, ErrorCounts Errors, SlowConnections Slow,
        Readings End, MemorySnapshot Before, MemorySnapshot After, TimeSpan Elapsed, long Subscriptions);

    /// <summary>One judged property of the run.</summary>
    private sealed record Check(string Name, bool? Passed, string Detail)
    {
        public string Verdict => Passed switch { true => "pass", false => "FAIL", null => "not judged" };
    }

    /// <summary>A quarter of the windows: its RSS and its put latency, pooled.</summary>
    private sealed record Quarter(int Number, List<Window> Windows)
    {
        public double RssMib => Windows.Count == 0 ? double.NaN : Windows.Average(w => MemorySnapshot.Mib(w.Memory.RssKiB));

        public LatencySamples Put
        {
            get
            {
                var pooled = new LatencySamples();
                foreach (var window in Windows)
                    pooled.AddRange(window.Put);
                return pooled;
            }
        }

        public string Span => Windows.Count == 0 ? "-" : $"{Windows[0].EndSeconds - Windows[0].Seconds:0}-{Windows[^1].EndSeconds:0} s";
    }

    /// <summary>Fixed-width columns, so that each window's row can be printed as it ends.</summary>
    private sealed class Columns(params (string Header, int Width)[] columns)
    {
        public string Header() => Format(columns.Select(c => c.Header).ToArray());

        public string Format(string[] cells)
        {
            var line = new StringBuilder("  ");
            for (int i = 0; i < columns.Length; i++)
                line.Append(cells[i].PadLeft(columns[i].Width)).Append(i < columns.Length - 1 ? " " : "");
            return line.ToString();
        }
    }

    private static Columns WindowTable() => new(("window", 6), ("end s", 6), ("acked/s", 8), ("put p50", 8), ("p99", 7), ("max", 7),
        ("fan-out/s", 9), ("polled/s", 8), ("RSS MiB", 8), ("anon", 6), ("fds", 5), ("slow held", 9), ("closed", 6), ("fresh ms", 8),
        ("errors", 6), ("server", 6), ("client", 6));

    private static string[] WindowCells(Window w) =>
    [
        N(w.Number), F(w.EndSeconds, "0"), F(w.Acked / w.Seconds, "N0"), Ms(w.Put.Percentile(50)), Ms(w.Put.Percentile(99)), Ms(w.Put.Max),
        F(w.FanOut / w.Seconds, "N0"), F(w.Polled / w.Seconds, "N0"), F(MemorySnapshot.Mib(w.Memory.RssKiB), "0.0"),
        F(MemorySnapshot.Mib(w.Memory.AnonKiB), "0.0"), N(w.ServerFds), N(w.SlowHeld), N(w.SlowClosed),
        w.Fresh.Ok ? Ms(w.Fresh.Millis) : "FAIL", N(w.Errors), F(w.Cpu.Server, "0.00"), F(w.Cpu.Client, "0.00"),
    ];

    private static void Summarize(Options options, BenchReport report, TextWriter log, SoakResult result)
    {
        var windows = result.Windows;
        var quarters = Enumerable.Range(0, 4).Select(q => new Quarter(q + 1, windows.Skip(q * windows.Count / 4).Take(((q + 1) * windows.Count / 4) - (q * windows.Count / 4)).ToList())).ToList();
        long acked = result.Deliveries.FirstOrDefault()?.Acknowledged ?? 0;
        double rate = acked / options.Duration.TotalSeconds;
        var first = windows[0].Memory;
        var middle = windows[windows.Count / 2].Memory;
        var last = windows[^1].Memory;

        log.WriteLine();
        var phases = new TextTable("quarter", "windows", "time", "acked/s", "RSS MiB (mean)", "put p50", "put p99", "put max");
        foreach (var q in quarters)
        {
            var put = q.Put;
            double seconds = q.Windows.Sum(w => w.Seconds);
            phases.Row($"Q{q.Number}", N(q.Windows.Count), q.Span, F(q.Windows.Sum(w => w.Acked) / seconds, "N0"), F(q.RssMib, "0.0"),
                Ms(put.Percentile(50)), Ms(put.Percentile(99)), Ms(put.Max));
            report.Add($"soak.q{q.Number}.rss_mib", $"Q{q.Number}: mean RSS", q.RssMib, "MiB");
            report.Add($"soak.q{q.Number}.put_p50_ms", $"Q{q.Number}: PutRecords p50", put.Percentile(50), "ms");
            report.Add($"soak.q{q.Number}.put_p99_ms", $"Q{q.Number}: PutRecords p99", put.Percentile(99), "ms");
            report.Add($"soak.q{q.Number}.put_max_ms", $"Q{q.Number}: PutRecords max", put.Max, "ms");
        }
        log.Write(phases.ToText());
        log.WriteLine($"  RSS: {Mib(result.Before)} before the load, {Mib(first)} after the first window, {Mib(middle)} in the middle, {Mib(last)} at the end " +
            $"(anon {MemorySnapshot.Mib(last.AnonKiB):0.0}, file {MemorySnapshot.Mib(last.FileKiB):0.0}), {Mib(result.After)} after the readers stopped; peak {MemorySnapshot.Mib(result.After.PeakKiB):0.0} MiB. " +
            "The server exposes no managed-heap figure (its /metrics has none), so RSS is the measure.");

        log.WriteLine();
        var readersTable = new TextTable("reader", "acknowledged", "received", "lost", "duplicates", "unacknowledged", "out of order");
        foreach (var d in result.Deliveries)
            readersTable.Row(d.Reader, N(d.Acknowledged), N(d.Read), N(d.Lost), N(d.Duplicates), N(d.Unacknowledged), N(d.OutOfOrder));
        log.Write(readersTable.ToText());
        log.WriteLine($"  readers caught up {result.End.CatchUp.TotalSeconds:0.0} s after the producers stopped{(result.End.CaughtUp ? "" : " (not all: the drain timed out)")}; " +
            $"{result.Subscriptions} SubscribeToShard subscriptions opened ({options.Consumers * options.Shards} at the start, the rest renewals)");

        var (silent, slowloris) = result.Slow.Lifetimes();
        log.WriteLine($"  slow connections: {options.SlowConnections} held; {result.Slow.Opened:N0} opened, {result.Slow.ClosedByServer:N0} closed by the server " +
            $"({result.Slow.Answered:N0} with an answer first), {result.Slow.ConnectFailures:N0} failed to connect; open for, until the server closed them: " +
            $"silent p50 {Seconds(silent.Percentile(50))}, max {Seconds(silent.Max)}; slowloris p50 {Seconds(slowloris.Percentile(50))}, max {Seconds(slowloris.Max)}");
        log.WriteLine(result.Errors.Total == 0 ? "  errors: none" : "  errors: " + string.Join("; ", result.Errors.ByKind.Select(e => $"{e.Key}: {e.Value:N0}")));

        var checks = new List<Check>
        {
            DeliveryCheck(result),
            new("rate", rate >= SustainedShare * options.Rate,
                $"{acked:N0} records acknowledged in {options.Duration.TotalSeconds:N0} s = {rate:N0}/s of {options.Rate:N0}/s asked (at least {SustainedShare:P0})"),
            MemoryCheck(options, quarters),
            LatencyCheck(options, quarters),
            FreshCheck(options, result),
            new("errors", result.Errors.Total <= options.MaxErrors, $"{result.Errors.Total:N0} failed requests (at most {options.MaxErrors:N0})"),
        };
        log.WriteLine();
        foreach (var check in checks)
        {
            log.WriteLine($"  {check.Name,-16} {check.Verdict,-10} {check.Detail}");
            report.Note($"check {check.Name}: {check.Verdict}: {check.Detail}");
            report.Failed |= check.Passed == false;
        }
        foreach (var (kind, count) in result.Errors.ByKind)
            report.Note($"error {kind}: {count}");

        report.Add("soak.acked", "Records acknowledged", acked, "rec");
        report.Add("soak.rate", "Records acknowledged per second over the run", rate, "rec/s");
        report.Add("soak.read.fanout", "Records received by the fan-out consumers, all together", result.Deliveries.Where(d => d.Reader.StartsWith("fan-out", StringComparison.Ordinal)).Sum(d => d.Read), "rec");
        report.Add("soak.read.polled", "Records received by the pollers, all together", result.Deliveries.Where(d => d.Reader.StartsWith("poller", StringComparison.Ordinal)).Sum(d => d.Read), "rec");
        report.Add("soak.lost", "Acknowledged records some reader never received, summed over the readers", result.Deliveries.Sum(d => d.Lost), "rec");
        report.Add("soak.duplicates", "Records received more than once, summed over the readers", result.Deliveries.Sum(d => d.Duplicates), "rec");
        report.Add("soak.out_of_order", "Records received out of sequence-number order, summed over the readers", result.Deliveries.Sum(d => d.OutOfOrder), "rec");
        report.Add("soak.catch_up_s", "Readers caught up after the producers stopped", result.End.CatchUp.TotalSeconds, "s");
        report.Add("soak.subscriptions", "SubscribeToShard subscriptions opened", result.Subscriptions, "req");
        report.Add("soak.rss.before_mib", "RSS before the load", MemorySnapshot.Mib(result.Before.RssKiB), "MiB");
        report.Add("soak.rss.first_mib", "RSS after the first window", MemorySnapshot.Mib(first.RssKiB), "MiB");
        report.Add("soak.rss.middle_mib", "RSS in the middle window", MemorySnapshot.Mib(middle.RssKiB), "MiB");
        report.Add("soak.rss.last_mib", "RSS after the last window", MemorySnapshot.Mib(last.RssKiB), "MiB");
        report.Add("soak.rss.after_mib", "RSS after the readers stopped", MemorySnapshot.Mib(result.After.RssKiB), "MiB");
        report.Add("soak.rss.peak_mib", "Peak RSS (VmHWM)", MemorySnapshot.Mib(result.After.PeakKiB), "MiB");
        report.Add("soak.slow.opened", "Slow connections opened", result.Slow.Opened, "req");
        report.Add("soak.slow.closed", "Slow connections closed by the server", result.Slow.ClosedByServer, "req");
        report.Add("soak.slow.silent_lifetime_p50_s", "Silent connections: open until closed, p50", silent.Percentile(50) / 1000, "s");
        report.Add("soak.slow.slowloris_lifetime_p50_s", "Slowloris connections: open until closed, p50", slowloris.Percentile(50) / 1000, "s");
        var fresh = windows.Select(w => w.Fresh).Append(result.End.Fresh).ToList();
        report.Add("soak.fresh.answered", "Fresh requests answered 200", fresh.Count(f => f.Ok), "req");
        report.Add("soak.fresh.failed", "Fresh requests not answered 200", fresh.Count(f => !f.Ok), "req");
        report.Add("soak.fresh.max_ms", "Fresh request on a new connection: slowest", fresh.Max(f => f.Millis), "ms");
        report.Add("soak.fresh.final_ms", "Fresh request at the end, slow connections held", result.End.Fresh.Millis, "ms");
        report.Add("soak.errors", "Failed requests", result.Errors.Total, "req");
        foreach (var w in windows)
        {
            string id = $"soak.w{w.Number}";
            report.Add($"{id}.acked_per_s", $"Window {w.Number}: acknowledged records/s", w.Acked / w.Seconds, "rec/s");
            report.Add($"{id}.put_p50_ms", $"Window {w.Number}: PutRecords p50", w.Put.Percentile(50), "ms");
            report.Add($"{id}.put_p99_ms", $"Window {w.Number}: PutRecords p99", w.Put.Percentile(99), "ms");
            report.Add($"{id}.put_max_ms", $"Window {w.Number}: PutRecords max", w.Put.Max, "ms");
            report.Add($"{id}.fanout_per_s", $"Window {w.Number}: fan-out records/s received", w.FanOut / w.Seconds, "rec/s");
            report.Add($"{id}.polled_per_s", $"Window {w.Number}: polled records/s received", w.Polled / w.Seconds, "rec/s");
            report.Add($"{id}.rss_mib", $"Window {w.Number}: RSS", MemorySnapshot.Mib(w.Memory.RssKiB), "MiB");
            report.Add($"{id}.fds", $"Window {w.Number}: server descriptors", w.ServerFds, "fds");
            report.Add($"{id}.slow_held", $"Window {w.Number}: slow connections held", w.SlowHeld, "req");
            report.Add($"{id}.fresh_ms", $"Window {w.Number}: fresh request", w.Fresh.Millis, "ms");
            report.Add($"{id}.errors", $"Window {w.Number}: failed requests", w.Errors, "req");
            report.Add($"{id}.server_cpu", $"Window {w.Number}: server CPU", w.Cpu.Server, "cores");
        }
    }

    private static Check DeliveryCheck(SoakResult result)
    {
        var d = result.Deliveries;
        long acked = d.FirstOrDefault()?.Acknowledged ?? 0;
        string detail = $"{acked:N0} acknowledged; " + string.Join("; ", d.Select(r =>
            $"{r.Reader}: {r.Read:N0} received, {r.Lost:N0} lost, {r.Duplicates:N0} duplicated, {r.OutOfOrder:N0} out of order"));
        if (d.Count == 0)
            return new Check("delivery", null, $"{acked:N0} acknowledged; no readers");
        return new Check("delivery", acked > 0 && d.All(r => r.Lost == 0), detail);
    }

    private static Check MemoryCheck(Options options, List<Quarter> quarters)
    {
        double early = quarters[1].RssMib, late = quarters[3].RssMib;
        double growth = late - early, percent = 100 * growth / early;
        string detail = $"mean RSS {early:0.0} MiB in Q2, {late:0.0} MiB in Q4: {growth:+0.0;-0.0} MiB ({percent:+0.0;-0.0}%); " +
            $"bound +{options.MaxRssGrowthPercent:0.#}% or +{options.MaxRssGrowthMib:0.#} MiB";
        if (!options.DriftCheck || quarters.Any(q => q.Windows.Count == 0))
            return new Check("memory drift", null, detail);
        return new Check("memory drift", percent <= options.MaxRssGrowthPercent || growth <= options.MaxRssGrowthMib, detail);
    }

    private static Check LatencyCheck(Options options, List<Quarter> quarters)
    {
        double early = quarters[1].Put.Percentile(99), late = quarters[3].Put.Percentile(99);
        string detail = $"PutRecords p99 {Ms(early)} ms in Q2, {Ms(late)} ms in Q4; bound {options.MaxP99Ratio:0.#}x or +{options.P99SlackMs:0.#} ms";
        if (!options.DriftCheck || double.IsNaN(early) || double.IsNaN(late))
            return new Check("latency drift", null, detail);
        return new Check("latency drift", late <= options.MaxP99Ratio * early || late - early <= options.P99SlackMs, detail);
    }

    private static Check FreshCheck(Options options, SoakResult result)
    {
        var fresh = result.Windows.Select(w => w.Fresh).Append(result.End.Fresh).ToList();
        int answered = fresh.Count(f => f.Ok);
        double slowest = fresh.Max(f => f.Millis);
        string detail = $"a ListStreams on a new connection, each window and at the end: {answered}/{fresh.Count} answered, slowest {Ms(slowest)} ms; " +
            $"at the end {Ms(result.End.Fresh.Millis)} ms with {result.End.SlowHeld} slow connections held; bound {options.FreshMaxMs:0} ms" +
            (fresh.FirstOrDefault(f => !f.Ok).Error is { } error ? $"; first failure: {error}" : "");
        return new Check("slow connections", answered == fresh.Count && slowest <= options.FreshMaxMs, detail);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Ms(double millis) => F(millis, millis < 10 ? "0.00" : "0.0");

    private static string Seconds(double millis) => double.IsNaN(millis) ? "-" : $"{millis / 1000:0.0} s";

    private static string Mib(MemorySnapshot m) => $"{MemorySnapshot.Mib(m.RssKiB):0.0} MiB";
}
