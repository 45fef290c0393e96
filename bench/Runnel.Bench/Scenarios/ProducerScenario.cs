using System.Diagnostics;
using System.Globalization;
using Runnel.Bench.Reporting;
using Runnel.Client;
using Runnel.Client.Credentials;
using Runnel.Client.Models;
using Runnel.Client.Processing;
using Runnel.Client.Producer;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench producer</c>: what Runnel.Client's <see cref="KinesisProducer"/> gains (issue 19: with aggregation,
/// at least 10x the 100-byte records per second of one PutRecord call per record, and at least 2x those of
/// unaggregated PutRecords batches). Writes records of <c>--record-bytes</c> under 1,000 partition keys three ways,
/// each into a stream of its own of <c>--shards</c> shards, all through the same <see cref="KinesisClient"/>: one
/// PutRecord per record (<c>--concurrency</c> calls in flight), PutRecords batches of 500 unaggregated records
/// (<c>--concurrency</c> in flight), and the producer with aggregation (its own per-shard rate limiter off, to measure
/// the endpoint rather than AWS's limits; run the server with <c>--limits off</c>). Reports the records/s of each and
/// the ratios.
/// </summary>
public static class ProducerScenario
{
    private const int Keys = 1000;
    private const int BatchSize = 500;

    public sealed record Options(Uri Endpoint, string Label, int Records, int SingleRecords, int RecordBytes, int Shards, int Concurrency, bool Http2, bool ProducerOnly, bool FleetOnly, int FleetWorkers, RetrievalMode FleetRetrieval, string? JsonPath)
    {
        public static Options Parse(CommandLine cl)
        {
            int records = cl.Int32("records", 3_000_000, 1);
            return new(
                new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
                cl.String("label", "server"),
                records,
                cl.Int32("single-records", 20_000, 1),
                cl.Int32("record-bytes", 100, 1),
                cl.Int32("shards", 4, 1),
                cl.Int32("concurrency", 16, 1),
                cl.Flag("http2"),
                cl.Flag("producer-only"),
                cl.Flag("fleet-only"),
                cl.Int32("fleet", 2, 0),
                cl.String("fleet-retrieval", "fanout") switch
                {
                    "fanout" => RetrievalMode.FanOut,
                    "polling" => RetrievalMode.Polling,
                    var other => throw new ArgumentException($"--fleet-retrieval is fanout or polling, not '{other}'"),
                },
                cl.String("json"));
        }

        public const string Help = """
            runnel-bench producer [options]: records/s of PutRecord per record, of PutRecords batches and of KinesisProducer.
              --endpoint URL          endpoint under test (default http://127.0.0.1:4567); run the server with --limits off
              --label NAME            server name in reports (default server)
              --records N             records written by the batches and by the producer (default 3000000: shorter runs
                                      measure the JIT's tiering more than the code)
              --single-records N      records written one PutRecord each (default 20000: the rate is what counts)
              --record-bytes N        bytes of each record's data (default 100)
              --shards N              shards of each stream (default 4)
              --concurrency N         calls in flight for PutRecord and PutRecords (default 16)
              --http2                 speak h2c (default HTTP/1.1, a connection per call in flight, as the KPL's pool)
              --producer-only         run the producer alone, no ratios and no fleet (for profiling it)
              --fleet N               then a fleet of N KinesisWorkers consumes a stream while the producer writes
                                      --records into it, to see that they keep up (default 2; 0 for none)
              --fleet-only            the fleet leg alone (for profiling it)
              --fleet-retrieval MODE  fanout (the default, as the KCL's) or polling
              --json FILE             also write the results as JSON
            """;
    }

