using System.Runtime.CompilerServices;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Runnel.Firehose.Api;
using Runnel.Firehose.Delivery;
using Runnel.Server.Kinesis;
using Runnel.Server.Streams;
using Runnel.Server.Storage;

namespace Runnel.Server;

/// <summary>
/// The whole server in one process: Kestrel on one port (HTTP/1.1 and cleartext HTTP/2), the Kinesis
/// API on POST, <c>GET /health</c>, and the storage underneath. Start with <see cref="StartAsync"/>,
/// stop with <see cref="DisposeAsync"/> (which flushes and closes every log).
/// </summary>
public sealed class RunnelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerStorage _storage;
    private readonly StreamService _streams;
    private readonly ITimer _retention;
    private readonly ITimer _scaling;
    private readonly ConnectionGuard _connections;
    private readonly StrongBox<bool> _started; // set once StartAsync bound every listener; read by /health

    private RunnelServer(WebApplication app, ConnectionGuard connections, ServerStorage storage, StreamService streams, FirehoseService firehose, StrongBox<bool> started)
    {
        Firehose = firehose;
        var deliveryLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Firehose");
        Delivery = new DeliveryEngine(firehose, streams.Options.S3Directory ?? Path.Combine(streams.Options.DataDir, "buckets"), () => storage.Leads,
            message => deliveryLog.LogWarning("{Message}", message), streams.Options.S3, EndpointTrust(streams.Options.HttpEndpointCa), Transforms(streams.Options),
            streams.Options.SearchEndpoint, Redshift(streams.Options.RedshiftEndpoint), Schemas(streams.Options.Schemas, message => deliveryLog.LogWarning("{Message}", message)));
        _started = started;
        _app = app;
        _connections = connections;
        _storage = storage;
        _streams = streams;
        _retention = streams.Clock.CreateTimer(_ => EnforceRetention(), null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        var scalerLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.OnDemand");
        Scaler = new OnDemandScaler(streams, streams.Options.OnDemand, message => scalerLog.LogInformation("{Message}", message));
        _scaling = streams.Clock.CreateTimer(_ => Scale(), null, streams.Options.OnDemand.Interval, streams.Options.OnDemand.Interval);
    }

    /// <summary>The event-source mappings' pollers (issue 20), run where this node leads.</summary>
    private Runnel.Functions.Mappings.MappingEngine? Mappings { get; init; }

    /// <summary>The processes of functions run by the Runtime API; stopped after the mappings that invoke them.</summary>
    private Runnel.Functions.Runtime.FunctionRuntimes? FunctionRuntimes { get; init; }

    /// <summary>The Firehose service on this server's storage.</summary>
    public FirehoseService Firehose { get; }

    /// <summary>What /metrics and OTLP publish.</summary>
    private Metrics.MetricsExport? MetricsExport { get; init; }

    /// <summary>Each minute's metrics on disk (the embedded storage's data directory); null where none is kept.</summary>
    public Runnel.Storage.Metrics.IMetricHistory? MetricHistory { get; private init; }

    /// <summary>What writes the minutes to <see cref="MetricHistory"/>.</summary>
    internal Metrics.MinuteRoller? Roller { get; private init; }

    /// <summary>The pipeline the console draws (null with metrics off).</summary>
    public Metrics.PipelineView? Pipeline { get; private init; }

    private static async Task WritePipelineAsync(HttpResponse http, Metrics.PipelineView pipeline)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
            await pipeline.WriteAsync(json, http.HttpContext.RequestAborted);
        http.StatusCode = 200;
        http.ContentType = "application/json";
        http.Headers.CacheControl = "no-store";
        http.ContentLength = buffer.WrittenCount;
        await http.Body.WriteAsync(buffer.WrittenMemory);
    }

    /// <summary>The CloudWatch alarms, evaluated after each minute is written (null without a metrics history).</summary>
    public CloudWatch.Alarms.AlarmService? Alarms { get; private init; }

    /// <summary>Firehose's delivery, run where this node leads.</summary>
    public DeliveryEngine Delivery { get; }

    /// <summary>The on-demand scaler (it runs on its own timer; tests may also call it).</summary>
    public OnDemandScaler Scaler { get; }

    private void Scale()
    {
        if (!_storage.Leads)
            return; // another node of the cluster scales
        try
        {
            Scaler.ScaleOnce();
        }
        catch (Exception e)
        {
            _app.Logger.LogWarning(e, "On-demand scaling pass failed; it will run again.");
        }
    }

    public RunnelOptions Options => _streams.Options;

    /// <summary>Where this server's data lives, as the start-up line says it.</summary>
    public string StorageDescription => _storage.Description;

    /// <summary>Whether this server does the once-only work now (always on one node; the lease holder on a cluster).</summary>
    public bool Leads => _storage.Leads;

    /// <summary>The address the server listens on (with the real port when 0 was asked for).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The TLS endpoint when <see cref="RunnelOptions.TlsPort"/> is set, else null.</summary>
    public Uri? TlsUrl { get; private set; }

    public StreamService Streams => _streams;

    /// <summary>TCP connections open now, as the connection limit counts them.</summary>
    public int OpenConnections => _connections.Open;

    public static RunnelServer Create(RunnelOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? clock = null)
    {
        var trace = Environment.GetEnvironmentVariable("RUNNEL_TRACE_STARTUP") == "1" ? System.Diagnostics.Stopwatch.StartNew() : null;
        void Mark(string what) { if (trace is not null) System.Console.Error.WriteLine($"startup: {what} at {trace.ElapsedMilliseconds} ms"); }

        // Storage opens on another core while the web host is assembled: both take tens of milliseconds.
        var pendingWarnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
        ILogger? storageLog = null;
        Action<string> warn = message =>
        {
            if (Volatile.Read(ref storageLog) is { } log) log.LogWarning("{Message}", message);
            else pendingWarnings.Enqueue(message);
        };
        var time = clock ?? TimeProvider.System;
        var storage = Task.Run(() =>
        {
            // The embedded storage locks the data directory before it opens anything in it.
            var opened = ServerStorage.Open(options, time, warn);
            try
            {
                // Records of encrypted streams are sealed and opened between the services and either backend (docs/security.md).
                // A configured master key is read now, so that a bad one stops the start; the development key only when needed.
                var configured = options.MasterKeyFile is not null || options.MasterKeyValue is not null
                    ? Encryption.MasterKey.Load(options.MasterKeyFile, options.MasterKeyValue, options.DevelopmentKeyFile, opened.LocalDirectory, warn)
                    : null;
                var keyring = new Encryption.LogKeyring(() => configured
                    ?? Encryption.MasterKey.Load(null, null, options.DevelopmentKeyFile, opened.LocalDirectory, warn));
                var logs = new Runnel.Storage.Encryption.EncryptingShardStore(opened.Logs, keyring);
                var streams = new StreamService(options, opened.Metadata, logs, time, warn, opened.SweepsOrphansAtStart, () => opened.Leads, opened.SubscriptionClaims)
                {
                    Keyring = keyring,
                };
                var firehose = FirehoseFor(options, opened, logs, keyring, streams, time, warn);
                keyring.EncryptionOf = id => streams.FindById(id)?.Encryption ?? firehose.Catalog.All().FirstOrDefault(d => d.LogId == id)?.AtRest;
                Mark("storage opened");
                return (opened, streams, firehose);
            }
            catch
            {
                opened.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        });
        try
        {
            return Create(options, storage, logging, clock, pendingWarnings, logger => Volatile.Write(ref storageLog, logger), Mark);
        }
        catch
        {
            // Whatever failed, the storage is closed now, not by a finalizer: `runnel repair` may open the directory next.
            storage.ContinueWith(_ => { }, TaskScheduler.Default).Wait(); // settled, whether it opened or failed
            if (storage.IsCompletedSuccessfully)
            {
                storage.Result.firehose.Dispose();
                storage.Result.streams.Dispose();
                storage.Result.opened.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            throw;
        }
    }

    private static RunnelServer Create(RunnelOptions options, Task<(ServerStorage opened, StreamService streams, FirehoseService firehose)> storage, Action<ILoggingBuilder>? logging, TimeProvider? clock,
        System.Collections.Concurrent.ConcurrentQueue<string> pendingWarnings, Action<ILogger> setStorageLog, Action<string> mark)
    {
        ILogger? connectionLog = null;
        var guard = new ConnectionGuard(options.MaxConnections, options.HandshakeTimeout, clock ?? TimeProvider.System,
            message => Volatile.Read(ref connectionLog)?.LogWarning("{Message}", message));
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        // Kestrel's pipes continue where the data arrived instead of hopping to its I/O queues and back. Socket
        // completions already run on thread-pool threads (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS is not set),
        // so a slow request holds its own pool thread as before, never an event loop other connections wait on.
        // What it saves is a thread hop per flush: one per HTTP/1.1 answer, but many per answer over HTTP/2, whose
        // one connection funnels every stream's frames through one writer (docs/benchmarks.md, "Inline scheduling").
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        if (logging is not null)
            logging(builder.Logging);
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // Kestrel warns that cleartext HTTP/2 needs ALPN; H2cDetection supplies it.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.AllowAlternateSchemes = true; // h2c requests say :scheme http on a connection H2cDetection marks as ALPN h2
            kestrel.Limits.MaxRequestBodySize = null; // KinesisEndpoint enforces MaxRequestBytes with AWS's 413
            kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
            kestrel.Limits.MaxRequestHeadersTotalSize = options.MaxHeaderBytes;
            kestrel.Limits.KeepAliveTimeout = options.IdleTimeout;
            kestrel.Limits.RequestHeadersTimeout = options.HandshakeTimeout;
            kestrel.Listen(IPAddress.Parse(options.Host), options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.Use(guard.Middleware);
            });
            if (options.TlsPort is { } tlsPort)
            {
                var certificate = TlsCertificate.Load(options.TlsCertificate!, options.TlsKey!);
                kestrel.Listen(IPAddress.Parse(options.Host), tlsPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2; // ALPN picks: h2 for the Java SDK, http/1.1 for others
                    listen.Use(guard.Middleware); // before TLS: the ClientHello is the first thing a client says
                    listen.UseHttps(certificate);
                });
            }
        });
        builder.Services.AddSingleton(_ => storage.Result.streams);
        builder.Services.AddSingleton<KinesisOperations>();
        builder.Services.AddSingleton(_ => new FirehoseApi(storage.Result.firehose));
        builder.Services.AddSingleton(services => new StorageHealth(
            services.GetRequiredService<ILogger<StorageHealth>>(), clock ?? TimeProvider.System, storage.Result.opened.LocalDirectory));
        builder.Services.AddSingleton<KinesisEndpoint>();
        var app = builder.Build();
        mark("host built");

        var (opened, streams, firehose) = storage.GetAwaiter().GetResult();
        var storageLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Storage");
        setStorageLog(storageLog);
        while (pendingWarnings.TryDequeue(out string? message))
            storageLog.LogWarning("{Message}", message);
        (opened as ClusterStorage)?.LogElection(storageLog);
        Volatile.Write(ref connectionLog, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Connections"));
        var endpoint = app.Services.GetRequiredService<KinesisEndpoint>();
        var dynamoDb = new DynamoDb.DynamoDbEndpoint(
            new Runnel.DynamoDb.Api.DynamoDbApi(new Runnel.DynamoDb.Service.DynamoDbService(opened.Metadata,
                new Runnel.DynamoDb.Service.DynamoDbOptions { Region = options.Region, AccountId = options.AccountId }, clock ?? TimeProvider.System)),
            streams, app.Services.GetRequiredService<StorageHealth>(), app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.DynamoDb"));
        // Functions (issue 20, docs/adr/0004-functions.md): Lambda's API on the same port; functions kept as metadata documents.
        var functionsLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Functions");
        Action<string> warnFunctions = message => functionsLog.LogWarning("{Message}", message);
        var functionCatalog = new Runnel.Functions.Catalog.FunctionCatalog(opened.Metadata, clock ?? TimeProvider.System, warnFunctions);
        streams.DocumentChanged += functionCatalog.Apply;
        var functionsOptions = new Runnel.Functions.Api.FunctionsOptions { Region = options.Region };
        RunnelServer? server = null;
        var runtimeOptions = new Runnel.Functions.Runtime.RuntimeOptions
        {
            CodeDirectory = Path.Combine(options.DataDir, "functions"),
            MaxConcurrency = options.FunctionConcurrency,
            ProcessesRefused = FunctionProcessesRefused(options),
            NodeRuntimeClient = options.NodeRuntimeClient,
            EndpointUrl = () => server?.Url?.ToString().TrimEnd('/'),
        };
        var functionLaunch = new Runnel.Functions.Runtime.FunctionLaunch(new Runnel.Functions.Catalog.FunctionCodeStore(opened.Metadata), runtimeOptions, options.Region);
        var functionRuntimes = new Runnel.Functions.Runtime.FunctionRuntimes(functionLaunch, runtimeOptions,
            new Runnel.Functions.Runtime.RuntimeLog(line => functionsLog.LogInformation("{Line}", line), warnFunctions), TimeProvider.System); // real time: functions read their deadlines by their own clocks
        var functionCode = new Runnel.Functions.Api.FunctionCode(new Runnel.Functions.Catalog.FunctionCodeStore(opened.Metadata), functionLaunch, functionRuntimes);
        var functionOperations = new Runnel.Functions.Api.FunctionOperations(functionCatalog, functionCode, functionsOptions, clock ?? TimeProvider.System);
        var mappingCatalog = new Runnel.Functions.Catalog.EventSourceMappingCatalog(opened.Metadata, clock ?? TimeProvider.System, warnFunctions);
        streams.DocumentChanged += mappingCatalog.Apply;
        var functionInvoker = new Runnel.Functions.Invoke.FunctionInvoker(
            new Runnel.Functions.Invoke.HttpFunctionInvoker(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, clock ?? TimeProvider.System), functionRuntimes, streams.Metrics);
        var eventSourceStreams = new Functions.EventSourceStreams(streams);
        var mappings = new Runnel.Functions.Mappings.MappingEngine(mappingCatalog, new Runnel.Functions.Mappings.MappingContext(streams.Find, firehose.Logs, functionCatalog,
            functionInvoker, opened.Metadata, clock ?? TimeProvider.System, options.Region, options.AccountId, warnFunctions)
        { Metrics = streams.Metrics, SourceProblem = eventSourceStreams.Problem }, () => opened.Leads,
            new Functions.FailureDestinations(streams, endpoint.Writer, new HttpClient { Timeout = TimeSpan.FromSeconds(30) }));
        var lambda = new Functions.LambdaEndpoint(
            new Runnel.Functions.Api.LambdaApi(functionOperations, new Runnel.Functions.Api.InvokeOperation(functionOperations, functionInvoker, functionsOptions, warnFunctions),
                new Runnel.Functions.Api.EventSourceMappingOperations(mappingCatalog, functionOperations, eventSourceStreams, functionsOptions, clock ?? TimeProvider.System, opened.Metadata),
                new Runnel.Functions.Api.FunctionUpdates(functionCatalog, functionOperations, functionCode, functionLaunch, clock ?? TimeProvider.System)),
            streams, app.Services.GetRequiredService<StorageHealth>(), functionsLog);
        // --auth sigv4: every request's signature verified against the credentials file (docs/security.md).
        Auth.SigV4Verifier? verifier = null;
        Auth.AccessControl? access = null;
        if (options.VerifySignatures)
        {
            var authLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Auth");
            var credentials = new Auth.CredentialStore(options.CredentialsFile ?? throw new ArgumentException("--auth sigv4 needs --credentials FILE."),
                clock ?? TimeProvider.System, message => authLog.LogWarning("{Message}", message));
            verifier = new Auth.SigV4Verifier(credentials, clock ?? TimeProvider.System,
                message => authLog.LogInformation("{Message}", message));
            endpoint.Verifier = verifier;
            access = new Auth.AccessControl(options.AccountId, arn => Kinesis.AccessResources.PolicyOf(arn, streams));
            endpoint.Access = access;
            dynamoDb.Verifier = verifier;
            dynamoDb.Access = access;
            lambda.Verifier = verifier;
            lambda.Access = access;
            // Runnel's own GET endpoints answer only those the API would: signed, or Basic with a key pair (Prometheus).
            var operatorAccess = new Auth.OperatorAccess(verifier, credentials, access);
            app.Use(async (context, next) =>
            {
                if (context.Request.Path is { Value: "/metrics" or "/console/api/pipeline" } && await operatorAccess.AuthenticateAsync(context) is null)
                    return;
                await next(context);
            });
        }
        var health = app.Services.GetRequiredService<StorageHealth>();
        firehose.Health = health; // a put to a full disk is refused per record and reported as the Kinesis puts are
        var started = new StrongBox<bool>();
        var lags = new Metrics.ReaderLags(streams);
        var metrics = new Metrics.MetricsExport(streams.Metrics, streams, lags, options.OtlpEndpoint, options.OtlpInterval);
        Runnel.Storage.Metrics.IMetricHistory? history = null;
        Metrics.MinuteRoller? roller = null;
        if (options.Metrics)
        {
            // Each minute's statistics kept for the CloudWatch API and the alarms (docs/formats/metrics.md): on disk
            // on one node; in a JetStream stream that every node of a cluster appends to and reads all nodes' from.
            var metricsLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Metrics");
            history = opened.LocalDirectory is { } local
                ? new Runnel.Storage.Metrics.MetricHistory(Path.Combine(local, "metrics"), options.MetricsRetention)
                : ((ClusterStorage)opened).OpenMetricHistory(options.MetricsRetention, message => metricsLog.LogWarning("{Message}", message));
            roller = new Metrics.MinuteRoller(streams.Metrics, history, clock ?? TimeProvider.System, message => metricsLog.LogWarning("{Message}", message))
            {
                Shards = () => Metrics.MetricsExport.ShardSamples(streams),
            };
        }
        // The readers' lags are measured once per scrape, before the exporter collects (on a cluster that may read
        // JetStream: awaited here, since the exporter's callbacks cannot wait).
        app.Use((context, next) => HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/metrics"
            ? metrics.ScrapeAsync(lags, () => next(context), context.RequestAborted)
            : next(context));
        app.UseOpenTelemetryPrometheusScrapingEndpoint(metrics.Provider, context => HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/metrics",
            null, null, null);
        CloudWatch.CloudWatchOperations? cloudWatch = null;
        CloudWatch.Alarms.AlarmService? alarms = null;
        if (history is not null)
        {
            var time = clock ?? TimeProvider.System;
            // On a cluster the minute still filling is each node's own: a query gathers the other nodes' too.
            var shared = history as Runnel.Storage.JetStream.JetStreamMetricHistory;
            shared?.ServeLive(roller!.Current);
            var queries = new CloudWatch.MetricQueries(history, () => roller!.CurrentMinute, () =>
            {
                var (minute, own) = roller!.Current();
                return shared is null ? own : [.. own, .. shared.OthersLive(minute)];
            }, time);
            var alarmLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Alarms");
            Action<string> warnAlarms = message => alarmLog.LogWarning("{Message}", message);
            alarms = new CloudWatch.Alarms.AlarmService(new CloudWatch.Alarms.AlarmCatalog(opened.Metadata, time, warnAlarms), new CloudWatch.Alarms.AlarmHistory(opened.Metadata),
                new CloudWatch.Alarms.AlarmNotifier(options.Alarms.Webhooks, new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, options.Region, options.AccountId, warnAlarms),
                queries, time, options.Region, options.AccountId, warnAlarms);
            streams.DocumentChanged += alarms.Catalog.Apply;
            // Evaluated once a minute by the node that leads; on a cluster a few seconds after the roll, when every
            // node's minute is in the history.
            var evaluationDelay = opened.LocalDirectory is null ? TimeSpan.FromSeconds(5) : TimeSpan.Zero;
            roller!.Rolled += end =>
            {
                if (!opened.Leads)
                    return;
                if (evaluationDelay == TimeSpan.Zero)
                    alarms.Evaluate(end);
                else
                    _ = Task.Delay(evaluationDelay, time).ContinueWith(_ => alarms.Evaluate(end), TaskScheduler.Default);
            };
            var alarmOperations = new CloudWatch.Alarms.AlarmOperations(alarms);
            options.Alarms.Apply(alarmOperations); // the configured alarms, checked as PutMetricAlarm checks them
            cloudWatch = new CloudWatch.CloudWatchOperations(queries, alarmOperations)
            {
                Access = access is null ? null : new CloudWatch.CloudWatchAccess(access, options.Region, options.AccountId),
                CatchUp = streams.SharesMetadata ? streams.CatchUp : null,
            };
        }
        var cloudWatchQuery = cloudWatch is null ? null : new CloudWatch.QueryEndpoint(cloudWatch) { Verifier = verifier };
        var cloudWatchJson = cloudWatch is null ? null : new CloudWatch.JsonEndpoint(cloudWatch) { Verifier = verifier };
        var cloudWatchCbor = cloudWatch is null ? null : new CloudWatch.CborEndpoint(cloudWatch) { Verifier = verifier };
        // On a cluster each node shares what it served with the others, so that the pipeline view is the cluster's.
        var activityLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Runnel.Metrics");
        var clusterActivity = options.Metrics && opened is ClusterStorage cluster
            ? new Metrics.ClusterActivity(cluster.NodeId, opened.Metadata, streams.Metrics, clock ?? TimeProvider.System, message => activityLog.LogWarning("{Message}", message))
            : null;
        if (clusterActivity is not null)
            streams.DocumentChanged += clusterActivity.Apply;
        var pipeline = options.Metrics ? new Metrics.PipelineView(streams, firehose, lags, clock ?? TimeProvider.System, clusterActivity) : null;
        var console = options.Console ? new Console.ConsoleEndpoint() : null;
        app.Run(context =>
        {
            if (pipeline is not null && HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/console/api/pipeline")
                return WritePipelineAsync(context.Response, pipeline);
            if (cloudWatchQuery is not null && CloudWatch.QueryEndpoint.Accepts(context.Request))
                return cloudWatchQuery.HandleAsync(context);
            if (cloudWatchJson is not null && CloudWatch.JsonEndpoint.Accepts(context.Request))
                return cloudWatchJson.HandleAsync(context);
            if (cloudWatchCbor is not null && CloudWatch.CborEndpoint.Accepts(context.Request))
                return cloudWatchCbor.HandleAsync(context);
            if (console is not null && Console.ConsoleEndpoint.Accepts(context.Request))
                return console.HandleAsync(context);
            if (DynamoDb.DynamoDbEndpoint.Accepts(context.Request))
                return dynamoDb.HandleAsync(context);
            if (Functions.LambdaEndpoint.Accepts(context.Request))
                return lambda.HandleAsync(context);
            if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/health")
                return HealthEndpoint.WriteAsync(context.Response, health, opened, Volatile.Read(ref started.Value));
            return endpoint.HandleAsync(context);
        });
        mark("ready to start");
        server = new RunnelServer(app, guard, opened, streams, firehose, started)
        {
            MetricsExport = metrics,
            MetricHistory = history,
            Roller = roller,
            Alarms = alarms,
            Pipeline = pipeline,
            Mappings = mappings,
            FunctionRuntimes = functionRuntimes,
        };
        return server;
    }

    /// <summary>Why Lambda functions' code may not run in processes here (docs/security.md, "Functions"), or null.</summary>
    internal static string? FunctionProcessesRefused(RunnelOptions options) => options.FunctionProcesses switch
    {
        true => null,
        false => "This server runs no function code in processes (--function-processes off): give the function's code as an HTTP endpoint "
            + "(PackageType Image, Code.ImageUri an http:// or https:// URL).",
        null when options.VerifySignatures || IPAddress.Parse(options.Host) is var host && (host.Equals(IPAddress.Loopback) || host.Equals(IPAddress.IPv6Loopback)) => null,
        null => $"This server listens on {options.Host} without --auth sigv4, so it runs no function code in processes (anyone who reaches it could run "
            + "commands): serve with --auth sigv4, or on 127.0.0.1, or allow it with --function-processes on; or give the code as an HTTP endpoint "
            + "(PackageType Image, Code.ImageUri an http:// or https:// URL).",
    };

    /// <summary>Where Lambda processor functions run (<see cref="RunnelOptions.TransformEndpoint"/> or <see cref="RunnelOptions.TransformCommand"/>), or null.</summary>
    private static Runnel.Firehose.Transform.ITransformFunction? Transforms(RunnelOptions options) =>
        options.TransformEndpoint is { } url ? new Runnel.Firehose.Transform.HttpTransformFunction(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, url)
        : options.TransformCommand is { } command ? new Runnel.Firehose.Transform.CommandTransformFunction(command)
        : null;

    /// <summary>The tables of <see cref="RunnelOptions.Schemas"/>, read afresh each time a delivery starts (so an edited file needs no restart).</summary>
    private static Func<string, string, IReadOnlyList<Runnel.Firehose.Delivery.SchemaColumn>?>? Schemas(string? path, Action<string> warn)
    {
        if (path is null)
            return null;
        return (database, table) =>
        {
            try
            {
                using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
                return json.RootElement.TryGetProperty($"{database}.{table}", out var columns)
                    ? columns.EnumerateArray().Select(c => new Runnel.Firehose.Delivery.SchemaColumn(c.GetProperty("name").GetString()!, c.GetProperty("type").GetString()!)).ToList()
                    : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                warn($"--schemas {path} could not be read ({e.Message}); format conversion waits until it can.");
                return null;
            }
        };
    }

    /// <summary>HOST:PORT of <see cref="RunnelOptions.RedshiftEndpoint"/>, or null.</summary>
    private static DnsEndPoint? Redshift(string? endpoint)
    {
        if (endpoint is null)
            return null;
        int colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? new DnsEndPoint(endpoint[..colon], port)
            : throw new ArgumentException($"--redshift-endpoint must be HOST:PORT, not '{endpoint}'.");
    }

    /// <summary>The certificates of <see cref="RunnelOptions.HttpEndpointCa"/>, or null.</summary>
    private static System.Security.Cryptography.X509Certificates.X509Certificate2Collection? EndpointTrust(string? path)
    {
        if (path is null)
            return null;
        var trust = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        trust.ImportFromPemFile(path);
        return trust.Count > 0 ? trust : throw new InvalidOperationException($"--http-endpoint-ca {path} holds no PEM certificate.");
    }

    /// <summary>Firehose on the same storage as the streams: its catalog follows other nodes' documents through the
    /// streams' follower, and a Kinesis source must be a stream of this account.</summary>
    private static FirehoseService FirehoseFor(RunnelOptions options, ServerStorage opened, Runnel.Storage.IShardStore logs, Runnel.Storage.Encryption.IDataKeys keys,
        StreamService streams, TimeProvider time, Action<string> warn)
    {
        var firehose = new FirehoseService(
            new FirehoseOptions
            {
                Region = options.Region,
                AccountId = options.AccountId,
                CreateDelay = options.DeliveryStreamCreateDelay,
                ChannelDelay = options.ChannelDelay,
                ChannelFreshness = options.ChannelFreshness
            },
            opened.Metadata, logs, time, warn, () => opened.Leads)
        {
            FindStream = streams.Find,
            Metrics = streams.Metrics,
            Keys = keys,
        };
        streams.DocumentChanged += firehose.Catalog.Apply;
        streams.DocumentChanged += firehose.Channels.Catalog.Apply;
        return firehose;
    }

    public async Task StartAsync(CancellationToken cancel = default)
    {
        await _app.StartAsync(cancel);
        Volatile.Write(ref _started.Value, true); // every listener is bound: /health may say ready
        var addresses = _app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault(a => a.StartsWith("http:", StringComparison.Ordinal)) ?? $"http://{Options.Host}:{Options.Port}";
        Url = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        if (addresses?.FirstOrDefault(a => a.StartsWith("https:", StringComparison.Ordinal)) is { } secure)
            TlsUrl = new Uri(secure.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>The leader's housekeeping every 30 s: expired records freed, and on a cluster the logs of streams a node
    /// that died had deleted only in part (the embedded node sweeps those at start-up).</summary>
    private void EnforceRetention()
    {
        if (!_storage.Leads)
            return; // another node of the cluster frees expired records
        try
        {
            _streams.EnforceRetention();
        }
        catch (Exception e)
        {
            _app.Logger.LogWarning(e, "Retention pass failed; it will run again in 30 s.");
        }
        if (!_storage.SweepsOrphansAtStart)
            SweepOrphans();
    }

    /// <summary>Deletes logs that no stored stream names; see <see cref="StreamService.SweepOrphans"/>.</summary>
    public IReadOnlyList<long> SweepOrphans()
    {
        try
        {
            var swept = _streams.SweepOrphans();
            if (swept.Count > 0)
                _app.Logger.LogInformation("Deleted the logs of {Count} deleted stream(s) (ids {Ids}) that a node had not finished deleting.", swept.Count, string.Join(", ", swept));
            return swept;
        }
        catch (Exception e)
        {
            _app.Logger.LogWarning(e, "Sweeping the logs of deleted streams failed; it will run again in 30 s.");
            return [];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _retention.DisposeAsync();
        await _scaling.DisposeAsync();
        try
        {
            await _app.StopAsync(TimeSpan.FromSeconds(5) is var t ? new CancellationTokenSource(t).Token : default);
        }
        finally
        {
            await _app.DisposeAsync();
            if (Mappings is not null)
                await Mappings.DisposeAsync(); // before the logs it reads close
            if (FunctionRuntimes is not null)
                await FunctionRuntimes.DisposeAsync();
            await Delivery.DisposeAsync();
            Firehose.Dispose();
            MetricsExport?.Dispose();
            Roller?.Dispose();
            Pipeline?.Dispose();
            if (MetricHistory is IAsyncDisposable shared)
                await shared.DisposeAsync();
            if (Alarms is not null)
                await Alarms.DisposeAsync();
            _streams.Dispose();
            await _storage.DisposeAsync();
        }
    }
}

