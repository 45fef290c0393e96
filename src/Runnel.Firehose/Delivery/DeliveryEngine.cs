using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Runnel.Firehose.Api;
using Runnel.Firehose.Catalog;
using Runnel.Firehose.Channels;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;
using Runnel.Storage;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// Runs the delivery of every delivery stream, on the node that leads (every node on its own; the elected one on a
/// cluster): one <see cref="DeliveryWorker"/> per ACTIVE stream (DirectPut, or reading a Kinesis stream) whose
/// destination is delivered, started
/// again when the stream's version changes, stopped when it goes or this node stops leading. S3 and ExtendedS3
/// destinations land in the configured S3-compatible store (<see cref="S3Settings"/>), or without one in a directory
/// per bucket under <see cref="ObjectsRoot"/> (S3's key layout, docs/formats/firehose.md).
/// Destinations not delivered yet keep their records in the log until they are (warned once).
/// </summary>
public sealed class DeliveryEngine : IAsyncDisposable
{
    private readonly FirehoseService _service;
    private readonly Func<bool> _leads;
    private readonly Action<string> _warn;
    private readonly ConcurrentDictionary<string, DeliveryWorker> _workers = new(StringComparer.Ordinal);
    private readonly HashSet<(string, long)> _warned = [];
    private readonly SemaphoreSlim _reconcile = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly S3Settings? _s3;
    private readonly Lazy<Amazon.S3.IAmazonS3>? _s3Client;
    private readonly Lazy<HttpClient> _http;
    private readonly Transform.ITransformFunction? _transforms;
    private readonly string? _searchEndpoint;
    private readonly System.Net.DnsEndPoint? _redshiftEndpoint;
    private readonly Func<string, string, IReadOnlyList<SchemaColumn>?>? _schemas;

