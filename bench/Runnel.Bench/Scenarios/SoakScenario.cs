using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench soak</c>: what a long-lived server sees, all at once and for a bounded time. A stream with
/// <c>--consumers</c> enhanced fan-out consumers subscribed to every shard for the whole run (subscribed again
/// each time the server ends a subscription, every 5 minutes on AWS) and <c>--readers</c> GetRecords pollers;
/// producers on <c>--connections</c> connections of their own putting <c>--rate</c> records/s in PutRecords
/// batches; and <c>--slow-connections</c> connections that do nothing useful (<see cref="SlowConnections"/>).
/// Every <c>--interval</c> it reads the server's RSS and descriptors, and notes the window's put latency, records
/// acknowledged and read, errors by kind, and how long a fresh client on a new connection waited for an answer.
/// At the end it checks that every acknowledged record reached every reader (<see cref="DeliveryLedger"/>), that
/// memory and put latency did not drift (the last quarter of the windows against the second; the first is
/// warm-up), that the fresh requests were answered promptly, that the rate was sustained, and that no request
/// failed. The report fails when a check does.
/// </summary>
public static partial class SoakScenario
{
    private const int DistinctBodies = 16;
    private const int GetRecordsLimit = 10_000;

    /// <summary>Share of the target rate the producers must have had acknowledged over the run to call it sustained.</summary>
    private const double SustainedShare = 0.95;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FreshTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(500);

    /// <summary>The settings of one soak. Immutable once parsed.</summary>
    public sealed record Options
    {
        public required Uri Endpoint { get; init; }
        public required string Label { get; init; }

        /// <summary>The server process, whose memory and descriptors are read from /proc.</summary>
        public required int ServerPid { get; init; }

        public required TimeSpan Duration { get; init; }
        public required TimeSpan Interval { get; init; }

        /// <summary>Records per second the producers put, all together.</summary>
        public required double Rate { get; init; }

        public required int BatchSize { get; init; }
        public required int RecordBytes { get; init; }

        /// <summary>Producers, each on a connection of its own.</summary>
        public required int Connections { get; init; }

        public required int Shards { get; init; }
        public required int Consumers { get; init; }
        public required int Readers { get; init; }

        /// <summary>A poller's pause after a GetRecords that returned nothing.</summary>
        public required TimeSpan PollPause { get; init; }

        public required int SlowConnections { get; init; }
        public required TimeSpan SlowByteInterval { get; init; }

        /// <summary>How long the readers may take, after the producers stop, to receive every acknowledged record.</summary>
        public required TimeSpan DrainTimeout { get; init; }

        /// <summary>Memory drift fails when the last quarter's RSS exceeds the second's by more than both bounds.</summary>
        public required double MaxRssGrowthPercent { get; init; }
        public required double MaxRssGrowthMib { get; init; }

        /// <summary>Latency drift fails when the last quarter's put p99 exceeds the second's by both the ratio and the slack.</summary>
        public required double MaxP99Ratio { get; init; }
        public required double P99SlackMs { get; init; }

        /// <summary>The slowest a fresh client's request may be answered, with the slow connections held.</summary>
        public required double FreshMaxMs { get; init; }

        /// <summary>Failed requests (of any kind) the run may have and still pass.</summary>
        public required long MaxErrors { get; init; }

        public required bool DriftCheck { get; init; }
        public required bool KeepStream { get; init; }
        public required string? JsonPath { get; init; }

