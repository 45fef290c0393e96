using Runnel.Core.Errors;
using Runnel.Core.Iterators;
using Runnel.Core.Model;
using Runnel.Storage;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Streams;

/// <summary>
/// The streams of one account as the handlers see them: the <see cref="StreamCatalog"/> of their metadata, the
/// <see cref="ShardRegistry"/> of their shards, the shard-iterator codec, and the one clock. It starts the
/// timers that move streams through their timed states. Knows nothing of HTTP or wire formats, nor of how
/// the shard logs are stored (<see cref="IShardStore"/>).
/// <para>Thread-safety: every member is thread-safe.</para>
/// </summary>
public sealed class StreamService : IDisposable
{
    private readonly TimeProvider _clock;
    private readonly ITimer _transitions;

    /// <param name="sweepOrphans">Whether logs that no stored stream names are deleted now (left by a crash during a
    /// delete); not where another node may be creating a stream this one has not loaded (see <see cref="SweepOrphans"/>).</param>
    /// <param name="leads">Whether this node does the once-only work now (the timed transitions of streams and
    /// consumers): always on one node; on a cluster, while it holds the lease.</param>
    public StreamService(RunnelOptions options, IMetadataStore metadata, IShardStore store, TimeProvider clock, Action<string>? warn = null, bool sweepOrphans = true,
        Func<bool>? leads = null, ISubscriptionClaims? subscriptionClaims = null)
    {
        Options = options;
        Metrics = new Runnel.Core.Metrics.MetricRegistry(options.Metrics);
        _clock = clock;
        _metadata = metadata;
        _store = store;
        Shards = new ShardRegistry(store, options.Limits, () => PreciseNowMillis);
        var loaded = metadata.Load();
        Catalog = new StreamCatalog(options, metadata, loaded, Shards, clock, warn ?? (_ => { }), sweepOrphans, leads);
        Account = new AccountSettings(metadata, clock, options.CommitmentPeriod, warn);
        Consumers = new ConsumerRegistry(metadata, options, clock, loaded, stream => SettingsOf(Catalog.AccountOf(stream.Name)), leads);
        Iterators = new ShardIteratorCodec(metadata.GetOrCreateSecret("shard-iterator-key", 32));
        Scalings = new ScalingAllowance(clock);
        Subscriptions = new SubscriptionRegistry(options.Limits, clock, subscriptionClaims);
        _transitions = clock.CreateTimer(_ => AdvanceTransitions(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        _warn = warn ?? (_ => { });
        metadata.Follow(Apply); // on a cluster, what other nodes change; the embedded store has no other node
    }

    private readonly Action<string> _warn;
    private readonly IMetadataStore _metadata;
    private readonly IShardStore _store;

    /// <summary>Makes every due status change of streams and consumers (where this node leads).</summary>
    private void AdvanceTransitions()
    {
        Catalog.AdvanceTransitions();
        try
        {
            Consumers.AdvanceTransitions(Catalog.Holds);
        }
        catch (Exception e)
        {
            _warn($"Consumer status update failed: {e.Message}; it is tried again.");
        }
    }

    /// <summary>
    /// Deletes the logs of streams that are stored no more (left by a node that died between deleting a stream's
    /// metadata and its logs), while other nodes may be creating streams: a log is an orphan only if the store
    /// itself, not this node's copy, holds no stream of its id. A stream's metadata is stored before any of its logs
    /// is made, and ids are never reused. Returns the streams whose logs were deleted.
    /// </summary>
    public IReadOnlyList<long> SweepOrphans()
    {
        var known = Catalog.All.Select(s => s.Id).ToHashSet();
        var candidates = _store.OrphanedStreams(known).ToList();
        var claimed = candidates.Count == 0 ? null : LogOwners.Ids(_metadata); // read after the logs were listed: a claim precedes its log
        var orphans = candidates.Where(id => !claimed!.Contains(id) && !_metadata.Holds(id)).ToList();
        foreach (long orphan in orphans)
            Shards.DeleteStream(orphan);
        return orphans;
    }

    /// <summary>Applies a change another node of the cluster made to the metadata this node holds in memory.</summary>
    private void Apply(MetadataChange change)
    {
        try
        {
            switch (change)
            {
                case MetadataChange.StreamSaved saved:
                    Catalog.Apply(saved.Stream);
                    break;
                case MetadataChange.StreamDeleted deleted:
                    if (Catalog.ApplyDeleted(deleted.StreamId))
                        Consumers.Forget(deleted.StreamId);
                    break;
                case MetadataChange.ConsumerSaved consumer:
                    Consumers.Apply(consumer.Consumer);
                    break;
                case MetadataChange.ConsumerDeleted consumer:
                    Consumers.ApplyDeleted(consumer.StreamId, consumer.ConsumerId);
                    break;
                case MetadataChange.SettingWritten setting when AccountSettings.AccountOfSetting(setting.Name, AccountId) is { } account:
                    SettingsOf(account).Apply(setting.Value);
                    break;
                case MetadataChange.DocumentWritten or MetadataChange.DocumentDeleted:
                    DocumentChanged?.Invoke(change);
                    break;
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            _warn($"A change another node made ({change.GetType().Name}) was not applied here: {e.Message}. Restart this node to load the metadata afresh.");
        }
    }

    public RunnelOptions Options { get; }

    /// <summary>Raised when another node wrote or deleted a metadata document (the services that keep documents follow them here).</summary>
    public event Action<MetadataChange>? DocumentChanged;

    /// <summary>Every stream's metadata, cached and persisted.</summary>
    public StreamCatalog Catalog { get; }

    /// <summary>The component of every shard in use: its log, throughput and append signal.</summary>
    public ShardRegistry Shards { get; }

    /// <summary>The account's settings (the minimum throughput billing commitment).</summary>
    public AccountSettings Account { get; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AccountSettings> _otherAccounts = new(StringComparer.Ordinal);

    /// <summary>The settings of <paramref name="account"/>: <see cref="Account"/> for the server's own, each other account's its own (read when first asked for).</summary>
    public AccountSettings SettingsOf(string account) => account == AccountId
        ? Account
        : _otherAccounts.GetOrAdd(account, a => new AccountSettings(_metadata, _clock, Options.CommitmentPeriod, _warn, AccountSettings.SettingNameOf(a, AccountId)));

    /// <summary>The consumers registered with the streams (enhanced fan-out).</summary>
    public ConsumerRegistry Consumers { get; }

    /// <summary>The live SubscribeToShard subscriptions and each consumer's read budget per shard.</summary>
    public SubscriptionRegistry Subscriptions { get; }

    /// <summary>UpdateShardCount's daily allowance per stream.</summary>
    public ScalingAllowance Scalings { get; }

    /// <summary>Signs and checks shard iterators; its key persists in the metadata store so iterators survive a restart.</summary>
    public ShardIteratorCodec Iterators { get; }

    public string AccountId => Options.AccountId;

    /// <summary>The server's one clock.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>The metrics the data plane records (docs/adr/0003-observability.md).</summary>
    public Runnel.Core.Metrics.MetricRegistry Metrics { get; }

    public DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>Now in Unix milliseconds with a fraction, for the throughput buckets.</summary>
    public double PreciseNowMillis => PreciseMillis(Now);

    /// <summary>A time in Unix milliseconds with a fraction, the unit of the token buckets.</summary>
    public static double PreciseMillis(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerMillisecond;

    public string ArnOf(string streamName) => Catalog.ArnOf(streamName);

    public IEnumerable<StreamInfo> All => Catalog.All;

    /// <summary>The stream whose log id is <paramref name="id"/>, or null (a scan: for rare lookups, such as a data key not yet unwrapped).</summary>
    public StreamInfo? FindById(long id) => Catalog.All.FirstOrDefault(s => s.Id == id);

    /// <summary>The data keys of encrypted streams (null where the store is not wrapped for encryption, as in some tests).</summary>
    public Encryption.LogKeyring? Keyring { get; init; }

    /// <summary>On a cluster, returns once this node has every metadata change other nodes made before the call (at
    /// most <see cref="StreamCatalog.CatchUpBudget"/>); at once on one node. See <see cref="IMetadataStore.CatchUp"/>.</summary>
    public void CatchUp() => Caught(_metadata.CatchUp(StreamCatalog.CatchUpBudget));

    /// <summary>
    /// <see cref="CatchUp"/> without holding a thread while it waits: what request handlers use. The request's later
    /// lookups that miss do not wait again (<see cref="RequestCatchUp"/>).
    /// </summary>
    public ValueTask CatchUpAsync()
    {
        RequestCatchUp.Mark(); // here, in a method that is not async: the caller's flow keeps the mark
        return WaitAsync();

        async ValueTask WaitAsync() => Caught(await _metadata.CatchUpAsync(StreamCatalog.CatchUpBudget).ConfigureAwait(false));
    }

    private void Caught(bool caughtUp)
    {
        if (!caughtUp)
            _warn($"This node did not catch up with the other nodes' metadata changes within {StreamCatalog.CatchUpBudget.TotalSeconds:0} s; it answered from what it holds. Check the NATS servers' load and this node's connection to them.");
    }

    /// <summary>Whether other nodes share this node's metadata (a cluster): then a name it does not know may be one
    /// another node created a moment ago.</summary>
    public bool SharesMetadata => _metadata.Shared;

    /// <summary>The stream by name, with any due status change applied; throws ResourceNotFoundException.</summary>
    public StreamInfo Get(string name) => Catalog.Get(name);

    public StreamInfo? Find(string name) => Catalog.Find(name);

    /// <summary>The component of one shard of <paramref name="stream"/>.</summary>
    public Shard Shard(StreamInfo stream, ShardInfo shard) => Shards.Get(stream, shard);

    public int OpenShardCount => Catalog.OpenShardCount;

    public KinesisException ShardLimitExceeded(int open, int additional, string account) => Catalog.ShardLimitExceeded(open, additional, account);

    /// <summary>The open shards of one account's streams (its shard limit's count).</summary>
    public int OpenShardCountIn(string account) => Catalog.OpenShardCountIn(account);

    /// <summary>The name <paramref name="account"/>'s stream <paramref name="name"/> is held under (<see cref="StreamNames"/>).</summary>
    public string KeyOf(string account, string name) => StreamNames.Qualify(account, name, AccountId);

    /// <summary>The account of the stream held under <paramref name="streamName"/> (<see cref="StreamNames"/>).</summary>
    public string AccountOf(string streamName) => Catalog.AccountOf(streamName);

    public StreamInfo Create(string name, int shardCount, StreamMode mode, IReadOnlyDictionary<string, string> tags, int maxRecordSizeKiB = StreamInfo.DefaultMaxRecordSizeKiB,
        Func<StreamInfo, StreamInfo>? configure = null) =>
        Catalog.Create(name, shardCount, mode, tags, maxRecordSizeKiB, configure);

    public void Delete(string name) => Catalog.Delete(name);

    /// <summary>Applies a change to a stream atomically and persists it.</summary>
    public StreamInfo Update(string name, Func<StreamInfo, StreamInfo> change) => Catalog.Update(name, change);

    /// <summary>
    /// A reshard (<see cref="StreamCatalog.Reshard"/>), the one path for the API's and the on-demand scaler's: the logs
    /// of the shards it will close (<paramref name="closing"/>, as the stream is now) are opened first, outside the
    /// catalog's lock (<see cref="OpenBeforeReshardAsync"/>); then <paramref name="plan"/> runs under it.
    /// </summary>
    public async ValueTask<StreamInfo> ReshardAsync(string name, Func<StreamInfo, IEnumerable<ShardInfo>> closing, Func<StreamInfo, ReshardPlan> plan)
    {
        await OpenBeforeReshardAsync(name, closing).ConfigureAwait(false);
        return Catalog.Reshard(name, plan);
    }

    /// <summary>
    /// Opens the logs of the shards a reshard is about to close, before the reshard takes the catalog's lock:
    /// closing writes a marker at the end of each, and on a cluster a shard that never took a record has no JetStream
    /// stream yet; creating one (replicated) took seconds on a loaded machine, and other nodes' changes could not be
    /// applied here meanwhile. Only a preparation: a stream or shard that is not there, or a log that does not open,
    /// is left for the reshard itself to report.
    /// </summary>
    private async ValueTask OpenBeforeReshardAsync(string name, Func<StreamInfo, IEnumerable<ShardInfo>> parents)
    {
        if (Catalog.Peek(name) is not { } stream)
            return;
        try
        {
            foreach (var shard in parents(stream))
                await Shards.Get(stream, shard).OpenAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or KinesisException)
        {
            // the reshard reports it, in AWS's order
        }
    }

    /// <summary>Marks a stream UPDATING for the configured delay (or not at all when it is zero).</summary>
    public StreamInfo BeginUpdate(StreamInfo stream) => Catalog.BeginUpdate(stream);

    /// <summary>Frees the space of expired records in every shard; called periodically by the host. A shard whose
    /// storage fails is passed over and the pass goes on; the first such failure is thrown at the end.</summary>
    public void EnforceRetention()
    {
        IOException? first = null;
        foreach (var stream in All)
        {
            long cutoff = (Now - TimeSpan.FromHours(stream.RetentionHours)).ToUnixTimeMilliseconds();
            // Shards closed before they took a record (the intermediates of UpdateShardCount) have no log to trim.
            foreach (var shard in stream.Shards.Where(s => s.EndOffset is not 0))
            {
                try
                {
                    Shards.Get(stream, shard).EnforceRetention(cutoff);
                }
                catch (IOException e)
                {
                    first ??= e; // one shard's storage not answering does not keep the others' expired records
                }
            }
        }
        if (first is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw(); // with its own stack
    }

    public void Dispose() => _transitions.Dispose();
}
