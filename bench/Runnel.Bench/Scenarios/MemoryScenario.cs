using System.Diagnostics;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench memory</c>: whether a server's memory stays flat under a long write. It writes
/// <c>--rounds</c> rounds of <c>--round-bytes</c> into one stream with full PutRecords batches, reads the
/// server's RSS (split into anonymous and file-backed pages) after each round, deletes the stream, reads it
/// again, then waits <c>--idle</c> seconds and reads it a last time. A server that holds on to what a
/// write needed shows RSS growing round over round, and not coming back after the delete or when idle.
/// </summary>
public static class MemoryScenario
{
    private const int DistinctBodies = 8;

    public sealed record Options(Uri Endpoint, string Label, int ServerPid, int Rounds, long RoundBytes, int RecordBytes,
        int BatchSize, int Concurrency, int Shards, TimeSpan Idle, TimeSpan RoundCap, string? JsonPath)
    {
        public static Options Parse(CommandLine cl)
        {
            var options = new Options(
                new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
                cl.String("label", "server"),
                cl.Int32("server-pid", 0, 1) is > 0 and var pid ? pid : throw new ArgumentException("--server-pid is required"),
                cl.Int32("rounds", 4, 1),
                cl.Int64("round-mib", 2048, 1) * 1024 * 1024,
                cl.Int32("record-bytes", 4096, 1),
                cl.Int32("batch", 500, 1),
                cl.Int32("concurrency", 16, 1),
                cl.Int32("shards", 1, 1),
                TimeSpan.FromSeconds(cl.Double("idle", 30, 0)),
                TimeSpan.FromSeconds(cl.Double("round-cap", 300, 1)),
                cl.String("json"));
            if (options.BatchSize > 500)
                throw new ArgumentException("--batch is at most 500, Kinesis's PutRecords limit");
            return options;
        }

        public const string Help = """
            runnel-bench memory [options]: server RSS over a long write into one stream, after deleting it, and idle.
              --endpoint URL          endpoint under test (default http://127.0.0.1:4567)
              --label NAME            server name in reports (default server)
              --server-pid PID        server process whose memory is read from /proc (required)
              --rounds N              rounds written (default 4)
              --round-mib MIB         payload bytes per round, in MiB (default 2048)
              --record-bytes N        bytes per record (default 4096)
              --batch N               records per PutRecords request (default 500)
              --concurrency N         requests in flight (default 16)
              --shards N              shards of the stream (default 1)
              --idle SECONDS          wait after the delete before the last reading (default 30)
              --round-cap SECONDS     time cap of one round (default 300)
              --json FILE             also write the results as JSON
            """;
    }

    public static async Task<BenchReport> RunAsync(Options options, TextWriter log)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = options.Endpoint.ToString() };
        report.Settings["rounds"] = options.Rounds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        report.Settings["round_mib"] = (options.RoundBytes / (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        report.Settings["record_bytes"] = options.RecordBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        report.Settings["batch"] = options.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        report.Settings["concurrency"] = options.Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);

        using var client = new KinesisHttpClient(options.Endpoint, options.Concurrency + 4, http2: false, TimeSpan.FromSeconds(60));
        var runOptions = RunOptions.ForSetUp(options.Endpoint, options.Label, options.ServerPid, options.Concurrency, options.Shards, options.RoundCap) with { BatchSize = options.BatchSize };
        var ctx = new BenchContext(runOptions, client, log);
        await ctx.WaitUntilReadyAsync().ConfigureAwait(false);

        void Measure(string id, string when)
        {
            var m = MemorySnapshot.Read(options.ServerPid);
            report.Add($"{id}_mib", $"RSS {when}", MemorySnapshot.Mib(m.RssKiB), "MiB");
            report.Add($"{id}_anon_mib", $"RSS {when}: anonymous", MemorySnapshot.Mib(m.AnonKiB), "MiB");
            report.Add($"{id}_file_mib", $"RSS {when}: file-backed", MemorySnapshot.Mib(m.FileKiB), "MiB");
            log.WriteLine($"  {when,-22} RSS {MemorySnapshot.Mib(m.RssKiB),7:0.0} MiB (anon {MemorySnapshot.Mib(m.AnonKiB):0.0}, file {MemorySnapshot.Mib(m.FileKiB):0.0}, peak {MemorySnapshot.Mib(m.PeakKiB):0.0})");
        }

        Measure("rss.start", "at the start");
        string stream = ctx.StreamName("memory");
        await ctx.CreateStreamAsync(stream, options.Shards).ConfigureAwait(false);
        var bodies = PutScenarios.BatchBodies(KinesisCodec.Json, stream, DistinctBodies, options.BatchSize, options.RecordBytes);
        long batchBytes = (long)options.BatchSize * options.RecordBytes;
        long batchesPerRound = (options.RoundBytes + batchBytes - 1) / batchBytes;
        try
        {
            for (int round = 1; round <= options.Rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                var result = await LoadLoop.RunAsync(options.Concurrency, batchesPerRound, options.RoundCap, async (index, cancellation) =>
                {
                    using var response = await client.SendAsync("PutRecords", bodies[index % bodies.Length], cancellation).ConfigureAwait(false);
                    if (!response.IsSuccess)
                        return Outcome.Failed(response.Describe());
                    long failed = KinesisJson.ReadInt64(response.Body, "FailedRecordCount") ?? 0;
                    return new Outcome(options.BatchSize - failed, failed, failed > 0 ? $"{failed} records failed" : null);
                }).ConfigureAwait(false);
                double mib = result.RecordsOk * (double)options.RecordBytes / (1024 * 1024);
                log.WriteLine($"  round {round}: {result.RecordsOk:N0} records ({mib:N0} MiB) in {clock.Elapsed.TotalSeconds:0.0} s = {mib / clock.Elapsed.TotalSeconds:0.0} MiB/s");
                report.Add($"round{round}.mib_per_s", $"round {round}: payload MiB/s", mib / clock.Elapsed.TotalSeconds, "MiB/s");
                if (result.FailedRequests > 0 || result.RecordsFailed > 0 || result.HitTimeCap || result.GaveUp)
                {
                    report.Failed = true;
                    report.Note($"round {round}: {result.FailedRequests} failed requests, {result.RecordsFailed} failed records{(result.HitTimeCap ? ", hit the time cap" : "")}; first: {result.FirstError}");
                }
                await Task.Delay(1000).ConfigureAwait(false); // a periodic flush, a collection the last requests set off
                Measure($"rss.round{round}", $"after round {round}");
            }
        }
        finally
        {
            await ctx.DeleteStreamsAsync().ConfigureAwait(false);
        }
        await Task.Delay(1000).ConfigureAwait(false);
        Measure("rss.after_delete", "after DeleteStream");
        await Task.Delay(options.Idle).ConfigureAwait(false);
        Measure("rss.idle", $"after {options.Idle.TotalSeconds:0} s idle");
        return report;
    }
}