    /// <param name="objectsRoot">Where S3 destinations' buckets are directories, when <paramref name="s3"/> is null.</param>
    /// <param name="s3">The S3-compatible store S3 destinations deliver to; null for <paramref name="objectsRoot"/>.</param>
    /// <param name="endpointTrust">Certificates trusted as roots for HTTP endpoints besides the system's (an internal or
    /// self-signed endpoint's); null for the system's alone.</param>
    public DeliveryEngine(FirehoseService service, string objectsRoot, Func<bool>? leads = null, Action<string>? warn = null, S3Settings? s3 = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2Collection? endpointTrust = null, Transform.ITransformFunction? transforms = null,
        string? searchEndpoint = null, System.Net.DnsEndPoint? redshiftEndpoint = null, Func<string, string, IReadOnlyList<SchemaColumn>?>? schemas = null)
    {
        _schemas = schemas;
        _searchEndpoint = searchEndpoint;
        _redshiftEndpoint = redshiftEndpoint;
        _transforms = transforms;
        _http = new Lazy<HttpClient>(() => EndpointClient(endpointTrust));
        _service = service;
        ObjectsRoot = Path.GetFullPath(objectsRoot);
        _s3 = s3;
        _s3Client = s3 is null ? null : new Lazy<Amazon.S3.IAmazonS3>(s3.CreateClient);
        _leads = leads ?? (() => true);
        _warn = warn ?? (_ => { });
        service.Catalog.Changed += (_, _) => Reconcile();
        service.Channels.Catalog.Changed += (_, _) => Reconcile();
        service.RecordsAppended += name =>
        {
            if (_workers.TryGetValue(name, out var worker))
                worker.Wake();
        };
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Where S3 destinations' buckets are directories (when no S3 store is configured).</summary>
    public string ObjectsRoot { get; }

    /// <summary>Where S3 destinations deliver, for the start-up line.</summary>
    public string ObjectsLocation => _s3 is { } s3 ? s3.Describe() : ObjectsRoot;

    /// <summary>The streams being delivered now (for tests and the operator).</summary>
    public IReadOnlyCollection<string> Delivering => _workers.Keys.ToList();

    private void Reconcile()
    {
        Wakeup.Set(_reconcile);
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _warn($"Firehose delivery could not be (re)started ({e.GetType().Name}: {e.Message}); it is tried again in a second.");
            }
            try
            {
                await _reconcile.WaitAsync(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Starts the workers that should run and stops the rest.</summary>
    private async Task ReconcileAsync()
    {
        var wanted = _leads()
            ? _service.Catalog.All().Where(s => s.Status == DeliveryStreamStatus.Active
                    && ((s.Type == DeliveryStreamType.DirectPut && s.LogId is not null) || (s.Type == DeliveryStreamType.KinesisStreamAsSource && s.KinesisSource is not null)))
                .ToDictionary(s => s.Name, StringComparer.Ordinal)
            : [];
        var channels = _leads()
            ? _service.Channels.Catalog.All().Where(c => c.Status is ChannelStatus.Active or ChannelStatus.Updating && c.DestinationType == ChannelStatus.S3)
                .ToDictionary(c => ChannelKey(c), StringComparer.Ordinal)
            : [];
        foreach (var (key, worker) in _workers)
        {
            if (wanted.TryGetValue(key, out var stream) && Configuration(stream) == worker.Configuration)
                continue;
            if (channels.TryGetValue(key, out var channel) && Configuration(channel) == worker.Configuration)
                continue;
            if (_workers.TryRemove(key, out var stopped))
            {
                await stopped.DisposeAsync().ConfigureAwait(false);
                if (!key.StartsWith("channel/", StringComparison.Ordinal))
                    _service.Metrics.DeliveryStream(key).StoppedReading();
                if (key.StartsWith("channel/", StringComparison.Ordinal) && _leads()
                    && _service.Channels.Catalog.All().FirstOrDefault(c => ChannelKey(c) == key) is null or { Status: ChannelStatus.Deleting })
                    _service.Metadata.DeleteDocument(ChannelService.ChannelPositionKind, key["channel/".Length..]); // its last position, written as it stopped
            }
        }
        // Each started on its own: one that cannot start (its log or position unreadable now) holds back no other.
        foreach (var stream in wanted.Values)
            if (!_workers.ContainsKey(stream.Name) && Starting($"Delivery stream {stream.Name}", () => Start(stream), () => _service.Catalog.Find(stream.Name) is null) is { } worker)
                _workers[stream.Name] = worker;
        foreach (var (key, channel) in channels)
            if (!_workers.ContainsKey(key) && Starting($"Channel {channel.Name}", () => Start(channel)) is { } worker)
                _workers[key] = worker;
    }

    /// <summary>A worker started, or null, with a warning (at most every 30 s for one worker), when it cannot start now
    /// (it is tried again at the next reconciliation, every second); without one when <paramref name="deleted"/> says
    /// its log is gone because it was deleted meanwhile.</summary>
    private DeliveryWorker? Starting(string what, Func<DeliveryWorker?> start, Func<bool>? deleted = null)
    {
        try
        {
            var worker = start();
            lock (_startFailures)
                _startFailures.Remove(what);
            return worker;
        }
        catch (ObjectDisposedException) when (deleted?.Invoke() == true)
        {
            return null; // deleted as it started: the next reconciliation forgets it
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var now = _service.Clock.GetUtcNow();
            lock (_startFailures)
            {
                if (_startFailures.TryGetValue(what, out var last) && now - last < TimeSpan.FromSeconds(30))
                    return null;
                _startFailures[what] = now;
            }
            _warn($"{what}: delivery could not be started ({e.GetType().Name}: {e.Message}); it is tried again every second.");
            return null;
        }
    }

    private readonly Dictionary<string, DateTimeOffset> _startFailures = new(StringComparer.Ordinal);

    /// <summary>A channel's key among the workers: delivery stream names never hold a '/'.</summary>
    private static string ChannelKey(Channel channel) => "channel/" + channel.Id;

    private static string Configuration(DeliveryStream stream) => $"{stream.Version}/{stream.LogId}";

    private static string Configuration(Channel channel) => $"{channel.DataFreshnessSeconds}";

    /// <summary>A channel's worker: its stream from when it became ACTIVE, into its bucket, dead letters into the DLQ's.</summary>
    private DeliveryWorker? Start(Channel channel)
    {
        var position = DeliveryPosition.Load(_service.Metadata, channel.Id, ChannelService.ChannelPositionKind, _warn);
        var find = _service.FindStream ?? (_ => null);
        string streamName = channel.StreamName;
        var source = new KinesisStreamSource(() => find(streamName), _service.Logs, position, channel.DeliveryStartMillis ?? channel.CreatedMillis);
        var storage = channel.Destination["StorageConfiguration"]!.AsObject();
        var deadLetters = channel.Destination["DeadLetterQueueS3Configuration"]!.AsObject();
        ChannelDelivery delivery;
        try
        {
            delivery = new ChannelDelivery(channel, source, position, () => find(streamName), Store(storage, (string?)storage["StorageClass"]), Store(deadLetters),
                _service.Options.ChannelFreshness)
            {
                ChannelMetrics = _service.Metrics.Channel(streamName, channel.Name, channel.Id),
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            lock (_warned)
                if (_warned.Add((ChannelKey(channel), 0)))
                    _warn($"Channel {channel.Name} cannot be delivered ({e.Message}); delete it and create it again.");
            return null;
        }
        return new DeliveryWorker($"Channel {channel.Name}", Configuration(channel), delivery, position, null, _service.Clock, _warn);
    }

    private DeliveryWorker? Start(DeliveryStream stream)
    {
        var position = DeliveryPosition.Load(_service.Metadata, stream.Name, warn: _warn);
        IShardLog? log = null;
        IRecordSource source;
        if (stream.LogId is { } logId)
            source = new DirectPutSource(log = _service.Logs.Open(logId, 0), position.Of(0));
        else
        {
            string sourceName = ((string)stream.KinesisSource!["KinesisStreamARN"]!).Split(":stream/", 2)[^1];
            var find = _service.FindStream ?? (_ => null);
            source = new KinesisStreamSource(() => find(sourceName), _service.Logs, position, stream.DeliveryStartMillis ?? stream.CreatedMillis);
        }
        BufferedDelivery? delivery = stream.DestinationKind switch
        {
            DestinationKinds.S3 or DestinationKinds.ExtendedS3 => ToObjects(stream, source, position),
            DestinationKinds.HttpEndpoint => ToEndpoint(stream, source, position),
            DestinationKinds.Elasticsearch or DestinationKinds.OpenSearch or DestinationKinds.OpenSearchServerless => ToSearch(stream, source, position),
            DestinationKinds.Redshift => ToRedshift(stream, source, position),
            DestinationKinds.Splunk => ToSplunk(stream, source, position),
            _ => NotYet(stream, $"{stream.DestinationKind} destinations are not delivered yet"),
        };
        if (delivery is null)
            return null;
        var metrics = _service.Metrics.DeliveryStream(stream.Name);
        metrics.Destination = stream.DestinationKind switch
        {
            DestinationKinds.HttpEndpoint => "DeliveryToHttpEndpoint",
            DestinationKinds.Redshift => "DeliveryToRedshift",
            DestinationKinds.OpenSearch => "DeliveryToAmazonOpenSearchService",
            DestinationKinds.Elasticsearch => "DeliveryToElasticsearch",
            DestinationKinds.OpenSearchServerless => "DeliveryToAmazonOpenSearchServerless",
            DestinationKinds.Splunk => "DeliveryToSplunk",
            _ => "DeliveryToS3",
        };
        delivery.Metrics = metrics;
        return new DeliveryWorker($"Firehose {stream.Name}", Configuration(stream), delivery, position, log, _service.Clock, _warn);
    }

    private BufferedDelivery? NotYet(DeliveryStream stream, string why)
    {
        Once(stream, $"Firehose {stream.Name}: {why}; its records are kept until it is.");
        return null;
    }

    /// <summary>The Lambda processor's stage, if the destination has one; false (and a warning once) when no function runner is configured.</summary>
    private bool Transformation(DeliveryStream stream, RecordProcessing processing, out Transform.TransformStage? transform)
    {
        transform = null;
        if (processing.Lambda is not { } lambda)
            return true;
        if (_transforms is null)
        {
            NotYet(stream, "its Lambda processor needs the server's --transform-endpoint or --transform-command to run the function");
            return false;
        }
        transform = new Transform.TransformStage(_transforms, lambda, stream.Arn, _service.Options.Region, (string?)stream.KinesisSource?["KinesisStreamARN"]);
        return true;
    }

    /// <summary>The destination's processing, or null (and a warning once) when it asks for what is not run yet.</summary>
    private RecordProcessing? Processing(DeliveryStream stream)
    {
        RecordProcessing processing;
        try
        {
            processing = RecordProcessing.From(stream.Destination);
        }
        catch (FormatException e)
        {
            NotYet(stream, $"its processing cannot be run ({e.Message}) until its destination is updated");
            return null;
        }
        if (processing.NotRun.Count > 0)
        {
            NotYet(stream, $"the {string.Join(", ", processing.NotRun)} processor(s) are not run yet");
            return null;
        }
        return processing;
    }

    private static BufferingHints Hints(JsonObject destination) =>
        new((int?)(long?)destination["BufferingHints"]?["SizeInMBs"] ?? 5, (int?)(long?)destination["BufferingHints"]?["IntervalInSeconds"] ?? 300);

    private static ObjectCompression Compression(JsonObject s3) =>
        ObjectCompression.Named((string?)s3["CompressionFormat"] ?? "UNCOMPRESSED") ?? ObjectCompression.Uncompressed;

    /// <summary>Where an S3 configuration's objects go: its bucket in the S3-compatible store, or its directory.</summary>
    private IObjectStore Store(JsonObject s3, string? storageClass = null) => _s3Client is { } client
        ? new S3ObjectStore(client.Value, Bucket(s3), _s3!.Describe(), storageClass)
        : new FileDestination(Path.Combine(ObjectsRoot, Bucket(s3)));

    private BufferedDelivery? ToObjects(DeliveryStream stream, IRecordSource source, DeliveryPosition position)
    {
        var s3 = stream.Destination;
        var (prefix, errorPrefix) = S3Prefix.ForDestination((string?)s3["Prefix"], (string?)s3["ErrorOutputPrefix"]);
        if (Processing(stream) is not { } processing)
            return null;
        if (prefix.PartitionKeys.Any(k => k.FromLambda) && processing.Lambda is null)
            return NotYet(stream, "partitionKeyFromLambda needs a Lambda processor");
        if (!Transformation(stream, processing, out var transform))
            return null;
        ParquetConversion? conversion = null;
        if (s3["DataFormatConversionConfiguration"] is JsonObject format && format["Enabled"]?.GetValue<bool>() != false)
        {
            if (format["OutputFormatConfiguration"]?["Serializer"]?["OrcSerDe"] is not null)
                return NotYet(stream, "conversion to ORC is not served (Parquet is)");
            string database = (string?)format["SchemaConfiguration"]?["DatabaseName"] ?? "", table = (string?)format["SchemaConfiguration"]?["TableName"] ?? "";
            if (_schemas?.Invoke(database, table) is not { Count: > 0 } columns)
                return NotYet(stream, $"its format conversion needs the columns of {database}.{table} in the server's --schemas file");
            var parquet = format["OutputFormatConfiguration"]?["Serializer"]?["ParquetSerDe"];
            var codec = (string?)parquet?["Compression"] switch
            {
                "GZIP" => Parquet.CompressionMethod.Gzip,
                "UNCOMPRESSED" => Parquet.CompressionMethod.None,
                _ => Parquet.CompressionMethod.Snappy,
            };
            var openX = format["InputFormatConfiguration"]?["Deserializer"]?["OpenXJsonSerDe"];
            var mappings = (openX?["ColumnToJsonKeyMappings"] as JsonObject)?.ToDictionary(p => p.Key, p => (string?)p.Value ?? p.Key, StringComparer.Ordinal)
                ?? new Dictionary<string, string>(StringComparer.Ordinal);
            conversion = new ParquetConversion(columns, codec, openX?["CaseInsensitive"]?.GetValue<bool>() != false, mappings, database, table);
        }
        return new ObjectDelivery(stream.Name, stream.Version, source, Hints(s3), Store(s3), Compression(s3), position, prefix, errorPrefix, processing,
            kplSource: stream.Type == DeliveryStreamType.KinesisStreamAsSource, transform: transform, conversion: conversion);
    }

    private BufferedDelivery? ToEndpoint(DeliveryStream stream, IRecordSource source, DeliveryPosition position)
    {
        var config = stream.Destination;
        if (Processing(stream) is not { } processing || !Transformation(stream, processing, out var transform))
            return null;
        var endpoint = config["EndpointConfiguration"]!;
        var request = config["RequestConfiguration"];
        var attributes = (request?["CommonAttributes"] as JsonArray)?.OfType<JsonObject>()
            .ToDictionary(a => (string?)a["AttributeName"] ?? "", a => (string?)a["AttributeValue"] ?? "", StringComparer.Ordinal);
        var settings = new HttpEndpointSettings(new Uri((string)endpoint["Url"]!), stream.Arn, (string?)endpoint["AccessKey"], attributes,
            (string?)request?["ContentEncoding"] == "GZIP");
        var backup = config["S3Configuration"]!.AsObject();
        return new HttpEndpointDelivery(stream.Name, stream.Version, source, Hints(config), position, new HttpEndpointDestination(_http.Value, settings),
            TimeSpan.FromSeconds((long?)config["RetryOptions"]?["DurationInSeconds"] ?? 300), Store(backup), Compression(backup),
            S3Prefix.ForDestination((string?)backup["Prefix"], (string?)backup["ErrorOutputPrefix"]), (string?)config["S3BackupMode"] == "AllData", _warn,
            processing.Splitter(kpl: stream.Type == DeliveryStreamType.KinesisStreamAsSource), transform);
    }

    private BufferedDelivery? ToSplunk(DeliveryStream stream, IRecordSource source, DeliveryPosition position)
    {
        var config = stream.Destination;
        if (Processing(stream) is not { } processing || !Transformation(stream, processing, out var transform))
            return null;
        if (!Uri.TryCreate(((string?)config["HECEndpoint"] ?? "").TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("https" or "http"))
            return NotYet(stream, $"its HECEndpoint '{(string?)config["HECEndpoint"]}' is not an http(s) URL");
        // One channel per delivery stream, the same after a restart (the HEC keeps acknowledgements per channel).
        var channel = new Guid(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(stream.Arn)));
        var settings = new SplunkSettings(endpoint, (string?)config["HECEndpointType"] == "Raw", (string?)config["HECToken"],
            TimeSpan.FromSeconds((long?)config["HECAcknowledgmentTimeoutInSeconds"] ?? 180), channel);
        var backup = config["S3Configuration"]!.AsObject();
        var hints = new BufferingHints((int?)(long?)config["BufferingHints"]?["SizeInMBs"] ?? 5, (int?)(long?)config["BufferingHints"]?["IntervalInSeconds"] ?? 60);
        return new HttpEndpointDelivery(stream.Name, stream.Version, source, hints, position, new SplunkDestination(_http.Value, settings, _service.Clock),
            TimeSpan.FromSeconds((long?)config["RetryOptions"]?["DurationInSeconds"] ?? 3600), Store(backup), Compression(backup),
            S3Prefix.ForDestination((string?)backup["Prefix"], (string?)backup["ErrorOutputPrefix"]), (string?)config["S3BackupMode"] == "AllEvents", _warn,
            processing.Splitter(kpl: stream.Type == DeliveryStreamType.KinesisStreamAsSource), transform);
    }

    private BufferedDelivery? ToRedshift(DeliveryStream stream, IRecordSource source, DeliveryPosition position)
    {
        var config = stream.Destination;
        if (Processing(stream) is not { } processing || !Transformation(stream, processing, out var transform))
            return null;
        if (_redshiftEndpoint is not { } endpoint)
            return NotYet(stream, "Redshift destinations are loaded into PostgreSQL, and the server has no --redshift-endpoint to reach it");
        string url = (string)config["ClusterJDBCURL"]!;
        string database = url[(url.LastIndexOf('/') + 1)..];
        var copy = config["CopyCommand"]!;
        RedshiftCopy shape;
        try
        {
            shape = new RedshiftCopy((string)copy["DataTableName"]!, (string?)copy["DataTableColumns"], (string?)copy["CopyOptions"]);
        }
        catch (FormatException e)
        {
            return NotYet(stream, $"its CopyCommand cannot be run ({e.Message}) until its destination is updated");
        }
        var settings = new RedshiftSettings(endpoint.Host, endpoint.Port, database, (string?)config["Username"] ?? "", (string?)config["Password"] ?? "", shape,
            TimeSpan.FromSeconds((long?)config["RetryOptions"]?["DurationInSeconds"] ?? 3600));
        var staging = config["S3Configuration"]!.AsObject();
        return new RedshiftDelivery(stream.Name, stream.Version, source, Hints(staging), position, settings, Store(staging), Bucket(staging), Compression(staging),
            S3Prefix.ForDestination((string?)staging["Prefix"], (string?)staging["ErrorOutputPrefix"]), _warn,
            processing.Splitter(kpl: stream.Type == DeliveryStreamType.KinesisStreamAsSource), transform);
    }

    private BufferedDelivery? ToSearch(DeliveryStream stream, IRecordSource source, DeliveryPosition position)
    {
        var config = stream.Destination;
        if (Processing(stream) is not { } processing || !Transformation(stream, processing, out var transform))
            return null;
        bool serverless = stream.DestinationKind == DestinationKinds.OpenSearchServerless;
        Uri? endpoint = (string?)config[serverless ? "CollectionEndpoint" : "ClusterEndpoint"] is { } cluster ? new Uri(cluster.TrimEnd('/') + "/")
            : (string?)config["DomainARN"] is { } domain && _searchEndpoint is { } template
                ? new Uri(template.Replace("{domain}", domain.Split("domain/", 2)[^1], StringComparison.Ordinal).TrimEnd('/') + "/")
                : null;
        if (endpoint is null)
            return NotYet(stream, serverless ? "it names no CollectionEndpoint" : "its domain is named by DomainARN, and the server has no --search-endpoint to reach it");
        var backup = config["S3Configuration"]!.AsObject();
        // A serverless collection has no index rotation or types, and takes no ids of ours (time-series collections refuse them).
        var settings = new SearchSettings(endpoint, (string)config["IndexName"]!, serverless ? null : (string?)config["TypeName"],
            serverless ? "NoRotation" : (string?)config["IndexRotationPeriod"] ?? "OneDay",
            !serverless && (string?)config["DocumentIdOptions"]?["DefaultDocumentIdFormat"] != "NO_DOCUMENT_ID",
            TimeSpan.FromSeconds((long?)config["RetryOptions"]?["DurationInSeconds"] ?? 300),
            stream.DestinationKind switch
            {
                DestinationKinds.OpenSearch => "AmazonOpenSearchService-failed",
                DestinationKinds.OpenSearchServerless => "AmazonOpenSearchServerless-failed",
                _ => "elasticsearch-failed",
            },
            (string?)config["S3BackupMode"] == "AllDocuments");
        return new SearchDelivery(stream.Name, stream.Version, source, Hints(config), position, _http.Value, settings, Store(backup), Compression(backup),
            S3Prefix.ForDestination((string?)backup["Prefix"], (string?)backup["ErrorOutputPrefix"]), _warn,
            processing.Splitter(kpl: stream.Type == DeliveryStreamType.KinesisStreamAsSource), transform);
    }

    /// <summary>
    /// The client of HTTP endpoints: HTTPS only (the model's pattern), certificates checked against the system's roots
    /// and <paramref name="trust"/>, the name always checked. No overall timeout: each request has its own.
    /// </summary>
    private static HttpClient EndpointClient(System.Security.Cryptography.X509Certificates.X509Certificate2Collection? trust)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (trust is { Count: > 0 })
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                    return true;
                if (certificate is null || errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch)
                    || errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable))
                    return false;
                using var custom = new System.Security.Cryptography.X509Certificates.X509Chain();
                custom.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(trust);
                custom.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                if (chain is not null)
                    custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
                return custom.Build(new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate));
            };
        }
        return new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    /// <summary>The bucket's name from its ARN (<c>arn:aws:s3:::NAME</c>, the model's pattern).</summary>
    public static string Bucket(JsonObject s3) => ((string)s3["BucketARN"]!).Split(":::", 2)[^1];

    private void Once(DeliveryStream stream, string message)
    {
        lock (_warned)
            if (!_warned.Add((stream.Name, stream.Version)))
                return;
        _warn(message);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        foreach (var worker in _workers.Values)
            await worker.DisposeAsync().ConfigureAwait(false);
        _workers.Clear();
        if (_s3Client is { IsValueCreated: true } client)
            client.Value.Dispose();
        if (_http.IsValueCreated)
            _http.Value.Dispose();
        _stop.Dispose();
        _reconcile.Dispose();
    }
}
