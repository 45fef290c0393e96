using System.Diagnostics;
using System.Globalization;
using System.Text;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench scrape</c>: how long <c>GET /metrics</c> takes with many shards monitored (issue 17: under 50 ms
/// with 1,000). It creates a stream of <c>--shards</c> shards, enables every shard-level metric, writes a record to
/// each shard (so that each has series) and reads one GetRecords page of each, then scrapes <c>/metrics</c>
/// <c>--scrapes</c> times one after another and reports the median, the 95th percentile and the slowest, and the size
/// of the answer.
/// </summary>
public static class ScrapeScenario
{
    public sealed record Options(Uri Endpoint, string Label, int ServerPid, int Shards, int Scrapes, string? JsonPath)
    {
        public static Options Parse(CommandLine cl) => new(
            new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
            cl.String("label", "server"),
            cl.Int32("server-pid", 0, 0),
            cl.Int32("shards", 1000, 1),
            cl.Int32("scrapes", 50, 1),
            cl.String("json"));

        public const string Help = """
            runnel-bench scrape [options]: GET /metrics with every shard-level metric of a many-shard stream enabled.
              --endpoint URL          endpoint under test (default http://127.0.0.1:4567); the server needs --shard-limit >= --shards
              --label NAME            server name in reports (default server)
              --server-pid PID        server process (optional; for the report only)
              --shards N              shards of the stream (default 1000)
              --scrapes N             scrapes timed (default 50)
              --json FILE             also write the results as JSON
            """;
    }

    public static async Task<BenchReport> RunAsync(Options options, TextWriter log)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = options.Endpoint.ToString() };
        report.Settings["shards"] = options.Shards.ToString(CultureInfo.InvariantCulture);
        report.Settings["scrapes"] = options.Scrapes.ToString(CultureInfo.InvariantCulture);
        using var client = new KinesisHttpClient(options.Endpoint, 16, http2: false, TimeSpan.FromSeconds(120));
        var runOptions = RunOptions.ForSetUp(options.Endpoint, options.Label, options.ServerPid, 8, options.Shards, TimeSpan.FromMinutes(5));
        var ctx = new BenchContext(runOptions, client, log);
        await ctx.WaitUntilReadyAsync().ConfigureAwait(false);
        string stream = ctx.StreamName("scrape");
        // Not BenchContext.CreateStreamAsync: DescribeStream lists at most 100 shards. The shards of a new stream are
        // shardId-000000000000 on.
        await Send(client, "CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":{{options.Shards}}}""").ConfigureAwait(false);
        var shards = Enumerable.Range(0, options.Shards).Select(i => "shardId-" + i.ToString("D12", CultureInfo.InvariantCulture)).ToList();
        try
        {
            for (var waited = Stopwatch.StartNew(); ; await Task.Delay(20).ConfigureAwait(false))
            {
                using var summary = await client.SendAsync("DescribeStreamSummary", Body($$"""{"StreamName":"{{stream}}"}""")).ConfigureAwait(false);
                if (summary.IsSuccess && KinesisJson.ReadString(summary.Body, "StreamStatus") == "ACTIVE")
                    break;
                if (waited.Elapsed > TimeSpan.FromSeconds(60))
                    throw new BenchException($"stream {stream} did not become ACTIVE within 60 s");
            }
            await Send(client, "EnableEnhancedMonitoring", $$"""{"StreamName":"{{stream}}","ShardLevelMetrics":["ALL"]}""").ConfigureAwait(false);
            // A record into each shard: the hash key at the start of each of N equal ranges (CreateStream's split).
            var step = System.Numerics.BigInteger.Pow(2, 128) / options.Shards;
            for (int from = 0; from < options.Shards; from += 500)
            {
                var records = Enumerable.Range(from, Math.Min(500, options.Shards - from))
                    .Select(i => $$"""{"PartitionKey":"k{{i}}","ExplicitHashKey":"{{(step * i).ToString(CultureInfo.InvariantCulture)}}","Data":"eA=="}""");
                await Send(client, "PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", records)}}]}""").ConfigureAwait(false);
            }
            await Parallel.ForEachAsync(shards, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (shard, _) =>
            {
                using var iterator = await client.SendAsync("GetShardIterator", Body($$"""{"StreamName":"{{stream}}","ShardId":"{{shard}}","ShardIteratorType":"TRIM_HORIZON"}""")).ConfigureAwait(false);
                string? token = KinesisJson.ReadString(iterator.Body, "ShardIterator");
                if (token is not null)
                    using (await client.SendAsync("GetRecords", Body($$"""{"ShardIterator":"{{token}}"}""")).ConfigureAwait(false)) { }
            }).ConfigureAwait(false);

            using var http = new HttpClient { BaseAddress = options.Endpoint, Timeout = TimeSpan.FromSeconds(30) };
            string first = await http.GetStringAsync("/metrics").ConfigureAwait(false); // warm: the exporter's first collection
            int shardSeries = first.Split('\n').Count(l => l.StartsWith("kinesis_shard_incoming_records", StringComparison.Ordinal));
            if (shardSeries < options.Shards)
                throw new BenchException($"/metrics shows {shardSeries} shards' kinesis_shard_incoming_records, not {options.Shards}");
            var times = new List<double>();
            long bytes = 0;
            for (int i = 0; i < options.Scrapes; i++)
            {
                var clock = Stopwatch.StartNew();
                var body = await http.GetByteArrayAsync("/metrics").ConfigureAwait(false);
                times.Add(clock.Elapsed.TotalMilliseconds);
                bytes = body.Length;
            }
            times.Sort();
            double Percentile(double p) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(p * times.Count) - 1)];
            report.Add("scrape_ms_p50", "GET /metrics, median", Percentile(0.5), "ms");
            report.Add("scrape_ms_p95", "GET /metrics, 95th percentile", Percentile(0.95), "ms");
            report.Add("scrape_ms_max", "GET /metrics, slowest", times[^1], "ms");
            report.Add("scrape_kib", "GET /metrics, answer size", bytes / 1024.0, "KiB");
            log.WriteLine($"  /metrics with {options.Shards} shards monitored: median {Percentile(0.5):0.0} ms, p95 {Percentile(0.95):0.0} ms, max {times[^1]:0.0} ms, {bytes / 1024.0:0} KiB");
        }
        finally
        {
            using var deleted = await client.SendAsync("DeleteStream", Body($$"""{"StreamName":"{{stream}}"}""")).ConfigureAwait(false);
        }
        return report;
    }

    private static RequestBody Body(string json) => new(Encoding.UTF8.GetBytes(json));

    private static async Task Send(KinesisHttpClient client, string operation, string json)
    {
        using var response = await client.SendAsync(operation, Body(json)).ConfigureAwait(false);
        if (!response.IsSuccess)
            throw new BenchException($"{operation}: {response.Describe()}");
    }
}
