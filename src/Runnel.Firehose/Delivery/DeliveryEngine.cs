using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Runnel.Firehose.Api;
using Runnel.Firehose.Catalog;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// Runs the delivery of every delivery stream, on the node that leads (every node on its own; the elected one on a
/// cluster): one <see cref="DeliveryWorker"/> per ACTIVE DirectPut stream whose destination is delivered, started
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

    /// <param name="objectsRoot">Where S3 destinations' buckets are directories, when <paramref name="s3"/> is null.</param>
    /// <param name="s3">The S3-compatible store S3 destinations deliver to; null for <paramref name="objectsRoot"/>.</param>
    public DeliveryEngine(FirehoseService service, string objectsRoot, Func<bool>? leads = null, Action<string>? warn = null, S3Settings? s3 = null)
    {
        _service = service;
        ObjectsRoot = Path.GetFullPath(objectsRoot);
        _s3 = s3;
        _s3Client = s3 is null ? null : new Lazy<Amazon.S3.IAmazonS3>(s3.CreateClient);
        _leads = leads ?? (() => true);
        _warn = warn ?? (_ => { });
        service.Catalog.Changed += (_, _) => Reconcile();
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
        if (_reconcile.CurrentCount == 0)
        {
            try
            {
                _reconcile.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
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
            ? _service.Catalog.All().Where(s => s.Status == DeliveryStreamStatus.Active && s.Type == DeliveryStreamType.DirectPut && s.LogId is not null)
                .ToDictionary(s => s.Name, StringComparer.Ordinal)
            : [];
        foreach (var (name, worker) in _workers)
        {
            if (wanted.TryGetValue(name, out var stream) && stream.Version == worker.Stream.Version && stream.LogId == worker.Stream.LogId)
                continue;
            if (_workers.TryRemove(name, out var stopped))
                await stopped.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var stream in wanted.Values)
        {
            if (_workers.ContainsKey(stream.Name) || Start(stream) is not { } worker)
                continue;
            _workers[stream.Name] = worker;
        }
    }

    private DeliveryWorker? Start(DeliveryStream stream)
    {
        if (!DestinationKinds.IsS3(stream.DestinationKind))
        {
            Once(stream, $"Firehose {stream.Name}: {stream.DestinationKind} destinations are not delivered yet; its records are kept until they are.");
            return null;
        }
        var s3 = stream.Destination;
        var hints = new BufferingHints((int?)(long?)s3["BufferingHints"]?["SizeInMBs"] ?? 5, (int?)(long?)s3["BufferingHints"]?["IntervalInSeconds"] ?? 300);
        var compression = ObjectCompression.Named((string?)s3["CompressionFormat"] ?? "UNCOMPRESSED") ?? ObjectCompression.Uncompressed;
        var (prefix, _) = S3Prefix.ForDestination((string?)s3["Prefix"], (string?)s3["ErrorOutputPrefix"]);
        if (prefix.HasPartitionKeys)
        {
            Once(stream, $"Firehose {stream.Name}: dynamic partitioning is not delivered yet; its records are kept until it is.");
            return null;
        }
        var log = _service.Logs.Open(stream.LogId!.Value, 0);
        var position = DeliveryPosition.Load(_service.Metadata, stream.Name);
        IObjectStore destination = _s3Client is { } client
            ? new S3ObjectStore(client.Value, Bucket(s3), _s3!.Describe())
            : new FileDestination(Path.Combine(ObjectsRoot, Bucket(s3)));
        var delivery = new DirectPutDelivery(stream.Name, stream.Version, log, hints, destination, compression, position, prefix);
        return new DeliveryWorker(stream, delivery, position, log, _service.Clock, _warn);
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
        _stop.Dispose();
        _reconcile.Dispose();
    }
}
