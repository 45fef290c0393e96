using System.Globalization;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench encodings</c>: the PutRecords (100-byte records) and GetRecords-drain scenarios in each wire
/// variant a Kinesis client uses, against one server in one run, so that their ratios mean something:
/// JSON over HTTP/1.1 (boto3, the baseline), CBOR over HTTP/1.1 (the Java SDK's encoding), JSON over h2c
/// (the JavaScript SDK's default) and CBOR over h2c. Each variant writes its own stream, after a warm-up
/// in that variant, then drains it. kinesalite speaks neither CBOR well nor HTTP/2, so this runs against
/// Runnel alone.
/// </summary>
public static class EncodingScenario
{
    private const int RecordBytes = 100;
    private const int Shards = 4;

    public sealed record Options(Uri Endpoint, string Label, int? ServerPid, long Records, int Concurrency, TimeSpan Cap, string? JsonPath)
    {
        public static Options Parse(CommandLine cl) => new(
            new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
            cl.String("label", "server"),
            cl.Int32("server-pid", 0) is > 0 and var pid ? pid : null,
            cl.Int64("records", 1_000_000, 500),
            cl.Int32("concurrency", 16, 1),
            TimeSpan.FromSeconds(cl.Double("cap", 120, 1)),
            cl.String("json"));

        public const string Help = """
            runnel-bench encodings [options]: PutRecords and drain in JSON and CBOR, over HTTP/1.1 and h2c.
              --endpoint URL          endpoint under test (default http://127.0.0.1:4567)
              --label NAME            server name in reports (default server)
              --server-pid PID        server process, for its CPU use (optional)
              --records N             100-byte records written and drained per variant (default 1000000)
              --concurrency N         requests in flight (default 16)
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
        var baseline = (Put: double.NaN, Drain: double.NaN);
        foreach (var (id, title, codec, http2) in Variants)
        {
            using var client = new KinesisHttpClient(options.Endpoint, options.Concurrency + 4, http2, TimeSpan.FromSeconds(60));
            var runOptions = RunOptions.ForSetUp(options.Endpoint, options.Label, options.ServerPid, options.Concurrency, Shards, options.Cap, http2);
            var ctx = new BenchContext(runOptions, client, log) { Codec = codec };
            await ctx.WaitUntilReadyAsync().ConfigureAwait(false);
            try
            {
                // Warm-up in this variant: its parsing and writing paths compiled and pooled before the clock.
                string warm = ctx.StreamName($"warm-{id.Replace('_', '-')}");
                var warmShards = await ctx.CreateStreamAsync(warm, Shards).ConfigureAwait(false);
                await PutScenarios.PutRecordsAsync(ctx, warm, 20_000, RecordBytes).ConfigureAwait(false);
                await DrainScenario.RunAsync(ctx, warm, warmShards, 20_000).ConfigureAwait(false);

                string stream = ctx.StreamName($"enc-{id.Replace('_', '-')}");
                var shards = await ctx.CreateStreamAsync(stream, Shards).ConfigureAwait(false);
                var cpu = CpuMeter.Start(options.ServerPid);
                var put = await PutScenarios.PutRecordsAsync(ctx, stream, options.Records, RecordBytes).ConfigureAwait(false);
                var putCpu = cpu.Stop();
                double putRate = put.RecordsOk / put.Elapsed.TotalSeconds;
                cpu = CpuMeter.Start(options.ServerPid);
                var drain = await DrainScenario.RunAsync(ctx, stream, shards, put.RecordsOk).ConfigureAwait(false);
                var drainCpu = cpu.Stop();
                if (id == "json_h1")
                    baseline = (putRate, drain.RecordsPerSecond);
                log.WriteLine($"  {title,-15} PutRecords {putRate,12:N0} records/s ({putRate / baseline.Put:0.00}x, server {putCpu.Server:0.00} cores)   " +
                    $"drain {drain.RecordsPerSecond,12:N0} records/s ({drain.RecordsPerSecond / baseline.Drain:0.00}x, server {drainCpu.Server:0.00} cores)");
                report.Add($"encodings.{id}.put_records_per_s", $"PutRecords, 500 x 100 B, {title}: records/s", putRate, "rec/s");
                report.Add($"encodings.{id}.put_ratio", $"PutRecords, 500 x 100 B, {title}: ratio to JSON, HTTP/1.1", putRate / baseline.Put, "x");
                report.Add($"encodings.{id}.drain_records_per_s", $"GetRecords drain, 100 B, {title}: records/s", drain.RecordsPerSecond, "rec/s");
                report.Add($"encodings.{id}.drain_ratio", $"GetRecords drain, 100 B, {title}: ratio to JSON, HTTP/1.1", drain.RecordsPerSecond / baseline.Drain, "x");
                report.Add($"encodings.{id}.put_server_cpu", $"PutRecords, {title}: server CPU", putCpu.Server, "cores");
                report.Add($"encodings.{id}.drain_server_cpu", $"GetRecords drain, {title}: server CPU", drainCpu.Server, "cores");
                if (put.FailedRequests > 0 || put.RecordsFailed > 0 || drain.Records != put.RecordsOk)
                {
                    report.Failed = true;
                    report.Note($"{title}: {put.FailedRequests} failed requests ({put.FirstError}), {put.RecordsFailed} failed records, drained {drain.Records} of {put.RecordsOk} ({drain.FirstError})");
                }
            }
            finally
            {
                await ctx.DeleteStreamsAsync().ConfigureAwait(false);
            }
        }
        return report;
    }
}
