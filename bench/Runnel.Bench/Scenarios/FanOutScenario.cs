using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench fanout</c>: enhanced fan-out, measured with the benchmark's own light subscriber
/// (<see cref="ShardSubscriber"/>) over h2c. Two phases, each on a stream of its own with its own consumers:
/// <list type="number">
/// <item>latency: every consumer subscribed (LATEST) to every shard, one writer putting single records at a
/// fixed rate with the Stopwatch time in the partition key; put-to-receive is taken for every record at every
/// consumer (p50, p99, max);</item>
/// <item>full speed: a backlog of <c>--records</c> records written first, then every consumer subscribes from
/// TRIM_HORIZON at once; each consumer's rate is the backlog over the time from its subscription to its last
/// record, with the server's and this client's CPU over the phase.</item>
/// </list>
/// </summary>
public static class FanOutScenario
{
    public sealed record Options(Uri Endpoint, string Label, int? ServerPid, int Shards, int Consumers, double Rate,
        TimeSpan LatencyDuration, int Records, int RecordBytes, int Concurrency, TimeSpan Cap, string? JsonPath)
    {
        public static Options Parse(CommandLine cl) => new(
            new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
            cl.String("label", "server"),
            cl.Int32("server-pid", 0) is > 0 and var pid ? pid : null,
            cl.Int32("shards", 4, 1),
            cl.Int32("consumers", 5, 1),
            cl.Double("rate", 1000, 1),
            TimeSpan.FromSeconds(cl.Double("latency-seconds", 20, 1)),
            cl.Int32("records", 1_000_000, 1),
            cl.Int32("record-bytes", 100, 16),
            cl.Int32("concurrency", 8, 1),
            TimeSpan.FromSeconds(cl.Double("cap", 120, 1)),
            cl.String("json"));

        public const string Help = """
            runnel-bench fanout [options]: SubscribeToShard put-to-receive latency and per-consumer throughput.
              --endpoint URL          endpoint under test (default http://127.0.0.1:4567)
              --label NAME            server name in reports (default server)
              --server-pid PID        server process, for its CPU use (optional)
              --shards N              shards of each stream (default 4)
              --consumers N           registered consumers, each subscribed to every shard (default 5)
              --rate N                records per second of the latency phase's writer (default 1000)
              --latency-seconds S     length of the latency phase (default 20)
              --records N             backlog of the full-speed phase (default 1000000)
              --record-bytes N        bytes per record (default 100)
              --concurrency N         PutRecords requests in flight writing the backlog (default 8)
              --cap SECONDS           time cap of each phase (default 120)
              --json FILE             also write the results as JSON
            """;
    }

