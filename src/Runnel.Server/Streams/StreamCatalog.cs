using System.Collections.Concurrent;
using System.Collections.Frozen;
using Runnel.Core.Errors;
using Runnel.Core.Iterators;
using Runnel.Core.Model;
using Runnel.Core.Throughput;
using Runnel.Storage;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Streams;

/// <summary>
/// The streams of one account as metadata: cached in memory, persisted to the metadata store on every change,
/// and moved through their timed states (CREATING, UPDATING, DELETING) when they are read or when
/// <see cref="AdvanceTransitions"/> runs. Deleting a stream deletes its shards through the registry.
/// <para>Thread-safety: lookups are lock-free reads of immutable <see cref="StreamInfo"/> values;
/// changes take <c>_changes</c> so that read-modify-write of a stream is atomic and the store sees
/// changes in order.</para>
/// </summary>
public sealed class StreamCatalog
{
    private readonly RunnelOptions _options;
    private readonly IMetadataStore _metadata;
    private readonly ShardRegistry _shards;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, StreamInfo> _streams = new(StringComparer.Ordinal);
    private readonly Lock _changes = new();
    private readonly ConcurrentQueue<StreamInfo> _removed = new(); // taken out under _changes; logs deleted after (DeleteRemovedLogs)
    private readonly Action<string> _warn;
    // Names of streams whose rows are damaged: not served, but not free for CreateStream either.
    private readonly FrozenSet<string> _damagedNames;
    private readonly Func<bool> _leads;

    /// <param name="leads">Whether this node moves streams through their timed states now: always on one node; on a
    /// cluster, only the holder of the lease, so that each transition (a reshard switch above all) happens once.</param>
    public StreamCatalog(RunnelOptions options, IMetadataStore metadata, LoadedMetadata loaded, ShardRegistry shards, TimeProvider clock, Action<string> warn, bool sweepOrphans = true,
        Func<bool>? leads = null)
    {
        _leads = leads ?? (() => true);
        _options = options;
        _metadata = metadata;
        _shards = shards;
        _clock = clock;
        _warn = warn;
        foreach (var stream in loaded.Streams)
            _streams[stream.Name] = stream;
        _damagedNames = loaded.Damaged.Where(d => d.Name is not null).Select(d => d.Name!).ToFrozenSet(StringComparer.Ordinal);
        foreach (var damaged in loaded.Damaged)
            _warn($"Stream {damaged.Name ?? "(name unreadable)"} (id {damaged.Id}) is not served: its metadata in {metadata.Location} is damaged ({damaged.Problem}). " +
                (options.Nats is null ? $"Its records stay on disk. Stop Runnel, back up the data directory, then run 'runnel repair --data-dir {Path.GetFullPath(options.DataDir)}'." : "Its records stay in JetStream."));
        foreach (string problem in loaded.UnattributedProblems)
            _warn($"Damaged row in {metadata.Location}: {problem}. Run 'runnel repair' when Runnel is stopped.");
        // A stream directory is an orphan only if no row names it: the logs of a damaged stream are kept for repair.
        if (sweepOrphans)
            shards.DeleteOrphans(loaded.StreamIds.Concat(LogOwners.Ids(metadata)).ToHashSet());
    }

    public string AccountId => _options.AccountId;

    public DateTimeOffset Now => _clock.GetUtcNow();

    public IEnumerable<StreamInfo> All => _streams.Values.Select(Resolve).Where(s => s is not null).Select(s => s!);

    /// <summary>The ARN of a stream held under <paramref name="streamName"/>: of its own account (<see cref="StreamNames"/>).</summary>
    public string ArnOf(string streamName) => StreamArn.Format(_options.Region, AccountOf(streamName), StreamNames.Plain(streamName));

    /// <summary>The account of the stream held under <paramref name="streamName"/>.</summary>
    public string AccountOf(string streamName) => StreamNames.AccountOf(streamName, _options.AccountId);

    /// <summary>How long a lookup that finds nothing waits for other nodes' changes to arrive before it says so.</summary>
    public static readonly TimeSpan CatchUpBudget = TimeSpan.FromSeconds(2);

    /// <summary>The stream by name, with any due status change applied; throws ResourceNotFoundException.</summary>
    public StreamInfo Get(string name) => Find(name) ?? throw KinesisErrors.StreamNotFound(name, AccountId);

