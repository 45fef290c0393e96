namespace Runnel.Bench;

/// <summary>The settings of <c>runnel-bench run</c>. Immutable once parsed; every count and time is bounded.</summary>
public sealed record RunOptions
{
    public static readonly string[] AllScenarios = ["put100", "put1k", "put1", "drain", "latency", "rss"];

    /// <summary>The Kinesis endpoint under test: the first of <see cref="Endpoints"/>.</summary>
    public Uri Endpoint => Endpoints[0];

    /// <summary>The nodes that serve the streams under test (one, or a cluster's), taken in turn request by request.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>Name of the server in reports (runnel, kinesalite, ...).</summary>
    public required string Label { get; init; }

    /// <summary>Records written by each PutRecords scenario (and so read back by the drain).</summary>
    public required long Records { get; init; }

    /// <summary>Records per PutRecords request (Kinesis allows at most 500).</summary>
    public required int BatchSize { get; init; }

    /// <summary>Single PutRecord requests sent by the put1 scenario.</summary>
    public required long SingleRecords { get; init; }

    /// <summary>Time cap of each scenario; one that reaches it stops and reports what it did.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Requests in flight at once in the put and drain scenarios (connections held likewise).</summary>
    public required int Concurrency { get; init; }

    /// <summary>Shards of the streams of the put and drain scenarios.</summary>
    public required int Shards { get; init; }

    /// <summary>Rounds of every operation, unmeasured, before the first scenario (JITs, caches); each round
    /// writes 5,200 records and reads them back.</summary>
    public required int Warmup { get; init; }

    /// <summary>Times the drain reads its stream back; the median pass is reported.</summary>
    public int DrainPasses { get; init; } = 1;

    /// <summary>Records the latency writer puts, one request each.</summary>
    public required int LatencyRecords { get; init; }

    /// <summary>Records per second the latency writer puts.</summary>
    public required double LatencyRate { get; init; }

    /// <summary>Pause of the latency reader after a GetRecords that returned nothing, in ms.</summary>
    public required int PollMillis { get; init; }

    /// <summary>Process to read VmRSS of, or null to skip the rss scenario.</summary>
    public required int? ServerPid { get; init; }

    /// <summary>Which scenarios to run, of <see cref="AllScenarios"/>.</summary>
    public required IReadOnlySet<string> Scenarios { get; init; }

    /// <summary>Speak h2c (HTTP/2 with prior knowledge) instead of HTTP/1.1.</summary>
    public required bool Http2 { get; init; }

    /// <summary>Leave the benchmark's streams in place instead of deleting them at the end.</summary>
    public required bool KeepStreams { get; init; }

    /// <summary>Whether every stream the run creates gets EnableEnhancedMonitoring ALL (shard-level metrics on).</summary>
    public bool EnhancedMonitoring { get; init; }

    /// <summary>Whether every stream the run creates gets StartStreamEncryption (records sealed at rest, on Runnel).</summary>
    public bool Encrypt { get; init; }

    /// <summary>Where to write the JSON report, or null.</summary>
    public required string? JsonPath { get; init; }

    /// <summary>How long to wait for the endpoint to answer before giving up.</summary>
    public required TimeSpan ReadyTimeout { get; init; }

    /// <summary>The options of a command other than <c>run</c> that borrows <see cref="Scenarios.BenchContext"/>
    /// to set up streams: no scenario of its own, HTTP/1.1 unless <paramref name="http2"/>.</summary>
    public static RunOptions ForSetUp(Uri endpoint, string label, int? serverPid, int concurrency, int shards, TimeSpan cap, bool http2 = false) => new()
    {
        Endpoints = [endpoint],
        Label = label,
        Records = 1,
        BatchSize = 500,
        SingleRecords = 1,
        Duration = cap,
        Concurrency = concurrency,
        Shards = shards,
        Warmup = 0,
        LatencyRecords = 1,
        LatencyRate = 1,
        PollMillis = 1,
        ServerPid = serverPid,
        Scenarios = new HashSet<string>(),
        Http2 = http2,
        KeepStreams = false,
        JsonPath = null,
        ReadyTimeout = TimeSpan.FromSeconds(30),
    };

