using Runnel.Firehose.Catalog;
using Runnel.Storage;
using Runnel.Storage.Metadata;

namespace Runnel.Firehose.Api;

/// <summary>
/// Firehose as the handlers see it: the settings, the catalog of delivery streams, the stores their logs and
/// positions live in, and the one clock. Knows nothing of HTTP. Thread-safe.
/// </summary>
public sealed class FirehoseService : IDisposable
{
    private readonly ITimer _transitions;
    private readonly Action<string>? _warn;

    /// <param name="leads">Whether this node does the once-only work now (storing due status changes): always on one
    /// node; on a cluster, while it holds the lease.</param>
    public FirehoseService(FirehoseOptions options, IMetadataStore metadata, IShardStore logs, TimeProvider clock, Action<string>? warn = null, Func<bool>? leads = null)
    {
        Options = options;
        _warn = warn;
        Metadata = metadata;
        Logs = logs;
        Clock = clock;
        Catalog = new DeliveryStreamCatalog(metadata, clock, warn);
        // A DirectPut stream deleted here or on another node: this node's handles on its log go (on a cluster, a node
        // that had read it went on asking JetStream for the deleted log's tip every second).
        Catalog.Removed += stream =>
        {
            if (stream.LogId is { } log)
                logs.ForgetStream(log);
        };
        Channels = new Channels.ChannelService(this, warn);
        _transitions = clock.CreateTimer(_ =>
        {
            try
            {
                if (leads?.Invoke() != false)
                {
                    Catalog.AdvanceTransitions();
                    Channels.Catalog.AdvanceTransitions();
                }
            }
            catch (Exception e)
            {
                // A timer's callback must not throw (the process would end); the next tick tries again.
                warn?.Invoke($"Delivery stream status update failed ({e.GetType().Name}: {e.Message}); it is tried again.");
            }
        }, null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public void Dispose() => _transitions.Dispose();

    public FirehoseOptions Options { get; }
    public IMetadataStore Metadata { get; }
    public IShardStore Logs { get; }
    public TimeProvider Clock { get; }
    public DeliveryStreamCatalog Catalog { get; }

    /// <summary>Kinesis channels (served on the Kinesis target, delivered by the same engine).</summary>
    public Channels.ChannelService Channels { get; }

    /// <summary>The account's Kinesis stream of this name as it is now, or null (set by the server): a Kinesis source
    /// must exist, and its shards are read through it.</summary>
    public Func<string, Runnel.Core.Model.StreamInfo?>? FindStream { get; set; }

    /// <summary>The data keys DirectPut streams' buffered records are sealed under while their encryption is on (set by the
    /// server); null where records are stored as they are.</summary>
    public Runnel.Storage.Encryption.IDataKeys? Keys { get; init; }

    /// <summary>Where puts report their writes (set by the server): a full or read-only disk is then told apart from a bug,
    /// logged with its remedy and shown by <c>/health</c>. Without one, a put classifies the failure itself.</summary>
    public Runnel.Storage.IWriteHealth? Health { get; set; }

    /// <summary>Where Firehose's metrics are recorded (the server's registry; by default one that records nothing).</summary>
    public Runnel.Core.Metrics.MetricRegistry Metrics { get; init; } = new(enabled: false);

    /// <summary>
    /// Stores a new delivery stream, its log claimed first (<see cref="LogOwners"/>) so that no orphan sweep takes it;
    /// false when one of that name exists.
    /// </summary>
    public bool TryCreate(DeliveryStream stream)
    {
        if (stream.LogId is { } log)
            LogOwners.Claim(Metadata, log, $"{DeliveryStreamCodec.Kind}/{stream.Name}");
        if (Catalog.TryCreate(stream))
            return true;
        if (stream.LogId is { } unused)
            LogOwners.Release(Metadata, unused);
        return false;
    }

    /// <summary>
    /// Deletes a delivery stream: its description first (so nothing appends to its log any more), then its position and
    /// its log. A crash between them leaves a log no stream names, which the orphan sweep removes at the next start.
    /// </summary>
    public void Delete(DeliveryStream stream)
    {
        Catalog.Delete(stream.Name);
        Metadata.DeleteDocument(Delivery.DeliveryPosition.Kind, stream.Name);
        if (stream.LogId is { } log)
        {
            try
            {
                Logs.DeleteStream(log);
            }
            catch (StorageUnavailableException e)
            {
                // The stream is deleted (its description is gone): the claim goes too, so that the elected node's sweep
                // of orphaned logs deletes the log.
                _warn?.Invoke($"Delivery stream {stream.Name} is deleted, but its log (id {log}) could not be deleted yet ({e.Message}); the elected node's sweep deletes it within a minute.");
            }
            LogOwners.Release(Metadata, log);
        }
    }

    /// <summary>Raised after records were appended to a DirectPut stream's log here, with its name: the delivery engine wakes.</summary>
    public event Action<string>? RecordsAppended;

    internal void Appended(string name) => RecordsAppended?.Invoke(name);

    public long NowMillis => Clock.GetUtcNow().ToUnixTimeMilliseconds();
}