    public static async Task<BenchReport> RunAsync(Options options, TextWriter log)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = options.Endpoint.ToString() };
        foreach (var (key, value) in new Dictionary<string, object>
        {
            ["shards"] = options.Shards,
            ["consumers"] = options.Consumers,
            ["rate"] = options.Rate,
            ["latency_seconds"] = options.LatencyDuration.TotalSeconds,
            ["records"] = options.Records,
            ["record_bytes"] = options.RecordBytes,
        })
            report.Settings[key] = Convert.ToString(value, CultureInfo.InvariantCulture)!;
        using var client = new KinesisHttpClient(options.Endpoint, options.Concurrency + options.Consumers + 4, http2: true, TimeSpan.FromSeconds(60));
        var runOptions = RunOptions.ForSetUp(options.Endpoint, options.Label, options.ServerPid, options.Concurrency, options.Shards, options.Cap, http2: true);
        var ctx = new BenchContext(runOptions, client, log);
        await ctx.WaitUntilReadyAsync().ConfigureAwait(false);
        var streams = new List<string>();
        try
        {
            await LatencyPhaseAsync(options, ctx, streams, report, log).ConfigureAwait(false);
            await ThroughputPhaseAsync(options, ctx, streams, report, log).ConfigureAwait(false);
        }
        finally
        {
            foreach (string stream in streams)
                using (await client.SendAsync("DeleteStream", KinesisJson.DeleteStream(stream, enforceConsumerDeletion: true)).ConfigureAwait(false)) { }
        }
        return report;
    }

    /// <summary>A stream with its consumers, every one ACTIVE: (shard ids, consumer ARNs).</summary>
    private static async Task<(IReadOnlyList<string> Shards, List<string> Consumers)> SetUpAsync(Options options, BenchContext ctx, string stream, List<string> streams)
    {
        var shards = await ctx.CreateStreamAsync(stream, options.Shards).ConfigureAwait(false);
        streams.Add(stream);
        var consumers = await ctx.RegisterConsumersAsync(stream, options.Consumers, "bench").ConfigureAwait(false);
        return (shards, consumers);
    }

    private static async Task LatencyPhaseAsync(Options options, BenchContext ctx, List<string> streams, BenchReport report, TextWriter log)
    {
        string stream = ctx.StreamName("fanout-latency");
        var (shards, consumers) = await SetUpAsync(options, ctx, stream, streams).ConfigureAwait(false);
        var samples = new ConcurrentBag<double>();
        var subscribers = consumers.Select(arn => new ShardSubscriber(ctx.Client, arn, shards, "LATEST")
        {
            OnRecordKey = (key, arrived) =>
            {
                if (key.StartsWith('t') && long.TryParse(key.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long put))
                    samples.Add(Stopwatch.GetElapsedTime(put, arrived).TotalMilliseconds);
            },
        }).ToList();
        using var stop = new CancellationTokenSource();
        var reading = subscribers.Select(s => s.RunAsync(stop.Token)).ToList();
        await WaitForSubscriptionsAsync(subscribers, shards.Count).ConfigureAwait(false);

        var data = new byte[options.RecordBytes];
        Random.Shared.NextBytes(data);
        int total = (int)(options.Rate * options.LatencyDuration.TotalSeconds);
        var clock = Stopwatch.StartNew();
        var cpu = CpuMeter.Start(options.ServerPid);
        int failed = 0;
        for (int i = 0; i < total && clock.Elapsed < options.Cap; i++)
        {
            var due = TimeSpan.FromSeconds(i / options.Rate);
            if (due > clock.Elapsed)
                await Task.Delay(due - clock.Elapsed).ConfigureAwait(false);
            string key = "t" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture);
            using var response = await ctx.Client.SendAsync("PutRecord", KinesisJson.PutRecord(stream, key, data)).ConfigureAwait(false);
            if (!response.IsSuccess)
                failed++;
        }
        double writeSeconds = clock.Elapsed.TotalSeconds;
        var expected = (long)(total - failed) * subscribers.Count;
        var drained = Stopwatch.StartNew();
        while (samples.Count < expected && drained.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(10).ConfigureAwait(false);
        var use = cpu.Stop();
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(reading.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);

        var sorted = samples.ToArray();
        Array.Sort(sorted);
        double Pct(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
        log.WriteLine($"  latency: {total - failed:N0} records at {(total - failed) / writeSeconds:N0}/s to {subscribers.Count} consumers x {shards.Count} shards; " +
            $"received {sorted.Length:N0} of {expected:N0}; put-to-receive p50 {Pct(50):0.00} ms, p99 {Pct(99):0.00} ms, max {Pct(100):0.00} ms; " +
            $"server {use.Server:0.00} cores, subscriber+writer {use.Client:0.00} cores");
        report.Add("fanout.latency.rate", "Fan-out latency phase: records/s written", (total - failed) / writeSeconds, "rec/s");
        report.Add("fanout.latency.p50_ms", "Fan-out put-to-receive: p50", Pct(50), "ms");
        report.Add("fanout.latency.p99_ms", "Fan-out put-to-receive: p99", Pct(99), "ms");
        report.Add("fanout.latency.max_ms", "Fan-out put-to-receive: max", Pct(100), "ms");
        report.Add("fanout.latency.received", "Fan-out latency phase: deliveries received", sorted.Length, "rec");
        report.Add("fanout.latency.server_cpu", "Fan-out latency phase: server CPU", use.Server, "cores");
        if (sorted.Length < expected || failed > 0)
        {
            report.Failed = true;
            report.Note($"latency phase: {failed} puts failed; {expected - sorted.Length} deliveries missing");
        }
    }

    private static async Task ThroughputPhaseAsync(Options options, BenchContext ctx, List<string> streams, BenchReport report, TextWriter log)
    {
        string stream = ctx.StreamName("fanout-throughput");
        var (shards, consumers) = await SetUpAsync(options, ctx, stream, streams).ConfigureAwait(false);
        var bodies = PutScenarios.BatchBodies(KinesisCodec.Json, stream, 8, 500, options.RecordBytes);
        long batches = (options.Records + 499) / 500;
        var written = await LoadLoop.RunAsync(options.Concurrency, batches, options.Cap, async (index, cancellation) =>
        {
            using var response = await ctx.Client.SendAsync("PutRecords", bodies[index % bodies.Length], cancellation).ConfigureAwait(false);
            if (!response.IsSuccess)
                return Outcome.Failed(response.Describe());
            long failed = KinesisJson.ReadInt64(response.Body, "FailedRecordCount") ?? 0;
            return new Outcome(500 - failed, failed, failed > 0 ? $"{failed} records failed" : null);
        }).ConfigureAwait(false);
        long backlog = written.RecordsOk;
        log.WriteLine($"  backlog: {backlog:N0} records of {options.RecordBytes} B in {shards.Count} shards");

        var subscribers = consumers.Select(arn => new ShardSubscriber(ctx.Client, arn, shards, "TRIM_HORIZON")).ToList();
        using var stop = new CancellationTokenSource(options.Cap);
        var cpu = CpuMeter.Start(options.ServerPid);
        long start = Stopwatch.GetTimestamp();
        var reading = subscribers.Select(s => s.RunAsync(stop.Token)).ToList();
        while (subscribers.Any(s => s.Records < backlog) && !stop.IsCancellationRequested)
            await Task.Delay(5).ConfigureAwait(false);
        var use = cpu.Stop();
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(reading.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);

        var rates = subscribers.Select(s => s.Records / Stopwatch.GetElapsedTime(start, s.RecordTimes.Last).TotalSeconds).ToList();
        for (int i = 0; i < subscribers.Count; i++)
            log.WriteLine($"  consumer {i}: {subscribers[i].Records:N0} records in {subscribers[i].Events:N0} events, {rates[i]:N0} records/s");
        log.WriteLine($"  full speed: slowest consumer {rates.Min():N0} records/s, all together {rates.Sum():N0}; server {use.Server:0.00} cores, subscriber {use.Client:0.00} cores");
        report.Add("fanout.throughput.min", "Fan-out full speed: slowest consumer's records/s", rates.Min(), "rec/s");
        report.Add("fanout.throughput.sum", "Fan-out full speed: records/s to all consumers", rates.Sum(), "rec/s");
        report.Add("fanout.throughput.server_cpu", "Fan-out full speed: server CPU", use.Server, "cores");
        report.Add("fanout.throughput.client_cpu", "Fan-out full speed: subscriber CPU", use.Client, "cores");
        if (subscribers.Any(s => s.Records != backlog))
        {
            report.Failed = true;
            report.Note($"full speed: consumers received {string.Join(", ", subscribers.Select(s => s.Records))} of {backlog} records");
        }
    }

    /// <summary>Waits until the server accepted every subscription (its initial-response arrived), so that LATEST misses nothing.</summary>
    private static async Task WaitForSubscriptionsAsync(List<ShardSubscriber> subscribers, int shards)
    {
        var waited = Stopwatch.StartNew();
        while (subscribers.Any(s => s.Opened < shards))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
                throw new BenchException("the subscriptions did not open within 30 s");
            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}
