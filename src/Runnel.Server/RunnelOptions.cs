using Runnel.Storage.Log;

namespace Runnel.Server;

/// <summary>Every setting of the server. Bound from flags, RUNNEL_* environment variables and runnel.json.</summary>
public sealed record RunnelOptions
{
    /// <summary>Interface to listen on. 127.0.0.1 by default: nothing outside the machine can reach it.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port for the Kinesis API, /health and everything else (HTTP/1.1 and h2c).</summary>
    public int Port { get; init; } = 4567;

    /// <summary>Directory for the metadata database and the shard logs.</summary>
    public string DataDir { get; init; } = "./data";

    /// <summary>Region reported in stream ARNs.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>Account id reported in stream ARNs and error messages.</summary>
    public string AccountId { get; init; } = "000000000000";

    /// <summary>How long a new stream stays CREATING.</summary>
    public TimeSpan CreateStreamDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How long a deleted stream stays DELETING.</summary>
    public TimeSpan DeleteStreamDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How long a stream stays UPDATING after a change of retention or shape.</summary>
    public TimeSpan UpdateStreamDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How long a new Firehose delivery stream stays CREATING.</summary>
    public TimeSpan DeliveryStreamCreateDelay { get; init; } = TimeSpan.Zero;

    /// <summary>Whether the data plane records metrics (on by default; off only to measure what recording costs).</summary>
    public bool Metrics { get; init; } = true;

    /// <summary>Whether the web console is served at <c>/</c> (on by default; docs/console.md).</summary>
    public bool Console { get; init; } = true;

    /// <summary>How long each minute's metrics are kept on disk for the CloudWatch API (default 24 hours).</summary>
    public TimeSpan MetricsRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>An OpenTelemetry collector's OTLP endpoint the metrics are exported to every minute as well; null for none.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>How often the metrics go to <see cref="OtlpEndpoint"/> (a minute; tests shorten it).</summary>
    public TimeSpan OtlpInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether requests' SigV4 signatures are verified (<c>--auth sigv4</c>) against <see cref="CredentialsFile"/>; off by default, any key working.</summary>
    public bool VerifySignatures { get; init; }

    /// <summary>The AWS shared-credentials INI file of the keys requests may be signed with (<c>--credentials</c>).</summary>
    public string? CredentialsFile { get; init; }

    /// <summary>The master key that wraps encrypted streams' data keys (<c>--master-key-file</c>); null: <c>RUNNEL_MASTER_KEY</c>, else the development key.</summary>
    public string? MasterKeyFile { get; init; }

    /// <summary>The master key itself, base64 or hex (<c>RUNNEL_MASTER_KEY</c>); used when <see cref="MasterKeyFile"/> is not given.</summary>
    public string? MasterKeyValue { get; init; }

    /// <summary>Where the development master key is made when no key is configured (outside the data directory).</summary>
    public string DevelopmentKeyFile { get; init; } = Encryption.MasterKey.DefaultDevelopmentFile();

    /// <summary>Alarms put at start-up and the webhooks of alarm actions (the configuration file and <c>--alarms</c>; docs/alarms.md).</summary>
    public CloudWatch.Alarms.AlarmConfiguration Alarms { get; init; } = CloudWatch.Alarms.AlarmConfiguration.Empty;

    /// <summary>How long a Kinesis channel stays CREATING, UPDATING or DELETING.</summary>
    public TimeSpan ChannelDelay { get; init; } = TimeSpan.Zero;

    /// <summary>When set, how long channels buffer before they write an object, instead of their DataFreshnessInSeconds.</summary>
    public TimeSpan? ChannelFreshness { get; init; }

    /// <summary>Where Firehose's S3 and ExtendedS3 destinations deliver when no S3 endpoint is configured: one directory
    /// per bucket, objects under S3's key layout; null for <c>buckets</c> in <see cref="DataDir"/>.</summary>
    public string? S3Directory { get; init; }

    /// <summary>The S3-compatible store Firehose's S3 destinations deliver to; null for <see cref="S3Directory"/>.</summary>
    public Runnel.Firehose.Destinations.S3Settings? S3 { get; init; }

    /// <summary>PEM certificates trusted as roots for Firehose HTTP endpoints besides the system's (an internal or
    /// self-signed endpoint); null for the system's alone.</summary>
    public string? HttpEndpointCa { get; init; }

    /// <summary>Where the Lambda processor's functions run: an HTTP URL (<c>{function}</c> becomes the function's name)
    /// that takes Firehose's transformation event and answers the function's result; null when not by HTTP.</summary>
    public string? TransformEndpoint { get; init; }

    /// <summary>Or a command (run by /bin/sh, FUNCTION_NAME in its environment) that reads the event on its standard
    /// input and writes the result on its standard output.</summary>
    public string? TransformCommand { get; init; }

