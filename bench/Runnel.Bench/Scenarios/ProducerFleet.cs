using System.Diagnostics;
using System.Globalization;
using Runnel.Bench.Reporting;
using Runnel.Client;
using Runnel.Client.Credentials;
using Runnel.Client.Leases;
using Runnel.Client.Models;
using Runnel.Client.Processing;
using Runnel.Client.Producer;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// The last leg of <c>runnel-bench producer</c> (issue 19: "a consumer fleet of 2 workers keeps up with it"): a fleet
/// of <c>--fleet</c> <see cref="KinesisWorker"/>s, each with clients of its own, shares a stream of <c>--shards</c>
/// shards from TRIM_HORIZON, its processors counting user records and checkpointing every batch, while
/// <see cref="KinesisProducer"/> writes into it as fast as it can. The fleet keeps up when it has processed the last
/// record within <see cref="KeepUpSlack"/> of the producer storing it: a fleet slower than the producer falls further
/// behind the longer the run, and the run is seconds long at a million records a second.
/// </summary>
public static class ProducerFleet
{
    /// <summary>How long after the producer's last record the fleet may finish and still count as keeping up.</summary>
    public static readonly TimeSpan KeepUpSlack = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(KinesisClient client, ProducerScenario.Options options, ReadOnlyMemory<byte> data, Func<int, string> key, BenchReport report, TextWriter log)
    {
        string stream = $"bench-fleet-{Guid.NewGuid():N}"[..32];
        string application = stream + "-app";
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = options.Shards }).ConfigureAwait(false);
        var counter = new Counter();
        var workers = new List<(KinesisWorker Worker, KinesisClient Kinesis, DynamoDbClient Dynamo, Task Run)>();
        using var stop = new CancellationTokenSource();
        try
        {
            await client.WaitForStreamActiveAsync(new DescribeStreamSummaryRequest { StreamName = stream }, TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
            for (int i = 0; i < options.FleetWorkers; i++)
            {
                var credentials = new StaticCredentialsProvider("AKIDEXAMPLE", "secret");
                var kinesis = new KinesisClient(new KinesisClientOptions { Endpoint = options.Endpoint, Region = "us-east-1", Credentials = credentials, UseHttp2 = options.Http2 });
                var dynamo = new DynamoDbClient(new DynamoDbClientOptions { Endpoint = options.Endpoint, Region = "us-east-1", Credentials = credentials });
                var worker = new KinesisWorker(kinesis, dynamo, counter, new WorkerOptions
                {
                    StreamName = stream,
                    ApplicationName = application,
                    WorkerId = $"worker-{i}",
                    InitialPosition = InitialPosition.TrimHorizon,
                    Retrieval = options.FleetRetrieval,
                    FailoverTime = TimeSpan.FromSeconds(3), // the leases settle within seconds
                    IdleTimeBetweenReads = TimeSpan.FromMilliseconds(200),
                });
                workers.Add((worker, kinesis, dynamo, Task.Run(() => worker.RunAsync(stop.Token))));
            }
            // The fleet divides the shards before the producer starts: what is measured is keeping up, not taking leases.
            var settle = Stopwatch.StartNew();
            // Balanced (no worker holds more than its share, rounded up), so that no lease is stolen in the run.
            int share = (options.Shards + options.FleetWorkers - 1) / options.FleetWorkers;
            while (workers.Any(w => w.Worker.HeldShards.Count > share) || workers.Sum(w => w.Worker.HeldShards.Count) < options.Shards)
            {
                if (settle.Elapsed > TimeSpan.FromSeconds(60))
                    throw new TimeoutException("The fleet did not divide the shards within 60 s.");
                await Task.Delay(100).ConfigureAwait(false);
            }
            log.WriteLine($"  fleet: {options.FleetWorkers} workers ({options.FleetRetrieval}) hold {string.Join(", ", workers.Select(w => w.Worker.HeldShards.Count))} shards after {settle.Elapsed.TotalSeconds:0.0} s");

            var clock = Stopwatch.StartNew();
            await using (var producer = new KinesisProducer(client, new ProducerOptions { StreamName = stream, RateLimitEnabled = false }))
            {
                for (int i = 0; i < options.Records; i++)
                    await producer.EnqueueAsync(key(i), data).ConfigureAwait(false);
                await producer.FlushAsync().ConfigureAwait(false);
                if (producer.FailedRecords > 0)
                    report.Note($"fleet: the producer failed {producer.FailedRecords} records");
            }
            var produced = clock.Elapsed;
            long behindAtEnd = options.Records - counter.Processed;
            var deadline = produced + TimeSpan.FromSeconds(120);
            while (counter.Processed < options.Records && clock.Elapsed < deadline)
                await Task.Delay(10).ConfigureAwait(false);
            var consumed = clock.Elapsed;
            if (counter.Processed < options.Records)
                report.Note($"fleet: {counter.Processed:N0} of {options.Records:N0} records processed 120 s after the producer finished");

            double producerRate = options.Records / produced.TotalSeconds;
            double fleetRate = counter.Processed / consumed.TotalSeconds;
            var lag = consumed - produced;
            log.WriteLine($"  fleet: producer {options.Records:N0} records in {produced.TotalSeconds:0.00} s ({producerRate:N0} records/s), {behindAtEnd:N0} not yet processed then; "
                + $"all processed after {consumed.TotalSeconds:0.00} s ({fleetRate:N0} records/s), {lag.TotalSeconds:0.00} s after the producer (keeps up: within {KeepUpSlack.TotalSeconds:0} s); {counter.Repeats:N0} given again");
            report.Add("fleet_producer_rps", "fleet leg: KinesisProducer, records/s", producerRate, "records/s");
            report.Add("fleet_consumed_rps", $"fleet leg: {options.FleetWorkers} KinesisWorkers ({options.FleetRetrieval}), records/s start to last processed", fleetRate, "records/s");
            report.Add("fleet_lag_s", $"fleet leg: last record processed after the producer's last (goal <= {KeepUpSlack.TotalSeconds:0} s)", lag.TotalSeconds, "s");
            report.Add("fleet_repeats", "fleet leg: user records given again (after a lease changed hands)", counter.Repeats, "records");
            if (lag > KeepUpSlack)
                report.Note($"fleet: the workers finished {lag.TotalSeconds:0.00} s after the producer (goal <= {KeepUpSlack.TotalSeconds:0} s)");
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var (_, kinesis, dynamo, run) in workers)
            {
                try
                {
                    await run.ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    log.WriteLine($"  fleet: a worker stopped with {e.GetType().Name}: {e.Message}");
                }
                kinesis.Dispose();
                dynamo.Dispose();
            }
            await client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream, EnforceConsumerDeletion = true }).ConfigureAwait(false);
            using var dynamoCleanup = new DynamoDbClient(new DynamoDbClientOptions { Endpoint = options.Endpoint, Region = "us-east-1", Credentials = new StaticCredentialsProvider("AKIDEXAMPLE", "secret") });
            await dynamoCleanup.SendAsync("DeleteTable", new System.Text.Json.Nodes.JsonObject { ["TableName"] = application }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Counts the user records the fleet's processors get, each once: a record at or before the furthest position given
    /// for its shard is a repeat (the next holder of a lease that changed hands gives again from its last checkpoint);
    /// checkpoints every batch.
    /// </summary>
    private sealed class Counter : IRecordProcessorFactory
    {
        private readonly Dictionary<string, ExtendedSequenceNumber> _furthest = new(StringComparer.Ordinal);
        private long _processed;
        private long _repeats;

        /// <summary>Distinct user records given to the processors.</summary>
        public long Processed => Interlocked.Read(ref _processed);

        /// <summary>User records given again.</summary>
        public long Repeats => Interlocked.Read(ref _repeats);

        public IRecordProcessor Create(string shardId) => new Processor(this, shardId);

        private void Count(string shardId, IReadOnlyList<ConsumerRecord> records)
        {
            lock (_furthest)
            {
                // Records come in order: those after the furthest position are new, from the end back.
                int fresh = 0;
                if (_furthest.TryGetValue(shardId, out var furthest))
                    while (fresh < records.Count && records[records.Count - 1 - fresh].Position > furthest)
                        fresh++;
                else
                    fresh = records.Count;
                if (fresh > 0)
                    _furthest[shardId] = records[^1].Position;
                Interlocked.Add(ref _processed, fresh);
                Interlocked.Add(ref _repeats, records.Count - fresh);
            }
        }

        private sealed class Processor(Counter counter, string shardId) : IRecordProcessor
        {
            public Task InitializeAsync(InitializationInput input, CancellationToken cancellationToken) => Task.CompletedTask;

            public async Task ProcessRecordsAsync(ProcessRecordsInput input, CancellationToken cancellationToken)
            {
                counter.Count(shardId, input.Records);
                if (input.Records.Count > 0)
                    await input.Checkpointer.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            }

            public async Task ShardEndedAsync(ShardEndedInput input, CancellationToken cancellationToken) =>
                await input.Checkpointer.CheckpointAsync(cancellationToken).ConfigureAwait(false);

            public Task LeaseLostAsync(LeaseLostInput input, CancellationToken cancellationToken) => Task.CompletedTask;
        }
    }
}