    public static async Task<BenchReport> RunAsync(Options options, TextWriter log)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = options.Endpoint.ToString() };
        report.Settings["records"] = options.Records.ToString(CultureInfo.InvariantCulture);
        report.Settings["single_records"] = options.SingleRecords.ToString(CultureInfo.InvariantCulture);
        report.Settings["record_bytes"] = options.RecordBytes.ToString(CultureInfo.InvariantCulture);
        report.Settings["shards"] = options.Shards.ToString(CultureInfo.InvariantCulture);
        report.Settings["concurrency"] = options.Concurrency.ToString(CultureInfo.InvariantCulture);
        report.Settings["http"] = options.Http2 ? "h2c" : "HTTP/1.1";
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Endpoint = options.Endpoint,
            Region = "us-east-1",
            Credentials = new StaticCredentialsProvider("AKIDEXAMPLE", "secret"),
            RequestTimeout = TimeSpan.FromSeconds(120),
            UseHttp2 = options.Http2,
        });
        var data = new byte[options.RecordBytes];
        Random.Shared.NextBytes(data);
        string Key(int i) => "key-" + (i % Keys).ToString(CultureInfo.InvariantCulture);

        if (options.FleetOnly)
        {
            await ProducerFleet.RunAsync(client, options, data, Key, report, log).ConfigureAwait(false);
            report.Failed = report.Notes.Count > 0;
            return report;
        }

        // A first round of a tenth of the records, not reported, so that the JIT has compiled each way's code.
        await Round(Math.Max(1, options.SingleRecords / 10), Math.Max(1, options.Records / 10), TextWriter.Null).ConfigureAwait(false);
        var (single, batches, producer) = await Round(options.SingleRecords, options.Records, log).ConfigureAwait(false);
        if (options.ProducerOnly)
        {
            report.Add("producer_kpl_rps", "KinesisProducer with aggregation, records/s", producer, "records/s");
            return report;
        }

        report.Add("producer_single_rps", "PutRecord per record, records/s", single, "records/s");
        report.Add("producer_batches_rps", $"PutRecords batches of {BatchSize}, records/s", batches, "records/s");
        report.Add("producer_kpl_rps", "KinesisProducer with aggregation, records/s", producer, "records/s");
        report.Add("producer_vs_single", "producer / PutRecord per record (goal >= 10)", producer / single, "x");
        report.Add("producer_vs_batches", "producer / PutRecords batches (goal >= 2)", producer / batches, "x");
        log.WriteLine($"  producer / PutRecord: {producer / single:0.0}x (goal >= 10); producer / PutRecords batches: {producer / batches:0.0}x (goal >= 2)");
        if (producer / single < 10)
            report.Note($"the producer moved {producer / single:0.0}x the records of PutRecord per record (goal >= 10)");
        if (producer / batches < 2)
            report.Note($"the producer moved {producer / batches:0.0}x the records of PutRecords batches (goal >= 2)");
        if (options.FleetWorkers > 0)
            await ProducerFleet.RunAsync(client, options, data, Key, report, log).ConfigureAwait(false);
        report.Failed = report.Notes.Count > 0;
        return report;

        async Task<(double Single, double Batches, double Producer)> Round(int singleCount, int count, TextWriter w)
        {
            if (options.ProducerOnly)
                return (0, 0, await Producer(count, w).ConfigureAwait(false));
            double single = await Measure(client, options, "single", w, singleCount, async stream =>
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, singleCount), new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency }, async (i, ct) =>
                    await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, PartitionKey = Key(i), Data = data }, ct).ConfigureAwait(false)).ConfigureAwait(false);
                return 0;
            }).ConfigureAwait(false);

            double batches = await Measure(client, options, "batches", w, count, async stream =>
            {
                long failed = 0;
                var calls = Enumerable.Range(0, count).Chunk(BatchSize);
                await Parallel.ForEachAsync(calls, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency }, async (chunk, ct) =>
                {
                    var entries = chunk.Select(i => new PutRecordsRequestEntry { PartitionKey = Key(i), Data = data }).ToList();
                    var answer = await client.PutRecordsAsync(new PutRecordsRequest { StreamName = stream, Records = entries }, ct).ConfigureAwait(false);
                    Interlocked.Add(ref failed, answer.FailedRecordCount);
                }).ConfigureAwait(false);
                return failed;
            }).ConfigureAwait(false);

            return (single, batches, await Producer(count, w).ConfigureAwait(false));
        }

        Task<double> Producer(int count, TextWriter w) =>
            Measure(client, options, "producer", w, count, async stream =>
            {
                await using var kpl = new KinesisProducer(client, new ProducerOptions { StreamName = stream, RateLimitEnabled = false });
                var enqueued = Stopwatch.StartNew();
                for (int i = 0; i < count; i++)
                    await kpl.EnqueueAsync(Key(i), data).ConfigureAwait(false);
                var enqueueTime = enqueued.Elapsed;
                await kpl.FlushAsync().ConfigureAwait(false);
                w.WriteLine($"  producer: all enqueued after {enqueueTime.TotalSeconds:0.00} s, all durable after {enqueued.Elapsed.TotalSeconds:0.00} s; the bench process so far: collections {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} (gen 0/1/2), paused {GC.GetTotalPauseDuration().TotalSeconds:0.00} s, allocated {GC.GetTotalAllocatedBytes() / 1e6:0} MB");
                return kpl.FailedRecords;
            });

        async Task<double> Measure(KinesisClient kinesis, Options o, string name, TextWriter w, int count, Func<string, Task<long>> write)
        {
            string stream = $"bench-producer-{name}-{Guid.NewGuid():N}"[..40];
            await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = o.Shards }).ConfigureAwait(false);
            try
            {
                await kinesis.WaitForStreamActiveAsync(new DescribeStreamSummaryRequest { StreamName = stream }, TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
                var clock = Stopwatch.StartNew();
                long failed = await write(stream).ConfigureAwait(false);
                double rate = count / clock.Elapsed.TotalSeconds;
                w.WriteLine($"  {name,-9} {count,9:N0} records in {clock.Elapsed.TotalSeconds,7:0.00} s: {rate,10:N0} records/s");
                if (failed > 0)
                    report.Note($"{name}: {failed} records failed");
                return rate;
            }
            finally
            {
                await kinesis.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream }).ConfigureAwait(false);
            }
        }
    }
}