    public static RunOptions Parse(CommandLine cl)
    {
        var scenarios = cl.String("scenarios", string.Join(',', AllScenarios)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var s in scenarios)
            if (!AllScenarios.Contains(s))
                throw new ArgumentException($"unknown scenario '{s}'; known: {string.Join(", ", AllScenarios)}");
        int? pid = cl.String("server-pid") is null ? null : cl.Int32("server-pid", 0, 1);
        var options = new RunOptions
        {
            Endpoints = [.. cl.String("endpoint", "http://127.0.0.1:4567").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u))],
            Label = cl.String("label", "server"),
            Records = cl.Int64("records", 20_000, 1),
            BatchSize = cl.Int32("batch", 500, 1),
            SingleRecords = cl.Int64("single-records", 20_000, 1),
            Duration = TimeSpan.FromSeconds(cl.Double("duration", 60, 0.1)),
            Concurrency = cl.Int32("concurrency", 16, 1),
            Shards = cl.Int32("shards", 4, 1),
            Warmup = cl.Int32("warmup", 10, 0),
            DrainPasses = cl.Int32("drain-passes", 3, 1),
            LatencyRecords = cl.Int32("latency-records", 1000, 1),
            LatencyRate = cl.Double("latency-rate", 200, 0.1),
            PollMillis = cl.Int32("poll-ms", 1, 0),
            ServerPid = pid,
            Scenarios = scenarios.ToHashSet(StringComparer.Ordinal),
            Http2 = cl.Flag("http2"),
            KeepStreams = cl.Flag("keep-streams"),
            EnhancedMonitoring = cl.Flag("enhanced-monitoring"),
            Encrypt = cl.Flag("encrypt"),
            JsonPath = cl.String("json"),
            ReadyTimeout = TimeSpan.FromSeconds(cl.Double("ready-timeout", 30, 0.1)),
        };
        if (options.BatchSize > 500)
            throw new ArgumentException("--batch is at most 500, Kinesis's PutRecords limit");
        return options;
    }

    public const string Help = """
        runnel-bench run [options]: measures one Kinesis endpoint.
          --endpoint URL[,URL]    endpoint under test (default http://127.0.0.1:4567); several (a cluster's nodes)
                                  are taken in turn, request by request
          --label NAME            server name in reports (default server)
          --records N             records written by each PutRecords scenario and read back by drain (default 20000)
          --batch N               records per PutRecords request (default 500)
          --single-records N      single PutRecord requests in put1 (default 20000)
          --duration SECONDS      time cap of each scenario (default 60)
          --concurrency N         requests in flight in the put and drain scenarios (default 16)
          --shards N              shards of the put/drain streams (default 4)
          --warmup ROUNDS         rounds of every operation, unmeasured, before the scenarios (default 10,
                                  5,200 records each)
          --drain-passes N        times the drain reads the stream back; the median pass is reported (default 3)
          --latency-records N     records of the put-to-visible scenario (default 1000)
          --latency-rate R        records/s of its writer (default 200)
          --poll-ms MS            its reader's pause after an empty GetRecords (default 1)
          --server-pid PID        server process whose VmRSS the rss scenario reads from /proc
          --scenarios LIST        of put100,put1k,put1,drain,latency,rss (default all; rss needs --server-pid)
          --http2                 speak h2c instead of HTTP/1.1
          --keep-streams          do not delete the benchmark's streams at the end
          --enhanced-monitoring   enable every shard-level metric on each stream created (EnableEnhancedMonitoring ALL)
          --encrypt               start encryption at rest on each stream created (StartStreamEncryption, alias/aws/kinesis)
          --json FILE             also write the results as JSON
          --ready-timeout SECONDS wait this long for the endpoint to answer (default 30)
        """;
}