    /// <summary>The stream by name, with any due status change applied, or null. On a cluster a name this node does not
    /// know is looked up again once it has every change other nodes made before (<see cref="IMetadataStore.CatchUp"/>),
    /// so a stream created through another node a moment ago is found; unless the request caught up already
    /// (<see cref="RequestCatchUp"/>).</summary>
    public StreamInfo? Find(string name)
    {
        if (Known(name) is { } current)
            return current;
        return !RequestCatchUp.Done && _metadata.CatchUp(CatchUpBudget) ? Known(name) : null;
    }

    /// <summary>The stream by name as this node holds it now, or null: no status change applied, no waiting for other
    /// nodes' changes (for the endpoint, to decide whether a request needs to catch up first).</summary>
    public StreamInfo? Peek(string name) => _streams.TryGetValue(name, out var s) ? s : null;

    /// <summary>The stream as this node holds it now, without waiting for other nodes' changes: for callers that
    /// hold <c>_changes</c>, which applying those changes takes. The changes below are asked for by control-plane
    /// calls, which the endpoint has caught up with other nodes already (KinesisEndpoint), or by the on-demand
    /// scaler for a stream it holds.</summary>
    private StreamInfo? Known(string name) => _streams.TryGetValue(name, out var s) ? Resolve(s) : null;

    private StreamInfo Held(string name) => Known(name) ?? throw KinesisErrors.StreamNotFound(name, AccountId);

    /// <summary>The open shards of every account's streams.</summary>
    public int OpenShardCount => All.Sum(s => s.Status == StreamStatus.Deleting ? 0 : s.OpenShards.Count());

    /// <summary>The open shards of one account's streams: what its shard limit counts, as on AWS.</summary>
    public int OpenShardCountIn(string account) =>
        All.Where(s => AccountOf(s.Name) == account).Sum(s => s.Status == StreamStatus.Deleting ? 0 : s.OpenShards.Count());

    /// <summary>AWS's message for a request that would take the account past its open-shard limit.</summary>
    public KinesisException ShardLimitExceeded(int open, int additional, string account) =>
        KinesisErrors.LimitExceeded(
            $"This request would exceed the shard limit for the account {account} in {_options.Region}. " +
            $"Current shard count for the account: {open}. Limit: {_options.ShardLimit}. " +
            $"Number of additional shards that would have resulted from this request: {additional}. " +
            "Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.");

    public StreamInfo Create(string name, int shardCount, StreamMode mode, IReadOnlyDictionary<string, string> tags, int maxRecordSizeKiB = StreamInfo.DefaultMaxRecordSizeKiB,
        Func<StreamInfo, StreamInfo>? configure = null)
    {
        lock (_changes)
        {
            if (Known(name) is not null)
                throw KinesisErrors.StreamExists(name, AccountId);
            if (_damagedNames.Contains(name))
                throw KinesisErrors.StreamDamaged(name, AccountId);
            int open = OpenShardCountIn(AccountOf(name));
            if ((long)open + shardCount > _options.ShardLimit) // long: a ShardCount near 2^31 must not overflow past the check
                throw ShardLimitExceeded(open, shardCount, AccountOf(name));
            var now = Now;
            var ranges = HashKeyRange.SplitEvenly(shardCount);
            var shards = new ShardInfo[shardCount];
            for (int i = 0; i < shardCount; i++)
                shards[i] = new ShardInfo(i, ranges[i], 0, null, null, null, now, null);
            bool delayed = _options.CreateStreamDelay > TimeSpan.Zero;
            var stream = new StreamInfo(
                name,
                _metadata.NextSequence("stream"),
                delayed ? StreamStatus.Creating : StreamStatus.Active,
                mode,
                24,
                now,
                delayed ? now + _options.CreateStreamDelay : null,
                shards,
                new Dictionary<string, string>(tags, StringComparer.Ordinal),
                [],
                0)
            { MaxRecordSizeKiB = maxRecordSizeKiB };
            stream = configure?.Invoke(stream) ?? stream;
            stream = _metadata.Save(stream);
            _streams[name] = stream;
            return stream;
        }
    }

    public void Delete(string name) => Change(() =>
    {
        var stream = Held(name);
        if (stream.Status == StreamStatus.Deleting)
            return stream;
        if (_options.DeleteStreamDelay > TimeSpan.Zero)
            return Decide(name, current => current.Status == StreamStatus.Deleting ? current : current with { Status = StreamStatus.Deleting, StatusUntil = Now + _options.DeleteStreamDelay });
        Remove(stream);
        return stream;
    });

    /// <summary>Applies a change to a stream atomically and persists it.</summary>
    public StreamInfo Update(string name, Func<StreamInfo, StreamInfo> change)
    {
        lock (_changes)
            return Decide(name, change);
    }

