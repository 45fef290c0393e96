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
    /// <summary>Every setting: flag name, value placeholder, one-line description and, for numbers, the accepted range.</summary>
    public static readonly Setting[] All =
    [
        new("--port", "PORT", "TCP port for the Kinesis API, /health and everything else (default 4567; 0 picks a free one)", 0, 65535),
        new("--host", "ADDRESS", "interface to listen on (default 127.0.0.1; 0.0.0.0 exposes Runnel to the network)"),
        new("--data-dir", "DIR", "where streams and records are kept (default ./data); one server per directory"),
        new("--region", "REGION", "region shown in stream ARNs (default us-east-1)"),
        new("--account-id", "ID", "12-digit account id shown in ARNs and errors (default 000000000000)"),
        new("--create-stream-delay", "MS", "how long a new stream stays CREATING, in ms (default 0)", 0, MaxDelayMillis),
        new("--delete-stream-delay", "MS", "how long a deleted stream stays DELETING, in ms (default 0)", 0, MaxDelayMillis),
        new("--update-stream-delay", "MS", "how long a changed stream stays UPDATING, in ms (default 0)", 0, MaxDelayMillis),
        new("--delivery-stream-create-delay", "MS", "how long a new Firehose delivery stream stays CREATING, in ms (default 0)", 0, MaxDelayMillis),
        new("--metrics", "on|off", "record the AWS/Kinesis metrics served at /metrics (default on; off only to measure what recording costs)"),
        new("--metrics-retention", "HOURS", "how long each minute's metrics are kept under DATA-DIR/metrics for CloudWatch's API (default 24)", 1, 24 * 63),
        new("--console", "on|off", "serve the web console at / (default on): streams, data viewer, charts, pipeline map, alarms"),
        new("--otlp-endpoint", "URL", "also export the metrics of /metrics to this OpenTelemetry collector every minute: OTLP over gRPC (http://127.0.0.1:4317), or over HTTP when the URL ends in /v1/metrics (http://127.0.0.1:4318/v1/metrics)"),
        new("--auth", "none|sigv4", "none (default): any key pair works, as in local development; sigv4: every request's signature is verified against --credentials"),
        new("--credentials", "FILE", "the key pairs requests may be signed with, in AWS's shared-credentials format ([name] aws_access_key_id, aws_secret_access_key, optional account_id); read again when it changes"),
        new("--master-key-file", "FILE", "the 32-byte key (raw, base64 or hex) that wraps encrypted streams' data keys; else RUNNEL_MASTER_KEY, else a development key made once under ~/.config/runnel (a warning says so)"),
        new("--alarms", "FILE", "a JSON file of alarms to put at start-up (\"Alarms\": PutMetricAlarm requests) and of the webhooks alarm actions post to (\"AlarmActions\": {ARN: URL}); both may also sit in the --config file"),
        new("--channel-delay", "MS", "how long a Kinesis channel stays CREATING, UPDATING or DELETING, in ms (default 0)", 0, MaxDelayMillis),
        new("--channel-freshness", "SECONDS", "deliver every channel's objects after this many seconds instead of its DataFreshnessInSeconds (300-900), for development and tests; descriptions still show the channel's own (default: the channel's)", 0, 900),
        new("--s3-dir", "DIR", "where Firehose S3 destinations deliver without --s3-endpoint: a directory per bucket, objects under S3's key layout (default DATA-DIR/buckets)"),
        new("--s3-endpoint", "URL", "an S3-compatible store (MinIO, Ceph, ...) Firehose S3 destinations deliver to instead of --s3-dir; 'aws' for AWS S3 itself"),
        new("--s3-access-key-id", "ID", "with --s3-endpoint: the store's access key (default: AWS's credential chain)"),
        new("--s3-secret-access-key", "KEY", "with --s3-endpoint: its secret (better in runnel.json or RUNNEL_S3_SECRET_ACCESS_KEY than on the command line)"),
        new("--s3-region", "REGION", "with --s3-endpoint: the region requests are signed for (default --region)"),
        new("--s3-path-style", "on|off", "with --s3-endpoint: path-style bucket addressing, which most S3-compatible stores need (default on)"),
        new("--transform-endpoint", "URL", "where Firehose's Lambda processor functions run: an HTTP URL ({function} becomes the function's name) taking the transformation event and answering the result"),
        new("--transform-command", "COMMAND", "or a command (/bin/sh -c, FUNCTION_NAME set) reading the event on stdin and writing the result on stdout"),
        new("--function-processes", "on|off", "run Lambda functions' code in processes on this machine (the Runtime API forms; default on when listening on 127.0.0.1 only or with --auth sigv4, off otherwise: anyone who can call CreateFunction could run commands here)"),
        new("--function-concurrency", "N", "most processes one Lambda function runs at once; more invocations wait for one (default 10)", 1, 1000),
        new("--node-runtime-client", "DIR", "npm's aws-lambda-ric package directory (…/node_modules/aws-lambda-ric), with which Lambda functions of nodejs runtimes run; without it they are refused"),
        new("--search-endpoint", "URL", "how Firehose reaches OpenSearch/Elasticsearch domains named by DomainARN ({domain} becomes the domain's name); ClusterEndpoint destinations need none"),
        new("--redshift-endpoint", "HOST:PORT", "the PostgreSQL server Firehose's Redshift destinations load into (the JDBC URL's database, as its Username)"),
        new("--schemas", "FILE", "tables for Firehose's Parquet conversion, as Glue would give them: {\"DATABASE.TABLE\": [{\"name\": \"id\", \"type\": \"int\"}, ...]}"),
        new("--http-endpoint-ca", "FILE", "PEM certificates to trust for Firehose HTTP endpoints besides the system's roots (an internal or self-signed endpoint)"),
        new("--consumer-create-delay", "MS", "how long a newly registered consumer stays CREATING, in ms (default 0)", 0, MaxDelayMillis),
        new("--consumer-delete-delay", "MS", "how long a deregistered consumer stays DELETING, in ms (default 0)", 0, MaxDelayMillis),
        new("--commitment-period", "MS", "how long a minimum throughput billing commitment lasts at least once enabled, in ms (default 86400000, AWS's 24 hours)", 0, 31_536_000_000),
        new("--shard-limit", "N", "most open shards across all streams, as AWS's account limit (default 500)", 1, 100_000),
        new("--fsync", "POLICY", "always | interval | never: when records reach stable storage (default interval)"),
        new("--fsync-interval", "MS", "flush period for --fsync interval, in ms (default 200)", 1, 60_000),
        new("--segment-bytes", "BYTES", "size at which a shard's segment file is sealed (default 67108864)", 1L << 20, 1L << 30),
        new("--max-request-bytes", "BYTES", "largest request body accepted (default 16777216)", 64 * 1024, 1L << 30),
        new("--max-connections", "N", "most connections open at once; silent ones make room, then new ones are refused (default 4096)", 1, 1_000_000),
        new("--max-header-bytes", "BYTES", "most bytes a request's headers may take together; larger is answered 431 (default 32768)", 4096, 1 << 20),
        new("--max-nesting-depth", "N", "deepest a JSON or CBOR request body may nest; deeper is answered SerializationException (default 64)", 8, Runnel.Protocol.Requests.RequestDocument.DepthLimit),
        new("--max-streams-per-connection", "N", "most HTTP/2 streams (requests, subscriptions) one connection may have open at once (default 1000)", 1, 100_000),
        new("--handshake-timeout", "MS", "time a new connection has to send its request head, in ms (default 10000)", 100, 600_000),
        new("--idle-timeout", "MS", "how long a connection may stay open between requests, in ms (default 120000)", 1000, 3_600_000),
        new("--tls-port", "PORT", "also serve the whole API over TLS on this port, HTTP/1.1 and HTTP/2 by ALPN (needs --tls-cert and --tls-key)", 0, 65535),
        new("--tls-cert", "FILE", "PEM certificate (chain) for --tls-port"),
        new("--tls-key", "FILE", "PEM private key of --tls-cert"),
        new("--subscription-lifetime", "MS", "how long a SubscribeToShard subscription lasts before it ends cleanly, in ms (default 300000, AWS's 5 minutes)", 1000, 3_600_000),
        new("--limits", "on|off", "AWS's throughput and control-plane rate limits (default on, as on AWS)"),
        new("--shard-write-bytes", "N", "bytes per second a shard accepts (default 1048576)", MinRate, MaxRate),
        new("--shard-write-records", "N", "records per second a shard accepts (default 1000)", MinRate, MaxRate),
        new("--shard-read-bytes", "N", "bytes per second a shard's readers may get, shared (default 2097152)", MinRate, MaxRate),
        new("--shard-reads", "N", "GetRecords calls per second per shard, shared by its readers (default 5)", MinRate, MaxRate),
        new("--consumer-read-bytes", "N", "bytes per second each registered consumer may get from a shard by SubscribeToShard (default 2097152)", MinRate, MaxRate),
        new("--shard-iterators", "N", "GetShardIterator calls per second per shard (default 5)", MinRate, MaxRate),
        new("--on-demand-window", "SECONDS", "period over which ON_DEMAND streams measure write rates (default 30)", 1, 3600),
        new("--on-demand-scale-up", "FRACTION", "share of a shard's write capacity at which it is split (default 0.8)", 0.01, 1),
        new("--on-demand-scale-down", "FRACTION", "share of a stream's capacity under which it shrinks (default 0.2)", 0.01, 1),
        new("--on-demand-scale-down-after", "SECONDS", "how long it must stay under that first (default 900)", 1, 86_400),
        new("--on-demand-cooldown", "SECONDS", "quiet time after a scaling before the next (default 60)", 0, 86_400),
        new("--nats", "URLS", "keep everything in a NATS JetStream cluster instead of --data-dir, so that many stateless nodes serve one set of streams: nats://h1:4222,nats://h2:4222,..."),
        new("--replicas", "N", "with --nats: JetStream replicas of every shard and of the metadata, 1, 3 or 5 (default 3)", 1, 5),
        new("--nats-credentials", "FILE", "with --nats: a NATS credentials file (.creds) for the connection"),
        new("--nats-ca", "FILE", "with --nats: PEM certificate authorities of the NATS servers' TLS certificates (TLS is then required)"),
        new("--config", "FILE", "JSON file of settings, keys as above without dashes (default ./runnel.json if present)"),
    ];

    private const double MaxDelayMillis = 3_600_000, MinRate = 0.001, MaxRate = 1e12;

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
        int Int(string name, int fallback) => Get(name) is { } v ? (int)InRange(name, Parse<long>(name, v)) : fallback;
        long Long(string name, long fallback) => Get(name) is { } v ? (long)InRange(name, Parse<long>(name, v)) : fallback;
        TimeSpan Millis(string name, TimeSpan fallback) => Get(name) is { } v ? TimeSpan.FromMilliseconds(InRange(name, Parse<long>(name, v))) : fallback;
        double Number(string name, double fallback) => Get(name) is { } v ? InRange(name, Parse<double>(name, v)) : fallback;
        bool OnOff(string name) => Get(name) switch // every on|off setting is on by default
        {
            null => true,
            var v when v.Equals("on", StringComparison.OrdinalIgnoreCase) || v.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            var v when v.Equals("off", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            var v => throw new ArgumentException($"--{name} must be on or off, not '{v}'."),
        };
        Uri Url(string name, string v) => Uri.TryCreate(v, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url : throw new ArgumentException($"--{name} must be an http:// or https:// URL, not '{v}'.");
        TimeSpan Seconds(string name, TimeSpan fallback) => Get(name) is { } v ? TimeSpan.FromSeconds(InRange(name, Parse<double>(name, v))) : fallback;

        var defaults = new RunnelOptions();
        var fsync = Get("fsync") is { } policy
            ? Enum.TryParse<FsyncPolicy>(policy, ignoreCase: true, out var p) ? p : throw new ArgumentException($"--fsync must be always, interval or never, not '{policy}'.")
            : defaults.Log.Fsync;
        var limitsDefaults = new Runnel.Core.Throughput.ThroughputLimits();
        bool limitsOn = OnOff("limits");
        var onDemand = new Runnel.Server.Streams.OnDemandPolicy();
        bool pathStyle = OnOff("s3-path-style");
        Runnel.Firehose.Destinations.S3Settings? s3 = null;
        if (Get("s3-endpoint") is { Length: > 0 } endpoint)
        {
            Uri? url = null;
            if (!endpoint.Equals("aws", StringComparison.OrdinalIgnoreCase)
                && (!Uri.TryCreate(endpoint, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https")))
                throw new ArgumentException($"--s3-endpoint must be an http:// or https:// URL, or 'aws', not '{endpoint}'.");
            s3 = new Runnel.Firehose.Destinations.S3Settings(url, Get("s3-access-key-id"), Get("s3-secret-access-key"),
                Get("s3-region") ?? Get("region") ?? defaults.Region, url is not null && pathStyle);
        }
        var options = new RunnelOptions
        {
            OnDemand = onDemand with
            {
                Window = Seconds("on-demand-window", onDemand.Window),
                Interval = TimeSpan.FromSeconds(Math.Clamp(Seconds("on-demand-window", onDemand.Window).TotalSeconds / 6, 0.5, 5)),
                ScaleUpAt = Number("on-demand-scale-up", onDemand.ScaleUpAt),
                ScaleDownBelow = Number("on-demand-scale-down", onDemand.ScaleDownBelow),
                ScaleDownAfter = Seconds("on-demand-scale-down-after", onDemand.ScaleDownAfter),
                Cooldown = Seconds("on-demand-cooldown", onDemand.Cooldown),
            },
            Limits = new Runnel.Core.Throughput.ThroughputLimits
            {
                Enabled = limitsOn,
                WriteBytesPerSecond = Number("shard-write-bytes", limitsDefaults.WriteBytesPerSecond),
                WriteRecordsPerSecond = Number("shard-write-records", limitsDefaults.WriteRecordsPerSecond),
                ReadBytesPerSecond = Number("shard-read-bytes", limitsDefaults.ReadBytesPerSecond),
                ReadsPerSecond = Number("shard-reads", limitsDefaults.ReadsPerSecond),
                IteratorsPerSecond = Number("shard-iterators", limitsDefaults.IteratorsPerSecond),
                ConsumerReadBytesPerSecond = Number("consumer-read-bytes", limitsDefaults.ConsumerReadBytesPerSecond),
            },
            Host = Get("host") ?? defaults.Host,
            Port = Int("port", defaults.Port),
            DataDir = Get("data-dir") ?? defaults.DataDir,
            S3Directory = Get("s3-dir") ?? defaults.S3Directory,
            S3 = s3,
            HttpEndpointCa = Get("http-endpoint-ca"),
            TransformEndpoint = Get("transform-endpoint"),
            TransformCommand = Get("transform-command"),
            SearchEndpoint = Get("search-endpoint"),
            FunctionConcurrency = Int("function-concurrency", defaults.FunctionConcurrency),
            FunctionProcesses = Get("function-processes") is null ? null : OnOff("function-processes"),
            NodeRuntimeClient = Get("node-runtime-client") is { } ric
                ? File.Exists(Path.Combine(ric, "index.mjs")) ? Path.GetFullPath(ric) : throw new ArgumentException($"--node-runtime-client {ric} is not npm's aws-lambda-ric directory (it has no index.mjs); install it with: npm install aws-lambda-ric")
                : null,
            RedshiftEndpoint = Get("redshift-endpoint"),
            Schemas = Get("schemas"),
            Region = Get("region") ?? defaults.Region,
            AccountId = Get("account-id") ?? defaults.AccountId,
            CreateStreamDelay = Millis("create-stream-delay", defaults.CreateStreamDelay),
            DeleteStreamDelay = Millis("delete-stream-delay", defaults.DeleteStreamDelay),
            UpdateStreamDelay = Millis("update-stream-delay", defaults.UpdateStreamDelay),
            ConsumerCreateDelay = Millis("consumer-create-delay", defaults.ConsumerCreateDelay),
            DeliveryStreamCreateDelay = Millis("delivery-stream-create-delay", defaults.DeliveryStreamCreateDelay),
            ChannelDelay = Millis("channel-delay", defaults.ChannelDelay),
            Metrics = OnOff("metrics"),
            Console = OnOff("console"),
            MetricsRetention = Get("metrics-retention") is null ? defaults.MetricsRetention : TimeSpan.FromHours(Int("metrics-retention", 24)),
            OtlpEndpoint = Get("otlp-endpoint") is { } otlp ? Url("otlp-endpoint", otlp) : null,
            VerifySignatures = Get("auth") switch
            {
                null => false,
                var v when v.Equals("none", StringComparison.OrdinalIgnoreCase) => false,
                var v when v.Equals("sigv4", StringComparison.OrdinalIgnoreCase) => Get("credentials") is not null
                    ? true : throw new ArgumentException("--auth sigv4 needs --credentials FILE: the key pairs requests may be signed with."),
                var v => throw new ArgumentException($"--auth must be none or sigv4, not '{v}'."),
            },
            CredentialsFile = Get("credentials") is { } credentialsFile
                ? File.Exists(credentialsFile) ? Path.GetFullPath(credentialsFile) : throw new ArgumentException($"--credentials {credentialsFile} does not exist.")
                : null,
            MasterKeyValue = Get("master-key"), // RUNNEL_MASTER_KEY only: a secret has no place on a command line
            MasterKeyFile = Get("master-key-file") is { } keyFile
                ? File.Exists(keyFile) ? Path.GetFullPath(keyFile) : throw new ArgumentException($"--master-key-file {keyFile} does not exist.")
                : null,
            Alarms = (file is null ? Runnel.Server.CloudWatch.Alarms.AlarmConfiguration.Empty : Runnel.Server.CloudWatch.Alarms.AlarmConfiguration.ReadFile(Path.GetFullPath(file)))
                .With(Get("alarms") is { } alarmsFile
                    ? File.Exists(alarmsFile) ? Runnel.Server.CloudWatch.Alarms.AlarmConfiguration.ReadFile(alarmsFile) : throw new ArgumentException($"--alarms {alarmsFile} does not exist.")
                    : Runnel.Server.CloudWatch.Alarms.AlarmConfiguration.Empty),
            ChannelFreshness = Get("channel-freshness") is null ? null : TimeSpan.FromSeconds(Int("channel-freshness", 0)),
            ConsumerDeleteDelay = Millis("consumer-delete-delay", defaults.ConsumerDeleteDelay),
            CommitmentPeriod = Millis("commitment-period", defaults.CommitmentPeriod),
            ShardLimit = Int("shard-limit", defaults.ShardLimit),
            MaxRequestBytes = Long("max-request-bytes", defaults.MaxRequestBytes),
            MaxConnections = Int("max-connections", defaults.MaxConnections),
            MaxHeaderBytes = Int("max-header-bytes", defaults.MaxHeaderBytes),
            MaxNestingDepth = Int("max-nesting-depth", defaults.MaxNestingDepth),
            MaxStreamsPerConnection = Int("max-streams-per-connection", defaults.MaxStreamsPerConnection),
            HandshakeTimeout = Millis("handshake-timeout", defaults.HandshakeTimeout),
            IdleTimeout = Millis("idle-timeout", defaults.IdleTimeout),
            TlsPort = Get("tls-port") is null ? null : Int("tls-port", 0),
            TlsCertificate = Get("tls-cert"),
            TlsKey = Get("tls-key"),
            SubscriptionLifetime = Millis("subscription-lifetime", defaults.SubscriptionLifetime),
            Nats = Get("nats") is { } nats && nats.Trim().Length > 0 ? nats.Trim() : null,
            Replicas = Int("replicas", defaults.Replicas),
            NatsCredentials = Get("nats-credentials"),
            NatsCa = Get("nats-ca"),
            Log = defaults.Log with
            {
                Fsync = fsync,
                FsyncInterval = Millis("fsync-interval", defaults.Log.FsyncInterval),
                SegmentBytes = Long("segment-bytes", defaults.Log.SegmentBytes),
            },
        };
        if (!System.Net.IPAddress.TryParse(options.Host, out _))
            throw new ArgumentException($"--host must be an IP address such as 127.0.0.1, not '{options.Host}'.");
        if (options.AccountId.Length != 12 || !options.AccountId.All(char.IsAsciiDigit))
            throw new ArgumentException($"--account-id must be 12 digits, not '{options.AccountId}'.");
        if (string.IsNullOrWhiteSpace(options.DataDir))
            throw new ArgumentException("--data-dir must name a directory.");
        if (options.Region.Length is 0 or > 32 || !options.Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            throw new ArgumentException($"--region must be a region name such as us-east-1, not '{options.Region}'.");
        if (options.TlsPort is not null && (options.TlsCertificate is null || options.TlsKey is null))
            throw new ArgumentException("--tls-port needs --tls-cert FILE and --tls-key FILE (PEM).");
        if (options.TlsPort is null && (options.TlsCertificate is not null || options.TlsKey is not null))
            throw new ArgumentException("--tls-cert and --tls-key are used only with --tls-port PORT.");
        foreach (string? tlsFile in (string?[])[options.TlsCertificate, options.TlsKey])
            if (tlsFile is not null && !File.Exists(tlsFile))
                throw new ArgumentException($"TLS file {tlsFile} does not exist.");
        CheckNats(options, replicasGiven: Get("replicas") is not null);
        if (options.OnDemand.ScaleDownBelow >= options.OnDemand.ScaleUpAt)
            throw new ArgumentException($"--on-demand-scale-down ({options.OnDemand.ScaleDownBelow}) must be below --on-demand-scale-up ({options.OnDemand.ScaleUpAt}).");
        return options;
    }

    private static void CheckNats(RunnelOptions options, bool replicasGiven)
    {
        if (options.Nats is null)
        {
            if (options.NatsCredentials is not null || options.NatsCa is not null || replicasGiven)
                throw new ArgumentException("--replicas, --nats-credentials and --nats-ca are used only with --nats URLS.");
            return;
        }
        foreach (string url in options.Nats.Split(',', StringSplitOptions.TrimEntries))
            if (!Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "nats://" + url, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("nats" or "tls" or "ws" or "wss") || uri.Host.Length == 0)
                throw new ArgumentException($"--nats must be NATS server URLs separated by commas, such as nats://127.0.0.1:4222, not '{url}'.");
        if (options.Replicas is not (1 or 3 or 5))
            throw new ArgumentException($"--replicas must be 1, 3 or 5 (JetStream's replication), not {options.Replicas}.");
        foreach (string? file in (string?[])[options.NatsCredentials, options.NatsCa])
            if (file is not null && !File.Exists(file))
                throw new ArgumentException($"NATS file {file} does not exist.");
    }

    /// <summary>The value if it lies in the setting's range; otherwise a one-line error naming the range.</summary>
    private static double InRange(string name, double value)
    {
        var setting = All.First(s => s.Flag == "--" + name);
        if (value < setting.Min || value > setting.Max || double.IsNaN(value))
            throw new ArgumentException($"--{name} must be {setting.Range}, not {value.ToString(CultureInfo.InvariantCulture)}.");
        return value;
    }

    private static string Normalize(string key) => key.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static T Parse<T>(string name, string value) where T : IParsable<T> =>
        T.TryParse(value, CultureInfo.InvariantCulture, out var result) ? result : throw new ArgumentException($"--{name} must be a number, not '{value}'.");
}

/// <summary>One setting: its flag, the placeholder of its value, a one-line description and, for a number, its range.</summary>
public sealed record Setting(string Flag, string Value, string Help, double Min = double.NaN, double Max = double.NaN)
{
    /// <summary>"1..60000", or empty for a setting that is not a number.</summary>
    public string Range => double.IsNaN(Min) ? "" : $"{Min.ToString(CultureInfo.InvariantCulture)}..{Max.ToString(CultureInfo.InvariantCulture)}";
}