        public static Options Parse(CommandLine cl)
        {
            var options = new Options
            {
                Endpoint = new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
                Label = cl.String("label", "server"),
                ServerPid = cl.Int32("server-pid", 0, 1) is > 0 and var pid ? pid : throw new ArgumentException("--server-pid is required"),
                Duration = cl.Duration("duration", TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(1)),
                Interval = cl.Duration("interval", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100)),
                Rate = cl.Double("rate", 2000, 1),
                BatchSize = cl.Int32("batch", 50, 1),
                RecordBytes = cl.Int32("record-bytes", 100, 1),
                Connections = cl.Int32("connections", 64, 1),
                Shards = cl.Int32("shards", 4, 1),
                Consumers = cl.Int32("consumers", 2, 0),
                Readers = cl.Int32("readers", 2, 0),
                PollPause = cl.Duration("poll-pause", TimeSpan.FromMilliseconds(200), TimeSpan.Zero),
                SlowConnections = cl.Int32("slow-connections", 500, 0),
                SlowByteInterval = cl.Duration("slow-byte-interval", TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(10)),
                DrainTimeout = cl.Duration("drain-timeout", TimeSpan.FromSeconds(60), TimeSpan.Zero),
                MaxRssGrowthPercent = cl.Double("max-rss-growth", 20, 0),
                MaxRssGrowthMib = cl.Double("max-rss-growth-mib", 64, 0),
                MaxP99Ratio = cl.Double("max-p99-ratio", 2, 1),
                P99SlackMs = cl.Double("p99-slack-ms", 5, 0),
                FreshMaxMs = cl.Double("fresh-max-ms", 1000, 1),
                MaxErrors = cl.Int64("max-errors", 0, 0),
                DriftCheck = !cl.Flag("no-drift-check"),
                KeepStream = cl.Flag("keep-stream"),
                JsonPath = cl.String("json"),
            };
            if (options.BatchSize > 500)
                throw new ArgumentException("--batch is at most 500, Kinesis's PutRecords limit");
            if (options.Interval > options.Duration)
                throw new ArgumentException("--interval must not be longer than --duration");
            return options;
        }

