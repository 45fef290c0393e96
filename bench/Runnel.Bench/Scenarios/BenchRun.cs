using System.Globalization;
using System.Text.Json;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench run</c>: the scenarios against one endpoint, in an order that makes each meaningful:
/// warm-up; PutRecords of 100-byte records; the server's RSS with those records written; the drain of
/// that stream and the RSS after it; PutRecords of 1 KiB records; single PutRecord; put-to-visible
/// latency; RSS at the end.
/// </summary>
public static class BenchRun
{
    private const int SmallRecord = 100;
    private const int LargeRecord = 1024;

    public static async Task<BenchReport> RunAsync(RunOptions options, TextWriter log)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = string.Join(",", options.Endpoints) };
        var settings = report.Settings;
        settings["records"] = Str(options.Records);
        settings["batch"] = Str(options.BatchSize);
        settings["single_records"] = Str(options.SingleRecords);
        settings["concurrency"] = Str(options.Concurrency);
        settings["shards"] = Str(options.Shards);
        settings["duration_cap_s"] = Str(options.Duration.TotalSeconds);
        settings["http"] = options.Http2 ? "h2c" : "HTTP/1.1";
        settings["latency"] = $"{options.LatencyRecords} records at {Str(options.LatencyRate)}/s, poll pause {options.PollMillis} ms";
        settings["warmup_rounds"] = Str(options.Warmup);
        settings["client_cores"] = Str(Environment.ProcessorCount);

        using var client = new KinesisHttpClient(options.Endpoints, options.Concurrency + 4, options.Http2, TimeSpan.FromSeconds(60));
        var ctx = new BenchContext(options, client, log);
        log.WriteLine($"[{options.Label}] {string.Join(", ", options.Endpoints)}: run {ctx.RunId}");
        await ctx.WaitUntilReadyAsync().ConfigureAwait(false);
        bool Wants(string scenario) => options.Scenarios.Contains(scenario);

        // A scenario that fails (the server dies, a stream cannot be created) is noted and the run goes
        // on, so that what was measured is still reported; once the server stops answering, the rest is skipped.
        bool serverGone = false;
        async Task Step(string id, Func<Task> scenario)
        {
            if (serverGone)
            {
                report.Note($"{id}: not run, the server had stopped answering");
                return;
            }
            try
            {
                await scenario().ConfigureAwait(false);
            }
            catch (Exception e) when (e is BenchException or HttpRequestException or IOException or OperationCanceledException or JsonException)
            {
                report.Failed = true;
                report.Note($"{id}: failed: {e.GetBaseException().Message}");
                log.WriteLine($"  ! {id} failed: {e.GetBaseException().Message}");
                serverGone = !await ctx.AnswersAsync().ConfigureAwait(false);
            }
        }

        try
        {
            if (options.Warmup > 0)
                await Step("warmup", () => WarmUpAsync(ctx)).ConfigureAwait(false);
            Written? put100 = null;
            if (Wants("put100"))
                await Step("put100", async () => put100 = await PutRecordsAsync(ctx, report, "put100", SmallRecord)).ConfigureAwait(false);
            if (Wants("rss"))
                await Step("rss", () => MeasureMemoryAsync(ctx, report, "rss.after_writes", "after the 100 B records are written")).ConfigureAwait(false);
            if (Wants("drain"))
            {
                if (put100 is { } written)
                {
                    await Step("drain", () => DrainAsync(ctx, report, written)).ConfigureAwait(false);
                    if (Wants("rss"))
                        await Step("rss", () => MeasureMemoryAsync(ctx, report, "rss.after_drain", "after the drain")).ConfigureAwait(false);
                }
                else
                    report.Note("drain: not run, it reads back the stream that put100 writes");
            }
            if (Wants("put1k"))
                await Step("put1k", () => PutRecordsAsync(ctx, report, "put1k", LargeRecord)).ConfigureAwait(false);
            if (Wants("put1"))
                await Step("put1", () => PutRecordAsync(ctx, report)).ConfigureAwait(false);
            if (Wants("latency"))
                await Step("latency", () => LatencyAsync(ctx, report)).ConfigureAwait(false);
            if (Wants("rss"))
                await Step("rss", () => MeasureMemoryAsync(ctx, report, "rss.end", "at the end of the run")).ConfigureAwait(false);
        }
        finally
        {
            settings["records_written_total"] = Str(ctx.RecordsWritten);
            if (!options.KeepStreams && !serverGone)
                await ctx.DeleteStreamsAsync().ConfigureAwait(false);
        }
        return report;
    }

    /// <summary>A stream that a PutRecords scenario filled: what the drain reads back.</summary>
    private sealed record Written(string Stream, IReadOnlyList<string> Shards, long Records);

    private static async Task<Written> PutRecordsAsync(BenchContext ctx, BenchReport report, string id, int recordBytes)
    {
        var options = ctx.Options;
        string stream = ctx.StreamName(id);
        var shards = await ctx.CreateStreamAsync(stream, options.Shards).ConfigureAwait(false);
        var cpu = CpuMeter.Start(options.ServerPid);
        var put = await PutScenarios.PutRecordsAsync(ctx, stream, options.Records, recordBytes).ConfigureAwait(false);
        var cores = cpu.Stop();
        ctx.RecordsWritten += put.RecordsOk;
        string size = recordBytes == LargeRecord ? "1 KiB" : $"{recordBytes} B";
        string title = $"PutRecords, {options.BatchSize} x {size}";
        report.Add($"{id}.records_per_s", $"{title}: records/s", put.RecordsPerSecond, "rec/s");
        report.Add($"{id}.mib_per_s", $"{title}: payload MiB/s", put.RecordsPerSecond * recordBytes / (1024 * 1024), "MiB/s");
        report.Add($"{id}.requests_per_s", $"{title}: requests/s", put.RequestsPerSecond, "req/s");
        AddLatency(report, id, title, put.Latency);
        report.Add($"{id}.records", $"{title}: records written", put.RecordsOk, "rec");
        report.Add($"{id}.seconds", $"{title}: elapsed", put.Elapsed.TotalSeconds, "s");
        ReportCpu(report, id, title, cores);
        NoteProblems(report, id, put, ctx.Log);
        ctx.Log.WriteLine($"  {id}: {put.RecordsOk:N0} records in {put.Elapsed.TotalSeconds:0.0} s = {put.RecordsPerSecond:N0} records/s");
        return new Written(stream, shards, put.RecordsOk);
    }

    /// <summary>
    /// Reads the stream back <see cref="RunOptions.DrainPasses"/> times from TRIM_HORIZON and reports the median
    /// pass: a drain of a million records takes well under a second on Runnel, short enough for one pass to be
    /// at the mercy of whatever else the two cores do. Every pass is in the log and the report's notes.
    /// </summary>
    private static async Task DrainAsync(BenchContext ctx, BenchReport report, Written written)
    {
        var passes = new List<(DrainScenario.Result Drain, CpuUse Cores)>();
        for (int pass = 0; pass < ctx.Options.DrainPasses; pass++)
        {
            var meter = CpuMeter.Start(ctx.Options.ServerPid);
            var result = await DrainScenario.RunAsync(ctx, written.Stream, written.Shards, written.Records).ConfigureAwait(false);
            passes.Add((result, meter.Stop()));
            ctx.Log.WriteLine($"  drain pass {pass + 1}: {result.Records:N0} records in {result.Elapsed.TotalSeconds:0.00} s = {result.RecordsPerSecond:N0} records/s");
        }
        var (drain, cores) = passes.OrderBy(p => p.Drain.RecordsPerSecond).ElementAt(passes.Count / 2);
        if (passes.Count > 1)
            report.Note($"drain: median of {passes.Count} passes; records/s of each: {string.Join(", ", passes.Select(p => p.Drain.RecordsPerSecond.ToString("N0", CultureInfo.InvariantCulture)))}");
        const string title = "GetRecords drain, 100 B";
        report.Add("drain.records_per_s", $"{title}: records/s", drain.RecordsPerSecond, "rec/s");
        if (passes.Count > 1)
            report.Add("drain.best_records_per_s", $"{title}: best pass, records/s", passes.Max(p => p.Drain.RecordsPerSecond), "rec/s");
        report.Add("drain.mib_per_s", $"{title}: payload MiB/s", drain.RecordsPerSecond * SmallRecord / (1024 * 1024), "MiB/s");
        AddLatency(report, "drain", $"{title}, GetRecords", drain.Latency);
        report.Add("drain.records", $"{title}: records read", drain.Records, "rec");
        report.Add("drain.seconds", $"{title}: elapsed", drain.Elapsed.TotalSeconds, "s");
        ReportCpu(report, "drain", title, cores);
        if (drain.Records != written.Records)
            report.Note($"drain: read {drain.Records:N0} records of the {written.Records:N0} written{(drain.HitTimeCap ? " (stopped at the time cap)" : "")}");
        if (drain.FailedRequests > 0)
            report.Note($"drain: {drain.FailedRequests} failed requests, first: {drain.FirstError}");
        ctx.Log.WriteLine($"  drain: {drain.Records:N0} records in {drain.Elapsed.TotalSeconds:0.0} s = {drain.RecordsPerSecond:N0} records/s");
    }

    private static async Task PutRecordAsync(BenchContext ctx, BenchReport report)
    {
        var options = ctx.Options;
        string stream = ctx.StreamName("put1");
        await ctx.CreateStreamAsync(stream, options.Shards).ConfigureAwait(false);
        var cpu = CpuMeter.Start(options.ServerPid);
        var put = await PutScenarios.PutRecordAsync(ctx, stream, options.SingleRecords, SmallRecord).ConfigureAwait(false);
        var cores = cpu.Stop();
        ctx.RecordsWritten += put.RecordsOk;
        const string title = "PutRecord, 1 x 100 B";
        report.Add("put1.requests_per_s", $"{title}: requests/s", put.RequestsPerSecond, "req/s");
        AddLatency(report, "put1", title, put.Latency);
        report.Add("put1.requests", $"{title}: requests answered", put.Requests - put.FailedRequests, "req");
        ReportCpu(report, "put1", title, cores);
        NoteProblems(report, "put1", put, ctx.Log);
        ctx.Log.WriteLine($"  put1: {put.RequestsPerSecond:N0} req/s over {put.Elapsed.TotalSeconds:0.0} s");
    }

    private static async Task LatencyAsync(BenchContext ctx, BenchReport report)
    {
        var options = ctx.Options;
        string stream = ctx.StreamName("latency");
        var shards = await ctx.CreateStreamAsync(stream, 1).ConfigureAwait(false);
        var cpu = CpuMeter.Start(options.ServerPid);
        var latency = await LatencyScenario.RunAsync(ctx, stream, shards[0]).ConfigureAwait(false);
        var cores = cpu.Stop();
        ctx.RecordsWritten += latency.Written;
        const string title = "Put-to-visible";
        report.Add("latency.visible_p50_ms", $"{title}: p50", latency.Visible.Percentile(50), "ms");
        report.Add("latency.visible_p99_ms", $"{title}: p99", latency.Visible.Percentile(99), "ms");
        report.Add("latency.visible_max_ms", $"{title}: max", latency.Visible.Max, "ms");
        report.Add("latency.ack_p50_ms", $"{title}: PutRecord acknowledged p50", latency.Acknowledged.Percentile(50), "ms");
        report.Add("latency.ack_p99_ms", $"{title}: PutRecord acknowledged p99", latency.Acknowledged.Percentile(99), "ms");
        report.Add("latency.records", $"{title}: records seen", latency.Seen, "rec");
        report.Add("latency.polls", $"{title}: GetRecords polls", latency.Polls, "req");
        ReportCpu(report, "latency", title, cores);
        if (latency.Seen < latency.Written)
            report.Note($"latency: the reader saw {latency.Seen} of {latency.Written} records put");
        if (latency.Written < options.LatencyRecords)
            report.Note($"latency: {latency.Written} of {options.LatencyRecords} records put before the time cap");
        if (latency.FailedRequests > 0)
            report.Note($"latency: {latency.FailedRequests} failed requests, first: {latency.FirstError}");
        ctx.Log.WriteLine($"  latency: p50 {latency.Visible.Percentile(50):0.00} ms, p99 {latency.Visible.Percentile(99):0.00} ms over {latency.Seen} records, {latency.Polls:N0} polls");
    }

    /// <summary>
    /// Runs every operation of the scenarios, untimed, for <see cref="RunOptions.Warmup"/> rounds, so that
    /// neither the server nor this client is measured while its JIT is still compiling the hot path (.NET's
    /// tiered compilation promotes a method after 30 calls and a pause; V8 is no different in kind). Rounds,
    /// not seconds: every server gets the same warm-up records, so the RSS scenario compares like with
    /// like. A reader per shard keeps its iterator from round to round, so each record is read once.
    /// </summary>
    private static async Task WarmUpAsync(BenchContext ctx)
    {
        var options = ctx.Options;
        string stream = ctx.StreamName("warmup");
        var shards = await ctx.CreateStreamAsync(stream, options.Shards).ConfigureAwait(false);
        var warm = options with { Duration = TimeSpan.FromSeconds(10) };
        var warmCtx = new BenchContext(warm, ctx.Client, ctx.Log);
        var iterators = new string?[shards.Count];
        for (int i = 0; i < shards.Count; i++)
        {
            using var response = await ctx.Client.SendAsync("GetShardIterator", KinesisJson.GetShardIterator(stream, shards[i], "TRIM_HORIZON")).ConfigureAwait(false);
            iterators[i] = KinesisJson.ReadString(response.Body, "ShardIterator");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long written = 0, read = 0;
        for (int round = 0; round < options.Warmup; round++)
        {
            var small = await PutScenarios.PutRecordsAsync(warmCtx, stream, 8L * options.BatchSize, SmallRecord).ConfigureAwait(false);
            var large = await PutScenarios.PutRecordsAsync(warmCtx, stream, 2L * options.BatchSize, LargeRecord).ConfigureAwait(false);
            var single = await PutScenarios.PutRecordAsync(warmCtx, stream, 200, SmallRecord).ConfigureAwait(false);
            written += small.RecordsOk + large.RecordsOk + single.RecordsOk;
            for (int i = 0; i < shards.Count; i++)
            {
                while (iterators[i] is { } iterator)
                {
                    using var response = await ctx.Client.SendAsync("GetRecords", KinesisJson.GetRecords(iterator, DrainScenario.Limit)).ConfigureAwait(false);
                    if (!response.IsSuccess)
                        throw new BenchException($"warm-up GetRecords: {response.Describe()}");
                    var page = KinesisJson.ReadRecordsPage(response.Body);
                    read += page.Count;
                    iterators[i] = page.NextShardIterator;
                    if (page.Count == 0 && page.MillisBehindLatest == 0)
                        break;
                }
            }
        }
        ctx.RecordsWritten += written;
        ctx.Log.WriteLine($"  warm-up: {options.Warmup} rounds in {clock.Elapsed.TotalSeconds:0.0} s, {written:N0} records written, {read:N0} read back");
    }




    private static async Task MeasureMemoryAsync(BenchContext ctx, BenchReport report, string id, string when)
    {
        if (ctx.Options.ServerPid is not { } pid)
        {
            if (id == "rss.after_writes")
                report.Note("rss skipped: no --server-pid");
            return;
        }
        // Let a periodic flush or a collection that the last requests triggered run before looking.
        await Task.Delay(1000).ConfigureAwait(false);
        var memory = MemorySnapshot.Read(pid);
        report.Add($"{id}_mib", $"RSS {when}", MemorySnapshot.Mib(memory.RssKiB), "MiB");
        report.Add($"{id}_anon_mib", $"RSS {when}: anonymous (heap)", MemorySnapshot.Mib(memory.AnonKiB), "MiB");
        report.Add($"{id}_file_mib", $"RSS {when}: file-backed", MemorySnapshot.Mib(memory.FileKiB), "MiB");
        report.Add($"{id}_records", $"RSS {when}: records written so far", ctx.RecordsWritten, "rec");
        if (id == "rss.end")
            report.Add("rss.peak_mib", "RSS peak during the run (VmHWM)", MemorySnapshot.Mib(memory.PeakKiB), "MiB");
        ctx.Log.WriteLine($"  rss {when}: {MemorySnapshot.Mib(memory.RssKiB):0.0} MiB (anon {MemorySnapshot.Mib(memory.AnonKiB):0.0}, file {MemorySnapshot.Mib(memory.FileKiB):0.0}) with {ctx.RecordsWritten:N0} records written");
    }

    private static void ReportCpu(BenchReport report, string id, string title, CpuUse cores)
    {
        if (!double.IsNaN(cores.Server))
            report.Add($"{id}.server_cpu_cores", $"{title}: server CPU", cores.Server, "cores");
        report.Add($"{id}.client_cpu_cores", $"{title}: load generator CPU", cores.Client, "cores");
        if (!double.IsNaN(cores.Others))
            report.Add($"{id}.other_cpu_cores", $"{title}: other processes' CPU", cores.Others, "cores");
    }

    private static void AddLatency(BenchReport report, string id, string title, LatencySamples samples)
    {
        report.Add($"{id}.latency_p50_ms", $"{title}: request p50", samples.Percentile(50), "ms");
        report.Add($"{id}.latency_p99_ms", $"{title}: request p99", samples.Percentile(99), "ms");
    }

    private static void NoteProblems(BenchReport report, string id, LoadResult result, TextWriter log)
    {
        if (result.FailedRequests > 0 || result.RecordsFailed > 0)
            report.Note($"{id}: {result.FailedRequests} failed requests, {result.RecordsFailed} failed records; first: {result.FirstError}");
        if (result.HitTimeCap)
            report.Note($"{id}: stopped at the {result.Elapsed.TotalSeconds:0} s time cap");
        if (result.GaveUp)
            report.Note($"{id}: gave up after repeated failures");
        foreach (var note in report.Notes.Where(n => n.StartsWith(id + ":", StringComparison.Ordinal)))
            log.WriteLine($"  ! {note}");
    }

    private static string Str(double value) => value.ToString(CultureInfo.InvariantCulture);
}