    /// <summary>
    /// Reshards a stream: <paramref name="plan"/> sees the current stream (and throws AWS's error when a
    /// precondition fails). The plan is stored with the stream, UPDATING, before any parent closes: of two nodes
    /// resharding one stream at once only one plan is stored (the other is decided again on it), and a node that
    /// dies half-way leaves a plan that the leading node finishes. With an update delay the stream stays UPDATING
    /// for it, as on AWS: the parents stay open and take the writes, and the plan takes effect when the stream
    /// returns to ACTIVE. Without one this node makes the switch at once (<see cref="ApplyReshard"/>): readers on
    /// the node that leads wait for it (<see cref="Resolve"/> takes the same lock), so one node never shows the
    /// stream UPDATING; other nodes of a cluster may, for the moment the switch takes to reach them.
    /// </summary>
    public StreamInfo Reshard(string name, Func<StreamInfo, ReshardPlan> plan) => Change(() =>
    {
        if (_options.UpdateStreamDelay > TimeSpan.Zero)
            return Decide(name, stream => BeginUpdate(stream) with { PendingReshard = plan(stream) });
        var pending = Decide(name, stream => stream with { Status = StreamStatus.Updating, StatusUntil = Now, PendingReshard = plan(stream) });
        return Finish(pending) ?? throw KinesisErrors.StreamNotFound(name, AccountId); // (Finish removes a stream another node was deleting)
    });

    /// <summary>
    /// The stream with <paramref name="plan"/> applied now: the logs of the shards it closes are closed first, so
    /// that every acknowledged record lies below the end offset recorded for its shard; the caller then stores
    /// the new lineage in one transaction. A crash before the store leaves the stream as it was; after it, as it
    /// will be. Caller holds <c>_changes</c>.
    /// </summary>
    private StreamInfo ApplyReshard(StreamInfo stream, ReshardPlan plan)
    {
        var now = Now;
        return Resharding.Apply(stream, Resharding.At(plan, stream, now), shard => _shards.Get(stream, shard).Close(), now);
    }

    /// <summary>Marks a stream UPDATING for the configured delay (or not at all when it is zero).</summary>
    public StreamInfo BeginUpdate(StreamInfo stream) =>
        _options.UpdateStreamDelay > TimeSpan.Zero
            ? stream with { Status = StreamStatus.Updating, StatusUntil = Now + _options.UpdateStreamDelay }
            : stream;

    /// <summary>
    /// Decides a change from the stream as this node holds it and stores it; when another node changed the stream
    /// meanwhile (a cluster), adopts what is stored and decides again, so that neither change is lost. Caller holds
    /// <c>_changes</c>; <paramref name="change"/> may run more than once and throws AWS's errors as it finds them.
    /// </summary>
    private StreamInfo Decide(string name, Func<StreamInfo, StreamInfo> change)
    {
        for (int attempt = 0; ; attempt++)
        {
            var next = change(Held(name));
            try
            {
                return Save(next);
            }
            catch (MetadataConflictException conflict) when (attempt < 20)
            {
                Adopt(name, conflict);
            }
        }
    }

    /// <summary>Takes the stream as another node stored it (gone, when it deleted it). Caller holds <c>_changes</c>.</summary>
    private StreamInfo? Adopt(string name, MetadataConflictException conflict)
    {
        if (conflict.Current is { } current)
            return _streams[name] = current;
        if (_streams.TryGetValue(name, out var held) && held.Id == conflict.StreamId)
            _streams.TryRemove(new KeyValuePair<string, StreamInfo>(name, held));
        return null;
    }

    private StreamInfo Save(StreamInfo stream)
    {
        var stored = _metadata.Save(stream);
        _streams[stream.Name] = stored;
        return stored;
    }

    /// <summary>Deletes the stream's metadata and forgets it; its logs are deleted by <see cref="DeleteRemovedLogs"/>
    /// once the caller has let go of <c>_changes</c>. Caller holds <c>_changes</c>.</summary>
    private void Remove(StreamInfo stream)
    {
        _metadata.Delete(stream.Id);
        _streams.TryRemove(new KeyValuePair<string, StreamInfo>(stream.Name, stream));
        _removed.Enqueue(stream);
    }

