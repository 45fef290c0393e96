using System.Globalization;
using Microsoft.Extensions.Configuration;
using Runnel.Server;
using Runnel.Storage.Log;

namespace Runnel;

/// <summary>
/// Reads <see cref="RunnelOptions"/> from, in rising precedence: a JSON file (<c>--config</c>, else
/// <c>./runnel.json</c> if present), <c>RUNNEL_*</c> environment variables and command-line flags.
/// Names are matched ignoring case, dashes and underscores, so <c>--data-dir</c>, <c>RUNNEL_DATA_DIR</c>
/// and <c>"DataDir"</c> are the same setting.
/// </summary>
public static class Settings
{
    /// <summary>Every setting: flag name, value placeholder, and a one-line description.</summary>
    public static readonly (string Flag, string Value, string Help)[] All =
    [
        ("--port", "PORT", "TCP port for the Kinesis API, /health and everything else (default 4567)"),
        ("--host", "ADDRESS", "interface to listen on (default 127.0.0.1; 0.0.0.0 exposes Runnel to the network)"),
        ("--data-dir", "DIR", "where streams and records are kept (default ./data)"),
        ("--region", "REGION", "region shown in stream ARNs (default us-east-1)"),
        ("--account-id", "ID", "12-digit account id shown in ARNs and errors (default 000000000000)"),
        ("--create-stream-delay", "MS", "how long a new stream stays CREATING, in ms (default 0)"),
        ("--delete-stream-delay", "MS", "how long a deleted stream stays DELETING, in ms (default 0)"),
        ("--update-stream-delay", "MS", "how long a changed stream stays UPDATING, in ms (default 0)"),
        ("--shard-limit", "N", "most open shards across all streams, as AWS's account limit (default 500)"),
        ("--fsync", "POLICY", "always | interval | never: when records reach stable storage (default interval)"),
        ("--fsync-interval", "MS", "flush period for --fsync interval, in ms (default 200)"),
        ("--segment-bytes", "BYTES", "size at which a shard's segment file is sealed (default 67108864)"),
        ("--max-request-bytes", "BYTES", "largest request body accepted (default 16777216)"),
        ("--limits", "on|off", "AWS's throughput and control-plane rate limits (default on, as on AWS)"),
        ("--shard-write-bytes", "N", "bytes per second a shard accepts (default 1048576)"),
        ("--shard-write-records", "N", "records per second a shard accepts (default 1000)"),
        ("--shard-read-bytes", "N", "bytes per second a shard's readers may get, shared (default 2097152)"),
        ("--shard-reads", "N", "GetRecords calls per second per shard, shared by its readers (default 5)"),
        ("--shard-iterators", "N", "GetShardIterator calls per second per shard (default 5)"),
        ("--on-demand-window", "SECONDS", "period over which ON_DEMAND streams measure write rates (default 30)"),
        ("--on-demand-scale-up", "FRACTION", "share of a shard's write capacity at which it is split (default 0.8)"),
        ("--on-demand-scale-down", "FRACTION", "share of a stream's capacity under which it shrinks (default 0.2)"),
        ("--on-demand-scale-down-after", "SECONDS", "how long it must stay under that first (default 900)"),
        ("--on-demand-cooldown", "SECONDS", "quiet time after a scaling before the next (default 60)"),
        ("--config", "FILE", "JSON file of settings, keys as above without dashes (default ./runnel.json if present)"),
    ];

