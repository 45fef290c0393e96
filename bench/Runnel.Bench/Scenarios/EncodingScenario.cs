using System.Globalization;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench encodings</c>: the PutRecords (100-byte records) and GetRecords-drain scenarios in each wire
/// variant a Kinesis client uses, against one server in one run, so that their ratios mean something:
/// JSON over HTTP/1.1 (boto3, the baseline), CBOR over HTTP/1.1 (the Java SDK's encoding), JSON over h2c
/// (the JavaScript SDK's default) and CBOR over h2c. Every variant is warmed up first (a JIT-compiled server
/// tiers up its code over the first seconds: the variant measured first would pay for it), then the variants
/// are measured <c>--rounds</c> times: in a round each writes a stream of its own in turn, then the streams are
/// read back <c>--drain-passes</c> times, the variants taking turns pass by pass (one pass alone is too short to
/// measure). Each variant keeps its best round, so that a burst of noise on this machine does not decide a ratio. kinesalite speaks neither
/// CBOR well nor HTTP/2, so this runs against Runnel alone.
/// </summary>
public static class EncodingScenario
{
    private const int RecordBytes = 100;
    private const int Shards = 4;

    public sealed record Options(Uri Endpoint, string Label, int? ServerPid, long Records, int Concurrency, TimeSpan Cap, string? JsonPath)
    {
        public int Rounds { get; init; } = 2;

        /// <summary>Times each round's drain reads its stream from TRIM_HORIZON; the rate is over all of them.</summary>
        public int DrainPasses { get; init; } = 4;

        public long WarmupRecords { get; init; } = 100_000;

        public Http2Client Http2Client { get; init; } = Http2Client.Lean;

        public static Options Parse(CommandLine cl) => new(
            new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
            cl.String("label", "server"),
            cl.Int32("server-pid", 0) is > 0 and var pid ? pid : null,
            cl.Int64("records", 1_000_000, 500),
            cl.Int32("concurrency", 16, 1),
            TimeSpan.FromSeconds(cl.Double("cap", 120, 1)),
            cl.String("json"))
        {
            Rounds = cl.Int32("rounds", 2, 1),
            DrainPasses = cl.Int32("drain-passes", 4, 1),
            WarmupRecords = cl.Int64("warmup-records", 100_000, 500),
            Http2Client = cl.String("h2-client", "lean") switch
            {
                "lean" => Http2Client.Lean,
                "httpclient" => Http2Client.HttpClient,
                var other => throw new ArgumentException($"--h2-client: lean or httpclient, not {other}"),
            },
        };

        public const string Help = """
            runnel-bench encodings [options]: PutRecords and drain in JSON and CBOR, over HTTP/1.1 and h2c.
              --endpoint URL          endpoint under test (default http://127.0.0.1:4567)
              --label NAME            server name in reports (default server)
              --server-pid PID        server process, for its CPU use (optional)
              --records N             100-byte records written and drained per variant and round (default 1000000)
              --rounds N              measurements of each variant, the best kept (default 2)
              --drain-passes N        times each round reads back every variant's stream, the variants taking
                                      turns pass by pass; one pass of 1M records lasts a third of a second (default 4)
              --warmup-records N      records each variant writes and drains before any is measured (default 100000)
              --concurrency N         requests in flight (default 16)
              --h2-client lean|httpclient
                                      what sends the h2c requests: the load generator's own HTTP/2 client, which
                                      costs about what HttpClient costs over HTTP/1.1 (default), or .NET's HttpClient,
                                      whose HTTP/2 costs twice that and takes CPU from a server on the same machine
              --cap SECONDS           time cap of each scenario (default 120)
              --json FILE             also write the results as JSON
            """;
    }

    private static readonly (string Id, string Title, KinesisCodec Codec, bool Http2)[] Variants =
    [
        ("json_h1", "JSON, HTTP/1.1", KinesisCodec.Json, false),
        ("cbor_h1", "CBOR, HTTP/1.1", KinesisCodec.Cbor, false),
        ("json_h2", "JSON, h2c", KinesisCodec.Json, true),
        ("cbor_h2", "CBOR, h2c", KinesisCodec.Cbor, true),
    ];