    /// <summary>Runs <paramref name="change"/> under <c>_changes</c>, then deletes the logs of any stream it removed,
    /// outside the lock (<see cref="DeleteRemovedLogs"/>): what every change that may remove a stream goes through.</summary>
    private T Change<T>(Func<T> change)
    {
        try
        {
            lock (_changes)
                return change();
        }
        finally
        {
            DeleteRemovedLogs();
        }
    }

    /// <summary>
    /// Deletes the logs of the streams <see cref="Remove"/> took out, outside <c>_changes</c>: on a cluster that is a
    /// JetStream stream per shard, replicated, which may take seconds, and other nodes' changes wait for that lock
    /// to be applied here (a node once stopped following them for as long, and answered "not found" for streams
    /// created through another node).
    /// </summary>
    private void DeleteRemovedLogs()
    {
        while (_removed.TryDequeue(out var stream))
        {
            try
            {
                _shards.DeleteStream(stream.Id);
            }
            catch (StorageUnavailableException e)
            {
                // The stream is deleted (its metadata is gone); its logs are left for the leader's sweep of orphans.
                _warn($"Stream {stream.Name} (id {stream.Id}) is deleted, but its logs could not be deleted yet ({e.Message}); the elected node's sweep deletes them within a minute.");
            }
        }
    }

    /// <summary>A stream as another node of a cluster created or changed it (<see cref="IMetadataStore.Follow"/>).</summary>
    internal void Apply(StreamInfo stream)
    {
        lock (_changes)
        {
            // A name held by a later incarnation (a higher id) is not given back to an older one.
            if (!_streams.TryGetValue(stream.Name, out var current) || current.Id < stream.Id || current.Id == stream.Id && current.Revision <= stream.Revision)
                _streams[stream.Name] = stream;
        }
    }

    /// <summary>A stream another node of a cluster deleted: forgotten here, and its shards retired (the deleting node
    /// deletes their logs). False when this node did not hold it.</summary>
    internal bool ApplyDeleted(long streamId)
    {
        StreamInfo? gone;
        lock (_changes)
        {
            gone = _streams.Values.FirstOrDefault(s => s.Id == streamId);
            if (gone is null)
                return false;
            _streams.TryRemove(new KeyValuePair<string, StreamInfo>(gone.Name, gone));
        }
        _shards.ForgetStream(streamId);
        return true;
    }

    /// <summary>
    /// Returns the stream as it is now: a due CREATING/UPDATING becomes ACTIVE, a due DELETING is gone (null). Only
    /// the node that leads makes the change (and stores it first, so that a node taking over finishes it); on the
    /// others a due stream keeps its status until the leader's change reaches them through the metadata.
    /// </summary>
    private StreamInfo? Resolve(StreamInfo stream)
    {
        if (stream.StatusUntil is not { } until || Now < until || !_leads())
            return stream;
        return Change(() =>
        {
            if (!_streams.TryGetValue(stream.Name, out var current) || current.Id != stream.Id)
                return null;
            if (current.StatusUntil is not { } due || Now < due)
                return current;
            return Finish(current);
        });
    }

    /// <summary>
    /// Makes a stream's due transition: DELETING goes, CREATING and UPDATING become ACTIVE, and a pending reshard
    /// takes effect (children appear, parents close). When another node stored a change meanwhile, takes what it
    /// stored, and finishes that too if the transition is still due there. Caller holds <c>_changes</c>.
    /// </summary>
    private StreamInfo? Finish(StreamInfo current)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (current.Status == StreamStatus.Deleting)
            {
                Remove(current);
                return null;
            }
            var active = current with { Status = StreamStatus.Active, StatusUntil = null, PendingReshard = null };
            if (current.PendingReshard is { } plan)
                active = ApplyReshard(active, plan); // the switch back to ACTIVE: children appear, parents close
            try
            {
                return Save(active);
            }
            catch (MetadataConflictException conflict)
            {
                // Another node made the switch, or another change: as stored.
                var stored = Adopt(current.Name, conflict);
                if (stored?.StatusUntil is not { } due || Now < due || attempt >= 20)
                    return stored;
                current = stored;
            }
        }
    }

    /// <summary>Whether a stream of this incarnation is held (in any status).</summary>
    public bool Holds(long streamId) => _streams.Values.Any(s => s.Id == streamId);

    /// <summary>Applies every due status change; run by a timer so that a stream nobody reads still changes state on time.</summary>
    public void AdvanceTransitions()
    {
        try
        {
            foreach (var stream in _streams.Values)
                if (stream.StatusUntil is not null)
                    Resolve(stream);
        }
        catch (Exception e)
        {
            _warn($"Stream status update failed: {e.Message}");
        }
    }
}