        public const string Help = """
            runnel-bench soak [options]: a bounded run at a sustained rate, with fan-out, pollers and slow connections;
            checks that nothing acknowledged is lost, that memory and latency stay flat, and that slow connections
            cannot lock a fresh client out. Exit code 1 when a check fails.
              --endpoint URL            endpoint under test (default http://127.0.0.1:4567)
              --label NAME              server name in reports (default server)
              --server-pid PID          server process whose RSS and descriptors are read from /proc (required)
              --duration TIME           how long the producers run: 30s, 10m, 1h or seconds (default 10m)
              --interval TIME           sampling window (default 10s)
              --rate N                  records/s put by all producers together (default 2000)
              --batch N                 records per PutRecords request (default 50)
              --record-bytes N          bytes per record (default 100)
              --connections N           producers, each on an HTTP/1.1 connection of its own (default 64)
              --shards N                shards of the stream (default 4)
              --consumers N             enhanced fan-out consumers, each subscribed to every shard over h2c (default 2)
              --readers N               GetRecords pollers, each reading every shard (default 2)
              --poll-pause TIME         a poller's pause after an empty GetRecords (default 200ms)
              --slow-connections N      connections held open doing nothing useful: half silent, half sending a
                                        request head a byte at a time (slowloris); reopened when closed (default 500)
              --slow-byte-interval TIME the slowloris connections' pause between bytes (default 2s)
              --drain-timeout TIME      how long the readers may take to catch up once the producers stop (default 60s)
              --max-rss-growth PERCENT  memory drift bound: RSS of the last quarter against the second (default 20)
              --max-rss-growth-mib MIB  ... fails only when over both (default 64)
              --max-p99-ratio X         latency drift bound: put p99 of the last quarter against the second (default 2)
              --p99-slack-ms MS         ... fails only when also more than this many ms higher (default 5)
              --fresh-max-ms MS         slowest answer allowed to a fresh client on a new connection (default 1000)
              --max-errors N            failed requests allowed, of any kind (default 0)
              --no-drift-check          report the memory and latency drift without judging it (short runs)
              --keep-stream             do not delete the stream at the end
              --json FILE               also write the results as JSON
            """;
    }

    /// <summary>What one sampling window saw. Put latencies are kept whole, to pool them by quarter.</summary>
    private sealed record Window(int Number, double EndSeconds, double Seconds, long Acked, LatencySamples Put, long FanOut, long Polled,
        MemorySnapshot Memory, int ServerFds, int SlowHeld, long SlowClosed, FreshAnswer Fresh, long Errors, CpuUse Cpu);

    /// <summary>A fresh client's ListStreams on a new connection: whether it got a 200, and how long it took, connecting included.</summary>
    private readonly record struct FreshAnswer(bool Ok, double Millis, string? Error);

    /// <summary>The readers by name, for the ledger and the report.</summary>
    private sealed record Readers(List<string> FanOut, List<string> Pollers)
    {
        public IEnumerable<string> All => FanOut.Concat(Pollers);
    }

    public static async Task<BenchReport> RunAsync(Options options, TextWriter log)
    {
        var report = NewReport(options);
        using var control = new KinesisHttpClient(options.Endpoint, 4, http2: false, RequestTimeout);
        var ctx = new BenchContext(RunOptions.ForSetUp(options.Endpoint, options.Label, options.ServerPid, options.Connections, options.Shards, options.Duration), control, log);
        await ctx.WaitUntilReadyAsync().ConfigureAwait(false);
        var before = MemorySnapshot.Read(options.ServerPid);
        string stream = ctx.StreamName("soak");
        var shards = await ctx.CreateStreamAsync(stream, options.Shards).ConfigureAwait(false);
        try
        {
            var consumers = await ctx.RegisterConsumersAsync(stream, options.Consumers, "soak").ConfigureAwait(false);
            log.WriteLine($"  stream {stream}: {shards.Count} shards, {consumers.Count} fan-out consumers, {options.Readers} pollers; " +
                $"{options.Rate:N0} records/s in batches of {options.BatchSize} over {options.Connections} connections; " +
                $"{options.SlowConnections} slow connections; {options.Duration.TotalSeconds:N0} s in windows of {options.Interval.TotalSeconds:0.#} s");
            await LoadAsync(options, stream, shards, consumers, before, report, log).ConfigureAwait(false);
        }
        finally
        {
            if (!options.KeepStream)
            {
                using var deleted = await control.SendAsync("DeleteStream", KinesisJson.DeleteStream(stream, enforceConsumerDeletion: true)).ConfigureAwait(false);
                if (!deleted.IsSuccess)
                    log.WriteLine($"  DeleteStream {stream}: {deleted.Describe()}");
            }
        }
        return report;
    }

    private static async Task LoadAsync(Options options, string stream, IReadOnlyList<string> shards, List<string> consumers,
        MemorySnapshot before, BenchReport report, TextWriter log)
    {
        var ledger = new DeliveryLedger();
        var errors = new ErrorCounts();
        using var stopReaders = new CancellationTokenSource();
        using var stopSlow = new CancellationTokenSource();

        // Readers first, from TRIM_HORIZON: they miss nothing however long their subscriptions take to open.
        using var fanOutClient = new KinesisHttpClient(options.Endpoint, Math.Max(1, options.Consumers), http2: true, RequestTimeout);
        using var pollClient = new KinesisHttpClient(options.Endpoint, options.Readers * shards.Count + 1, http2: false, RequestTimeout);
        var readers = new Readers([.. consumers.Select((_, i) => $"fan-out soak-{i}")], [.. Enumerable.Range(0, options.Readers).Select(r => $"poller {r}")]);
        var subscribers = consumers.Select((arn, i) => new ShardSubscriber(fanOutClient, arn, shards, "TRIM_HORIZON")
        {
            OnRecord = (shard, sequenceNumber) => ledger.Received(readers.FanOut[i], shard, sequenceNumber),
            OnFailure = kind => errors.Add("SubscribeToShard " + kind),
        }).ToList();
        var reading = subscribers.Select(s => s.RunAsync(stopReaders.Token)).ToList();
        foreach (string poller in readers.Pollers)
            foreach (string shard in shards)
                reading.Add(Task.Run(() => PollShardAsync(pollClient, poller, stream, shard, ledger, errors, options.PollPause, stopReaders.Token)));
        var slow = new SlowConnections(options.Endpoint, options.SlowConnections, options.SlowByteInterval);
        var holding = slow.RunAsync(stopSlow.Token);

        var bodies = PutScenarios.BatchBodies(KinesisCodec.Json, stream, DistinctBodies, options.BatchSize, options.RecordBytes);
        var producerClients = Enumerable.Range(0, options.Connections).Select(_ => new KinesisHttpClient(options.Endpoint, 1, http2: false, RequestTimeout)).ToList();
        var schedule = new BatchSchedule(options.Rate, options.BatchSize, options.Duration);
        var putLatency = new WindowedLatency();
        // The producers stop by themselves at the duration; the cap ends one stuck on a request, or all of them when sampling failed.
        using var producersCap = new CancellationTokenSource(options.Duration + RequestTimeout);
        var producing = producerClients.Select(client => Task.Run(() => ProduceAsync(client, bodies, schedule, ledger, errors, putLatency, producersCap.Token))).ToList();
        List<Window> windows;
        Readings end;
        try
        {
            windows = await SampleAsync(options, schedule, readers, ledger, errors, putLatency, slow, log).ConfigureAwait(false);
            await Task.WhenAll(producing).ConfigureAwait(false);
            end = await DrainAsync(options, readers, ledger, slow).ConfigureAwait(false);
        }
        finally
        {
            await producersCap.CancelAsync().ConfigureAwait(false);
            await stopReaders.CancelAsync().ConfigureAwait(false);
            await stopSlow.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(producing.Concat(reading).Append(holding).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            foreach (var client in producerClients)
                client.Dispose();
        }
        var after = MemorySnapshot.Read(options.ServerPid);
        var deliveries = readers.All.Select(ledger.Verify).ToList();
        long subscriptions = subscribers.Sum(s => s.Opened);
        Summarize(options, report, log, new SoakResult(windows, deliveries, errors, slow, end, before, after, schedule.Elapsed, subscriptions));
    }

    /// <summary>What the end of the run found: when the readers caught up, and a fresh request with the slow connections still held.</summary>
    private readonly record struct Readings(TimeSpan CatchUp, bool CaughtUp, FreshAnswer Fresh, int SlowHeld);

    /// <summary>Waits (at most <c>--drain-timeout</c>) for every reader to have received as many records as were acknowledged, then asks a fresh client.</summary>
    private static async Task<Readings> DrainAsync(Options options, Readers readers, DeliveryLedger ledger, SlowConnections slow)
    {
        var clock = Stopwatch.StartNew();
        bool caughtUp;
        while (!(caughtUp = readers.All.All(ledger.HasCaughtUp)) && clock.Elapsed < options.DrainTimeout)
            await Task.Delay(50).ConfigureAwait(false);
        var catchUp = clock.Elapsed;
        int held = slow.Held;
        var fresh = await FreshRequestAsync(options.Endpoint).ConfigureAwait(false);
        return new Readings(catchUp, caughtUp, fresh, Math.Min(held, slow.Held));
    }

    /// <summary>Every <c>--interval</c> until <c>--duration</c>: one window's figures, printed as a row as it ends.</summary>
    private static async Task<List<Window>> SampleAsync(Options options, BatchSchedule schedule, Readers readers, DeliveryLedger ledger,
        ErrorCounts errors, WindowedLatency putLatency, SlowConnections slow, TextWriter log)
    {
        var windows = new List<Window>();
        var table = WindowTable();
        log.WriteLine();
        log.WriteLine(table.Header());
        var cpu = CpuMeter.Start(options.ServerPid);
        long acked = 0, fanOut = 0, polled = 0, closed = 0, failed = 0;
        double lastEnd = 0;
        for (int n = 1; ; n++)
        {
            var due = TimeSpan.FromTicks(Math.Min(options.Interval.Ticks * n, options.Duration.Ticks));
            if (due > schedule.Elapsed)
                await Task.Delay(due - schedule.Elapsed).ConfigureAwait(false);
            var use = cpu.Stop();
            cpu = CpuMeter.Start(options.ServerPid);
            double now = schedule.Elapsed.TotalSeconds;
            long ackedNow = ledger.AcknowledgedCount, closedNow = slow.ClosedByServer, failedNow = errors.Total;
            long fanOutNow = readers.FanOut.Sum(ledger.ReceivedCount), polledNow = readers.Pollers.Sum(ledger.ReceivedCount);
            var memory = MemorySnapshot.Read(options.ServerPid);
            int held = slow.Held;
            var fresh = await FreshRequestAsync(options.Endpoint).ConfigureAwait(false);
            var window = new Window(n, now, now - lastEnd, ackedNow - acked, putLatency.Take(), fanOutNow - fanOut, polledNow - polled,
                memory, OpenDescriptors(options.ServerPid), held, closedNow - closed, fresh, failedNow - failed, use);
            windows.Add(window);
            log.WriteLine(table.Format(WindowCells(window)));
            (acked, fanOut, polled, closed, failed, lastEnd) = (ackedNow, fanOutNow, polledNow, closedNow, failedNow, now);
            if (due >= options.Duration)
                return windows;
        }
    }

    /// <summary>One producer: takes the next batch of the schedule, waits until it is due, sends it, notes what was acknowledged.</summary>
    private static async Task ProduceAsync(KinesisHttpClient client, RequestBody[] bodies, BatchSchedule schedule, DeliveryLedger ledger,
        ErrorCounts errors, WindowedLatency latency, CancellationToken cap)
    {
        Action<string, string> acknowledged = ledger.Acknowledged;
        Action<string> refused = code => errors.Add("PutRecords record " + code);
        try
        {
            while (schedule.Next() is { } batch)
            {
                var wait = batch.Due - schedule.Elapsed;
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, cap).ConfigureAwait(false);
                long start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync("PutRecords", bodies[batch.Index % bodies.Length], cap).ConfigureAwait(false);
                    if (!response.IsSuccess)
                    {
                        errors.Add("PutRecords " + response.ErrorKind());
                        continue;
                    }
                    latency.Add(start, Stopwatch.GetTimestamp());
                    KinesisJson.ReadPutRecordsResults(response.Body, acknowledged, refused);
                }
                catch (Exception e) when (!cap.IsCancellationRequested && e is HttpRequestException or IOException or JsonException or OperationCanceledException)
                {
                    errors.Add("PutRecords " + e.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (cap.IsCancellationRequested)
        {
            errors.Add("PutRecords still unanswered at the end");
        }
    }

    /// <summary>One poller's loop over one shard: GetRecords from TRIM_HORIZON for the whole run, pausing after an
    /// empty answer; after an error, a new iterator after the last record received, so nothing is read twice.</summary>
    private static async Task PollShardAsync(KinesisHttpClient client, string reader, string stream, string shardId, DeliveryLedger ledger,
        ErrorCounts errors, TimeSpan pause, CancellationToken stop)
    {
        string? iterator = null, last = null;
        Action<string> received = sequenceNumber =>
        {
            ledger.Received(reader, shardId, sequenceNumber);
            last = sequenceNumber;
        };
        try
        {
            while (!stop.IsCancellationRequested)
            {
                string operation = iterator is null ? "GetShardIterator" : "GetRecords";
                try
                {
                    var body = iterator is not null ? KinesisJson.GetRecords(iterator, GetRecordsLimit)
                        : last is null ? KinesisJson.GetShardIterator(stream, shardId, "TRIM_HORIZON")
                        : KinesisJson.GetShardIterator(stream, shardId, "AFTER_SEQUENCE_NUMBER", last);
                    using var response = await client.SendAsync(operation, body, stop).ConfigureAwait(false);
                    if (!response.IsSuccess)
                    {
                        errors.Add($"{operation} {response.ErrorKind()}");
                        iterator = null;
                        await Task.Delay(RetryPause, stop).ConfigureAwait(false);
                    }
                    else if (iterator is null)
                    {
                        iterator = KinesisJson.ReadString(response.Body, "ShardIterator");
                    }
                    else
                    {
                        var page = KinesisJson.ReadRecordsPage(response.Body, onSequenceNumber: received);
                        iterator = page.NextShardIterator;
                        if (iterator is null)
                            return; // the shard was closed (the soak never reshards)
                        if (page.Count == 0)
                            await Task.Delay(pause, stop).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (!stop.IsCancellationRequested && e is HttpRequestException or IOException or JsonException or OperationCanceledException)
                {
                    errors.Add($"{operation} {e.GetType().Name}");
                    iterator = null;
                    await Task.Delay(RetryPause, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>A ListStreams from a client of its own, on a new connection, timed from before it connects.</summary>
    private static async Task<FreshAnswer> FreshRequestAsync(Uri endpoint)
    {
        using var client = new KinesisHttpClient(endpoint, 1, http2: false, FreshTimeout);
        long start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync("ListStreams", KinesisJson.ListStreams()).ConfigureAwait(false);
            double millis = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return response.IsSuccess ? new FreshAnswer(true, millis, null) : new FreshAnswer(false, millis, response.Describe());
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return new FreshAnswer(false, Stopwatch.GetElapsedTime(start).TotalMilliseconds, e.GetBaseException().Message);
        }
    }

    /// <summary>Descriptors the server holds open (its sockets among them), or -1 when /proc does not say.</summary>
    private static int OpenDescriptors(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>When each PutRecords batch is due: batch i at i x batch / rate seconds after the start, until the duration.
    /// Its clock is the soak's. Thread-safe.</summary>
    private sealed class BatchSchedule(double rate, int batchSize, TimeSpan duration)
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private long _next = -1;

        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);

        public (long Index, TimeSpan Due)? Next()
        {
            long index = Interlocked.Increment(ref _next);
            var due = TimeSpan.FromSeconds(index * batchSize / rate);
            return due < duration ? (index, due) : null;
        }
    }

    /// <summary>Put latencies of the current window, handed over whole at its end. Thread-safe.</summary>
    private sealed class WindowedLatency
    {
        private readonly Lock _gate = new();
        private LatencySamples _current = new();

        public void Add(long start, long end)
        {
            lock (_gate)
                _current.Add(start, end);
        }

        public LatencySamples Take()
        {
            lock (_gate)
            {
                var taken = _current;
                _current = new LatencySamples();
                return taken;
            }
        }
    }

    /// <summary>Failed requests counted by kind ("PutRecords 500 InternalFailure", "GetRecords HttpRequestException"). Thread-safe.</summary>
    private sealed class ErrorCounts
    {
        private readonly ConcurrentDictionary<string, long> _byKind = new(StringComparer.Ordinal);
        private long _total;

        public long Total => Interlocked.Read(ref _total);

        public IEnumerable<KeyValuePair<string, long>> ByKind => _byKind.OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal);

        public void Add(string kind)
        {
            _byKind.AddOrUpdate(kind, 1, (_, n) => n + 1);
            Interlocked.Increment(ref _total);
        }
    }

    private static BenchReport NewReport(Options options)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = options.Endpoint.ToString() };
        foreach (var (key, value) in new Dictionary<string, object>
        {
            ["duration_s"] = options.Duration.TotalSeconds,
            ["interval_s"] = options.Interval.TotalSeconds,
            ["rate"] = options.Rate,
            ["batch"] = options.BatchSize,
            ["record_bytes"] = options.RecordBytes,
            ["connections"] = options.Connections,
            ["shards"] = options.Shards,
            ["consumers"] = options.Consumers,
            ["readers"] = options.Readers,
            ["slow_connections"] = options.SlowConnections,
            ["slow_byte_interval_s"] = options.SlowByteInterval.TotalSeconds,
            ["drift_check"] = options.DriftCheck,
        })
            report.Settings[key] = Convert.ToString(value, CultureInfo.InvariantCulture)!;
        return report;
    }
}