    /// <summary>Whether Lambda functions' code runs in processes here (the Runtime API forms); null: when the server listens
    /// on a loopback address only, or verifies signatures (docs/security.md, "Functions").</summary>
    public bool? FunctionProcesses { get; init; }

    /// <summary>The most processes one Lambda function runs at once (docs/compatibility.md, "Lambda").</summary>
    public int FunctionConcurrency { get; init; } = 10;

    /// <summary>npm's <c>aws-lambda-ric</c> directory, with which <c>nodejs</c> functions run; null: they are refused.</summary>
    public string? NodeRuntimeClient { get; init; }

    /// <summary>How Firehose reaches OpenSearch and Elasticsearch domains named by DomainARN: a URL whose <c>{domain}</c>
    /// becomes the domain's name; null when only ClusterEndpoint destinations are delivered.</summary>
    public string? SearchEndpoint { get; init; }

    /// <summary>The PostgreSQL server (HOST:PORT) Firehose's Redshift destinations load into, in the JDBC URL's
    /// database, as their Username; null when Redshift destinations are not delivered.</summary>
    public string? RedshiftEndpoint { get; init; }

    /// <summary>A JSON file of the tables Firehose's format conversion writes Parquet for (AWS takes them from Glue):
    /// <c>{"DATABASE.TABLE": [{"name": "id", "type": "int"}, …]}</c>; null for none.</summary>
    public string? Schemas { get; init; }

    /// <summary>How long a newly registered consumer stays CREATING.</summary>
    public TimeSpan ConsumerCreateDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How long a deregistered consumer stays DELETING.</summary>
    public TimeSpan ConsumerDeleteDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How long a minimum throughput billing commitment lasts at least once enabled (AWS: 24 hours).</summary>
    public TimeSpan CommitmentPeriod { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Most open shards the account may have across all streams (AWS's default is 500 in most regions).</summary>
    public int ShardLimit { get; init; } = 500;

    /// <summary>Largest request body accepted, in bytes.</summary>
    public long MaxRequestBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Most TCP connections open at once; past it, silent connections make room or newcomers are refused.</summary>
    public int MaxConnections { get; init; } = 4096;

    /// <summary>The most bytes a request's headers may take together (HTTP/1.1 and HTTP/2); larger is answered 431.</summary>
    public int MaxHeaderBytes { get; init; } = 32 * 1024;

    /// <summary>The deepest a request body (JSON or CBOR) may nest; deeper is answered SerializationException.</summary>
    public int MaxNestingDepth { get; init; } = Runnel.Protocol.Requests.RequestDocument.MaxDepth;

    /// <summary>The most HTTP/2 streams (requests, subscriptions) one connection may have open at once.</summary>
    public int MaxStreamsPerConnection { get; init; } = 1000;

    /// <summary>How long a new connection may take to send its first request head (also Kestrel's request-headers timeout).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a connection may stay open between requests (Kestrel's keep-alive timeout).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>A second port serving the whole API over TLS (HTTP/1.1 and HTTP/2 chosen by ALPN); null for none.</summary>
    public int? TlsPort { get; init; }

    /// <summary>PEM certificate (chain) for <see cref="TlsPort"/>.</summary>
    public string? TlsCertificate { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertificate"/>.</summary>
    public string? TlsKey { get; init; }

    /// <summary>How long a SubscribeToShard subscription lasts before it ends cleanly (AWS: 5 minutes).</summary>
    public TimeSpan SubscriptionLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Per-shard throughput limits (AWS's by default) and whether control-plane rate limits apply.</summary>
    public Runnel.Core.Throughput.ThroughputLimits Limits { get; init; } = new();

    /// <summary>How ON_DEMAND streams scale themselves.</summary>
    public Streams.OnDemandPolicy OnDemand { get; init; } = new();

    /// <summary>NATS servers (comma-separated URLs) of a JetStream cluster that holds every shard log and all metadata,
    /// making this node stateless (docs/adr/0001-kinesis-on-jetstream.md); null for the embedded storage under <see cref="DataDir"/>.</summary>
    public string? Nats { get; init; }

    /// <summary>JetStream replicas of every shard log and metadata bucket when <see cref="Nats"/> is set: 1, 3 or 5.</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>A NATS credentials file (<c>.creds</c>: a user JWT and its NKey seed) for the connection to <see cref="Nats"/>.</summary>
    public string? NatsCredentials { get; init; }

    /// <summary>A PEM file of the certificate authorities that sign the NATS servers' TLS certificates; setting it requires TLS.</summary>
    public string? NatsCa { get; init; }

    /// <summary>Settings of the embedded log.</summary>
    public LogOptions Log { get; init; } = new();
}