    public static RunnelOptions Load(string[] args, IDictionary<string, string?>? environment = null)
    {
        string? configFile = null;
        for (int i = 0; i < args.Length - 1; i++)
            if (args[i] == "--config")
                configFile = args[i + 1];
        // Each source is read on its own and laid over the one before, so precedence does not depend on
        // how a key is spelled in each (DataDir, RUNNEL_DATA_DIR and --data-dir are one setting).
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Overlay(IConfiguration source)
        {
            foreach (var (key, value) in source.AsEnumerable())
                if (value is not null)
                    values[Normalize(key)] = value;
        }
        string? file = configFile ?? (File.Exists("runnel.json") ? "runnel.json" : null);
        if (configFile is not null && !File.Exists(configFile))
            throw new ArgumentException($"Configuration file {configFile} does not exist.");
        if (file is not null)
            Overlay(new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(file), optional: false).Build());
        var env = new ConfigurationBuilder();
        if (environment is null)
            env.AddEnvironmentVariables("RUNNEL_");
        else
            env.AddInMemoryCollection(environment.Where(e => e.Key.StartsWith("RUNNEL_", StringComparison.Ordinal))
                .Select(e => new KeyValuePair<string, string?>(e.Key["RUNNEL_".Length..], e.Value)));
        Overlay(env.Build());
        var known = All.Select(s => s.Flag).ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && !known.Contains(args[i].Split('=')[0]))
                throw new ArgumentException($"Unknown option {args[i]}. Run 'runnel serve --help' for the list.");
            if (known.Contains(args[i]) && i == args.Length - 1)
                throw new ArgumentException($"Option {args[i]} needs a value.");
        }
        Overlay(new ConfigurationBuilder().AddCommandLine(args).Build());

        string? Get(string name) => values.TryGetValue(Normalize(name), out string? v) ? v : null;
        int Int(string name, int fallback) => Get(name) is { } v ? Parse<int>(name, v) : fallback;
        long Long(string name, long fallback) => Get(name) is { } v ? Parse<long>(name, v) : fallback;
        TimeSpan Millis(string name, TimeSpan fallback) => Get(name) is { } v ? TimeSpan.FromMilliseconds(Parse<long>(name, v)) : fallback;

        var defaults = new RunnelOptions();
        var fsync = Get("fsync") is { } policy
            ? Enum.TryParse<FsyncPolicy>(policy, ignoreCase: true, out var p) ? p : throw new ArgumentException($"--fsync must be always, interval or never, not '{policy}'.")
            : defaults.Log.Fsync;
        var limitsDefaults = new Runnel.Core.Throughput.ThroughputLimits();
        bool limitsOn = Get("limits") switch
        {
            null => true,
            var v when v.Equals("on", StringComparison.OrdinalIgnoreCase) || v.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            var v when v.Equals("off", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            var v => throw new ArgumentException($"--limits must be on or off, not '{v}'."),
        };
        double Rate(string name, double fallback) => Get(name) is { } v
            ? Parse<double>(name, v) is var d && d > 0 ? d : throw new ArgumentException($"--{name} must be a positive number, not '{v}'.")
            : fallback;
        var onDemand = new Runnel.Server.Streams.OnDemandPolicy();
        TimeSpan Seconds(string name, TimeSpan fallback) => Get(name) is { } v ? TimeSpan.FromSeconds(Rate(name, 0)) : fallback;
        var options = new RunnelOptions
        {
            OnDemand = onDemand with
            {
                Window = Seconds("on-demand-window", onDemand.Window),
                Interval = TimeSpan.FromSeconds(Math.Clamp(Seconds("on-demand-window", onDemand.Window).TotalSeconds / 6, 0.5, 5)),
                ScaleUpAt = Get("on-demand-scale-up") is { } up ? Rate("on-demand-scale-up", 0) : onDemand.ScaleUpAt,
                ScaleDownBelow = Get("on-demand-scale-down") is { } down ? Rate("on-demand-scale-down", 0) : onDemand.ScaleDownBelow,
                ScaleDownAfter = Seconds("on-demand-scale-down-after", onDemand.ScaleDownAfter),
                Cooldown = Seconds("on-demand-cooldown", onDemand.Cooldown),
            },
            Limits = new Runnel.Core.Throughput.ThroughputLimits
            {
                Enabled = limitsOn,
                WriteBytesPerSecond = Rate("shard-write-bytes", limitsDefaults.WriteBytesPerSecond),
                WriteRecordsPerSecond = Rate("shard-write-records", limitsDefaults.WriteRecordsPerSecond),
                ReadBytesPerSecond = Rate("shard-read-bytes", limitsDefaults.ReadBytesPerSecond),
                ReadsPerSecond = Rate("shard-reads", limitsDefaults.ReadsPerSecond),
                IteratorsPerSecond = Rate("shard-iterators", limitsDefaults.IteratorsPerSecond),
            },
            Host = Get("host") ?? defaults.Host,
            Port = Int("port", defaults.Port),
            DataDir = Get("data-dir") ?? defaults.DataDir,
            Region = Get("region") ?? defaults.Region,
            AccountId = Get("account-id") ?? defaults.AccountId,
            CreateStreamDelay = Millis("create-stream-delay", defaults.CreateStreamDelay),
            DeleteStreamDelay = Millis("delete-stream-delay", defaults.DeleteStreamDelay),
            UpdateStreamDelay = Millis("update-stream-delay", defaults.UpdateStreamDelay),
            ShardLimit = Int("shard-limit", defaults.ShardLimit),
            MaxRequestBytes = Long("max-request-bytes", defaults.MaxRequestBytes),
            Log = defaults.Log with
            {
                Fsync = fsync,
                FsyncInterval = Millis("fsync-interval", defaults.Log.FsyncInterval),
                SegmentBytes = Long("segment-bytes", defaults.Log.SegmentBytes),
            },
        };
        if (options.Port is < 0 or > 65535)
            throw new ArgumentException($"--port must be 0..65535, not {options.Port}.");
        if (!System.Net.IPAddress.TryParse(options.Host, out _))
            throw new ArgumentException($"--host must be an IP address such as 127.0.0.1, not '{options.Host}'.");
        if (options.AccountId.Length != 12 || !options.AccountId.All(char.IsAsciiDigit))
            throw new ArgumentException($"--account-id must be 12 digits, not '{options.AccountId}'.");
        if (options.ShardLimit < 1)
            throw new ArgumentException("--shard-limit must be at least 1.");
        return options;
    }

    private static string Normalize(string key) => key.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static T Parse<T>(string name, string value) where T : IParsable<T> =>
        T.TryParse(value, CultureInfo.InvariantCulture, out var result) ? result : throw new ArgumentException($"--{name} must be a number, not '{value}'.");
}