    public static async Task<BenchReport> RunAsync(Options options, TextWriter log)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = options.Endpoint.ToString() };
        report.Settings["records"] = options.Records.ToString(CultureInfo.InvariantCulture);
        report.Settings["concurrency"] = options.Concurrency.ToString(CultureInfo.InvariantCulture);
        report.Settings["rounds"] = options.Rounds.ToString(CultureInfo.InvariantCulture);
        report.Settings["drain_passes"] = options.DrainPasses.ToString(CultureInfo.InvariantCulture);
        report.Settings["warmup_records"] = options.WarmupRecords.ToString(CultureInfo.InvariantCulture);
        report.Settings["h2_client"] = options.Http2Client == Http2Client.Lean ? "lean (H2cConnection)" : "HttpClient";
        foreach (var variant in Variants)
            await InVariantAsync(options, log, variant, async ctx =>
            {
                string warm = ctx.StreamName($"warm-{variant.Id.Replace('_', '-')}");
                var warmShards = await ctx.CreateStreamAsync(warm, Shards).ConfigureAwait(false);
                await PutScenarios.PutRecordsAsync(ctx, warm, options.WarmupRecords, RecordBytes).ConfigureAwait(false);
                await DrainScenario.RunAsync(ctx, warm, warmShards, options.WarmupRecords).ConfigureAwait(false);
            }).ConfigureAwait(false);
        log.WriteLine($"  warm-up: {options.WarmupRecords:N0} records written and drained in each variant");

        var best = new Dictionary<string, Measured>();
        for (int round = 1; round <= options.Rounds; round++)
        {
            foreach (var (id, measured) in await MeasureRoundAsync(options, log, round).ConfigureAwait(false))
            {
                var title = Variants.First(v => v.Id == id).Title;
                log.WriteLine($"  round {round}, {title,-15} PutRecords {measured.PutRate,12:N0} records/s (server {measured.PutCpu:0.00} cores)   " +
                    $"drain {measured.DrainRate,12:N0} records/s (server {measured.DrainCpu:0.00}, load generator {measured.DrainClientCpu:0.00} cores)");
                if (measured.Problem is { } problem)
                {
                    report.Failed = true;
                    report.Note($"{title}, round {round}: {problem}");
                }
                best[id] = best.TryGetValue(id, out var kept)
                    ? new Measured(
                        Math.Max(kept.PutRate, measured.PutRate), kept.PutRate >= measured.PutRate ? kept.PutCpu : measured.PutCpu,
                        Math.Max(kept.DrainRate, measured.DrainRate), kept.DrainRate >= measured.DrainRate ? kept.DrainCpu : measured.DrainCpu,
                        kept.DrainRate >= measured.DrainRate ? kept.DrainClientCpu : measured.DrainClientCpu, null)
                    : measured;
            }
        }

        var baseline = best["json_h1"];
        foreach (var (id, title, _, _) in Variants)
        {
            var m = best[id];
            log.WriteLine($"  best of {options.Rounds}: {title,-15} PutRecords {m.PutRate,12:N0} records/s ({m.PutRate / baseline.PutRate:0.00}x, server {m.PutCpu / m.PutRate * 1e6:0.00} µs a record)   " +
                $"drain {m.DrainRate,12:N0} records/s ({m.DrainRate / baseline.DrainRate:0.00}x, server {m.DrainCpu / m.DrainRate * 1e6:0.00} µs a record)");
            report.Add($"encodings.{id}.put_records_per_s", $"PutRecords, 500 x 100 B, {title}: records/s", m.PutRate, "rec/s");
            report.Add($"encodings.{id}.put_ratio", $"PutRecords, 500 x 100 B, {title}: ratio to JSON, HTTP/1.1", m.PutRate / baseline.PutRate, "x");
            report.Add($"encodings.{id}.drain_records_per_s", $"GetRecords drain, 100 B, {title}: records/s", m.DrainRate, "rec/s");
            report.Add($"encodings.{id}.drain_ratio", $"GetRecords drain, 100 B, {title}: ratio to JSON, HTTP/1.1", m.DrainRate / baseline.DrainRate, "x");
            report.Add($"encodings.{id}.put_server_cpu", $"PutRecords, {title}: server CPU", m.PutCpu, "cores");
            report.Add($"encodings.{id}.drain_server_cpu", $"GetRecords drain, {title}: server CPU", m.DrainCpu, "cores");
            report.Add($"encodings.{id}.drain_client_cpu", $"GetRecords drain, {title}: load generator CPU", m.DrainClientCpu, "cores");
            // The server's own cost per record: on a machine the load generator shares, its decoding (CBOR costs it
            // more than JSON) takes cores from the server, so throughput alone blurs which side pays.
            report.Add($"encodings.{id}.put_server_us", $"PutRecords, {title}: server CPU per record", m.PutCpu / m.PutRate * 1e6, "µs");
            report.Add($"encodings.{id}.drain_server_us", $"GetRecords drain, {title}: server CPU per record", m.DrainCpu / m.DrainRate * 1e6, "µs");
        }
        return report;
    }

    private sealed record Measured(double PutRate, double PutCpu, double DrainRate, double DrainCpu, double DrainClientCpu, string? Problem);

    /// <summary>
    /// One round: each variant writes <c>--records</c> records to a stream of its own, the variants in turn; then
    /// the streams are drained <c>--drain-passes</c> times, the variants taking turns pass by pass, so that a burst
    /// of noise on this shared machine falls on all of them alike. A drain's rate is over all its passes.
    /// </summary>
    private static async Task<List<(string Id, Measured Measured)>> MeasureRoundAsync(Options options, TextWriter log, int round)
    {
        var lanes = new List<Lane>();
        try
        {
            foreach (var variant in Variants)
            {
                var lane = OpenLane(options, log, variant);
                lanes.Add(lane);
                await lane.Context.WaitUntilReadyAsync().ConfigureAwait(false);
                lane.Stream = lane.Context.StreamName($"enc-{variant.Id.Replace('_', '-')}-{round}");
                lane.Shards = await lane.Context.CreateStreamAsync(lane.Stream, Shards).ConfigureAwait(false);
                var cpu = CpuMeter.Start(options.ServerPid);
                var put = await PutScenarios.PutRecordsAsync(lane.Context, lane.Stream, options.Records, RecordBytes).ConfigureAwait(false);
                lane.PutCpu = cpu.Stop().Server;
                lane.Put = put;
                if (put.FailedRequests > 0 || put.RecordsFailed > 0)
                    lane.Problem ??= $"{put.FailedRequests} failed requests ({put.FirstError}), {put.RecordsFailed} failed records";
            }
            for (int pass = 1; pass <= options.DrainPasses; pass++)
            {
                foreach (var lane in lanes)
                {
                    var cpu = CpuMeter.Start(options.ServerPid);
                    var drain = await DrainScenario.RunAsync(lane.Context, lane.Stream!, lane.Shards!, lane.Put!.RecordsOk).ConfigureAwait(false);
                    var used = cpu.Stop();
                    lane.Drained += drain.Records;
                    lane.DrainSeconds += drain.Elapsed.TotalSeconds;
                    lane.DrainServerSeconds += used.Server * drain.Elapsed.TotalSeconds;
                    lane.DrainClientSeconds += used.Client * drain.Elapsed.TotalSeconds;
                    if (drain.Records != lane.Put.RecordsOk)
                        lane.Problem ??= $"drain pass {pass} read {drain.Records} of {lane.Put.RecordsOk} ({drain.FirstError})";
                }
            }
            return lanes.Select(lane => (lane.Id, new Measured(
                lane.Put!.RecordsOk / lane.Put.Elapsed.TotalSeconds, lane.PutCpu,
                lane.Drained / lane.DrainSeconds, lane.DrainServerSeconds / lane.DrainSeconds, lane.DrainClientSeconds / lane.DrainSeconds,
                lane.Problem))).ToList();
        }
        finally
        {
            foreach (var lane in lanes)
            {
                await lane.Context.DeleteStreamsAsync().ConfigureAwait(false);
                lane.Client.Dispose();
            }
        }
    }

    /// <summary>One variant's client and context within a round, and what it measured.</summary>
    private sealed class Lane(string id, KinesisHttpClient client, BenchContext context)
    {
        public string Id { get; } = id;
        public KinesisHttpClient Client { get; } = client;
        public BenchContext Context { get; } = context;
        public string? Stream { get; set; }
        public IReadOnlyList<string>? Shards { get; set; }
        public LoadResult? Put { get; set; }
        public double PutCpu { get; set; }
        public long Drained { get; set; }
        public double DrainSeconds { get; set; }
        public double DrainServerSeconds { get; set; }
        public double DrainClientSeconds { get; set; }
        public string? Problem { get; set; }
    }

    private static Lane OpenLane(Options options, TextWriter log, (string Id, string Title, KinesisCodec Codec, bool Http2) variant)
    {
        var client = new KinesisHttpClient(options.Endpoint, options.Concurrency + 4, variant.Http2, TimeSpan.FromSeconds(60), options.Http2Client);
        var runOptions = RunOptions.ForSetUp(options.Endpoint, options.Label, options.ServerPid, options.Concurrency, Shards, options.Cap, variant.Http2);
        return new Lane(variant.Id, client, new BenchContext(runOptions, client, log) { Codec = variant.Codec });
    }

    /// <summary>Runs <paramref name="body"/> with a client of the variant's encoding and transport; its streams are deleted after.</summary>
    private static async Task InVariantAsync(Options options, TextWriter log, (string Id, string Title, KinesisCodec Codec, bool Http2) variant, Func<BenchContext, Task> body)
    {
        var lane = OpenLane(options, log, variant);
        using var client = lane.Client;
        var ctx = lane.Context;
        await ctx.WaitUntilReadyAsync().ConfigureAwait(false);
        try
        {
            await body(ctx).ConfigureAwait(false);
        }
        finally
        {
            await ctx.DeleteStreamsAsync().ConfigureAwait(false);
        }
    }
}
