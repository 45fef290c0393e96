using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Streams;

/// <summary>
/// The consumers registered with each stream (the control plane of enhanced fan-out): in memory, persisted
/// to the metadata store on every change. A consumer belongs to one incarnation of its stream
/// (<see cref="StreamInfo.Id"/>): the store deletes it with its stream, and a recreated stream of the same
/// name starts without consumers. Callers pass the stream as they found it; this class does not look
/// streams up.
/// <para>CREATING and DELETING end by the passing of time: a due status is applied (and stored) the next time
/// the stream's consumers are read, or by <see cref="AdvanceTransitions"/> on the stream service's timer; only by
/// the node that leads (on a cluster, the lease holder), so that each transition is made once.</para>
/// <para>On a cluster a change is stored only if the consumer's document is still the one it was decided from
/// (<see cref="ConsumerInfo.Revision"/>); when another node changed it meanwhile, the change is decided again on
/// what that node stored.</para>
/// <para>Thread-safety: every call takes one lock, which also orders the store's writes; calls are rare
/// (AWS allows a few per second) and short.</para>
/// </summary>
public sealed class ConsumerRegistry
{
    /// <summary>AWS's limit of consumers in CREATING at once.</summary>
    public const int MaxCreatingPerStream = 5;

    private readonly IMetadataStore _metadata;
    private readonly RunnelOptions _options;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    // Stream id → consumer name → consumer. An entry of a stream that is gone lingers until Forget or a
    // restart (it is never read: lookups go by the current stream's id); the store has already dropped it.
    private readonly Dictionary<long, Dictionary<string, ConsumerInfo>> _byStream = [];
    // The ARN's creation second of the latest consumer of each stream name and consumer name, so that a
    // consumer registered again within the same second gets a later second, hence a new ARN. In memory only:
    // after a restart only the consumers still registered are known.
    private readonly Dictionary<(string Stream, string Consumer), long> _lastCreatedSeconds = [];
    private readonly Func<StreamInfo, AccountSettings> _accountOf;
    private readonly Func<bool> _leads;

    /// <param name="leads">Whether this node makes the timed transitions now (see the class summary); always, by default.</param>
    /// <param name="accountOf">The settings of the account a stream belongs to (its consumer limit).</param>
    public ConsumerRegistry(IMetadataStore metadata, RunnelOptions options, TimeProvider clock, LoadedMetadata loaded, Func<StreamInfo, AccountSettings> accountOf, Func<bool>? leads = null)
    {
        _leads = leads ?? (() => true);
        _accountOf = accountOf;
        _metadata = metadata;
        _options = options;
        _clock = clock;
        var names = loaded.Streams.ToDictionary(s => s.Id, s => s.Name);
        foreach (var consumer in loaded.Consumers)
        {
            Of(consumer.StreamId)[consumer.Name] = consumer;
            if (names.TryGetValue(consumer.StreamId, out string? stream))
                _lastCreatedSeconds[(stream, consumer.Name)] = consumer.CreatedSeconds;
        }
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>
    /// Registers a consumer: ACTIVE at once, or CREATING for <see cref="RunnelOptions.ConsumerCreateDelay"/>.
    /// Throws ResourceInUseException for a name the stream has (in any status) and, with limits on,
    /// LimitExceededException past 20 consumers (50 with the account's billing commitment) or 5 CREATING.
    /// </summary>
    public ConsumerInfo Register(StreamInfo stream, string name, IReadOnlyDictionary<string, string> tags)
    {
        lock (_lock)
        {
            var consumers = Resolved(stream);
            if (consumers.ContainsKey(name))
                throw KinesisErrors.ConsumerExists(name, stream.Name, _options.AccountId);
            if (_options.Limits.Enabled)
            {
                int most = _accountOf(stream).ConsumersPerStream;
                if (consumers.Count >= most)
                    throw KinesisErrors.ConsumerLimitExceeded(stream.Name, _options.AccountId, most);
                if (consumers.Values.Count(c => c.Status == ConsumerStatus.Creating) >= MaxCreatingPerStream)
                    throw KinesisErrors.ConsumersCreatingLimitExceeded(stream.Name, _options.AccountId, MaxCreatingPerStream);
            }
            var now = Now;
            var created = now;
            if (_lastCreatedSeconds.TryGetValue((stream.Name, name), out long last) && now.ToUnixTimeSeconds() <= last)
                created = DateTimeOffset.FromUnixTimeSeconds(last + 1); // a second ahead of the clock, never the old ARN
            bool delayed = _options.ConsumerCreateDelay > TimeSpan.Zero;
            var consumer = new ConsumerInfo(0, stream.Id, name,
                delayed ? ConsumerStatus.Creating : ConsumerStatus.Active,
                created,
                delayed ? now + _options.ConsumerCreateDelay : null,
                new Dictionary<string, string>(tags, StringComparer.Ordinal));
            consumer = _metadata.AddConsumer(consumer);
            consumers[name] = consumer;
            _lastCreatedSeconds[(stream.Name, name)] = consumer.CreatedSeconds;
            return consumer;
        }
    }

    /// <summary>The stream's consumers as they are now, ordered by name (ordinal).</summary>
    public IReadOnlyList<ConsumerInfo> List(StreamInfo stream)
    {
        lock (_lock)
            return [.. Resolved(stream).Values.OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    public int Count(StreamInfo stream)
    {
        lock (_lock)
            return Resolved(stream).Count;
    }

    /// <summary>The consumer by name, as it is now; null when the stream has none of that name.</summary>
    public ConsumerInfo? Find(StreamInfo stream, string name)
    {
        lock (_lock)
            return Resolved(stream).GetValueOrDefault(name);
    }

    /// <summary>
    /// Deregisters a consumer: gone at once, or DELETING for <see cref="RunnelOptions.ConsumerDeleteDelay"/>.
    /// A consumer already DELETING stays as it is. Throws ResourceNotFoundException when it is not registered
    /// (or, with <paramref name="creationSeconds"/>, when the one registered is a later one of that name).
    /// </summary>
    public void Deregister(StreamInfo stream, string name, long? creationSeconds = null)
    {
        lock (_lock)
        {
            Deciding(stream, consumers =>
            {
                var consumer = Require(consumers, stream, name, creationSeconds);
                if (consumer.Status != ConsumerStatus.Deleting)
                    BeginDelete(consumers, consumer);
                return consumer;
            });
        }
    }

    /// <summary>Deregisters every consumer of the stream (DeleteStream with EnforceConsumerDeletion).</summary>
    public void DeregisterAll(StreamInfo stream)
    {
        lock (_lock)
        {
            Deciding(stream, consumers =>
            {
                foreach (var consumer in consumers.Values.ToList())
                    if (consumer.Status != ConsumerStatus.Deleting)
                        BeginDelete(consumers, consumer);
                return consumers.Count;
            });
        }
    }

    /// <summary>Drops what is held in memory for a stream incarnation that is gone (the store dropped its rows with the stream's).</summary>
    public void Forget(long streamId)
    {
        lock (_lock)
            _byStream.Remove(streamId);
    }

    /// <summary>A consumer as another node of a cluster registered or changed it (<see cref="IMetadataStore.Follow"/>):
    /// taken unless this node holds a later one of that name, or a later revision of it.</summary>
    internal void Apply(ConsumerInfo consumer)
    {
        lock (_lock)
        {
            var consumers = Of(consumer.StreamId);
            if (!consumers.TryGetValue(consumer.Name, out var held) || held.Id < consumer.Id || held.Id == consumer.Id && held.Revision <= consumer.Revision)
                consumers[consumer.Name] = consumer;
        }
    }

    /// <summary>A consumer another node of a cluster deleted.</summary>
    internal void ApplyDeleted(long streamId, long consumerId)
    {
        lock (_lock)
        {
            if (_byStream.TryGetValue(streamId, out var consumers) && consumers.Values.FirstOrDefault(c => c.Id == consumerId) is { } gone)
                consumers.Remove(gone.Name);
        }
    }

    /// <summary>
    /// Changes a consumer atomically and persists it (tags, resource policy): <paramref name="change"/> sees the
    /// consumer as it is and returns it changed (or throws AWS's error). Not-found as <see cref="Deregister"/>.
    /// </summary>
    public ConsumerInfo Change(StreamInfo stream, string name, long? creationSeconds, Func<ConsumerInfo, ConsumerInfo> change)
    {
        lock (_lock)
            return Deciding(stream, consumers => Store(consumers, change(Require(consumers, stream, name, creationSeconds))));
    }

    /// <summary>
    /// Runs <paramref name="decide"/> on the stream's consumers as they are; when another node changed a consumer it
    /// stores meanwhile (a cluster), takes what that node stored and decides again. Caller holds the lock.
    /// </summary>
    private T Deciding<T>(StreamInfo stream, Func<Dictionary<string, ConsumerInfo>, T> decide)
    {
        for (int attempt = 0; ; attempt++)
        {
            var consumers = Resolved(stream);
            try
            {
                return decide(consumers);
            }
            catch (ConsumerConflictException conflict) when (attempt < 20)
            {
                Adopt(consumers, conflict);
            }
        }
    }

    /// <summary>Takes a consumer as another node stored it (gone, when it deleted it).</summary>
    private static void Adopt(Dictionary<string, ConsumerInfo> consumers, ConsumerConflictException conflict)
    {
        if (conflict.Current is { } current)
            consumers[current.Name] = current;
        else if (consumers.Values.FirstOrDefault(c => c.Id == conflict.ConsumerId) is { } gone)
            consumers.Remove(gone.Name);
    }

    private ConsumerInfo Store(Dictionary<string, ConsumerInfo> consumers, ConsumerInfo consumer)
    {
        var stored = _metadata.SaveConsumer(consumer);
        consumers[consumer.Name] = stored;
        return stored;
    }

    /// <summary>Whether this node holds a consumer of that name on the stream now (no waiting for other nodes).</summary>
    public bool Knows(long streamId, string name)
    {
        lock (_lock)
            return _byStream.TryGetValue(streamId, out var consumers) && consumers.ContainsKey(name);
    }

    /// <summary>The consumer by name (and creation second, when the caller named it by ARN), or AWS's not-found error.</summary>
    public ConsumerInfo Get(StreamInfo stream, string name, long? creationSeconds = null)
    {
        lock (_lock)
        {
            if (Resolved(stream).TryGetValue(name, out var consumer) && (creationSeconds is null || creationSeconds == consumer.CreatedSeconds))
                return consumer;
        }
        // Registered through another node a moment ago? (outside the lock: applying takes it; not twice in one request)
        if (!RequestCatchUp.Done)
            _metadata.CatchUp(StreamCatalog.CatchUpBudget);
        lock (_lock)
            return Require(Resolved(stream), stream, name, creationSeconds);
    }

    private ConsumerInfo Require(Dictionary<string, ConsumerInfo> consumers, StreamInfo stream, string name, long? creationSeconds)
    {
        if (consumers.TryGetValue(name, out var consumer) && (creationSeconds is null || creationSeconds == consumer.CreatedSeconds))
            return consumer;
        throw creationSeconds is { } seconds
            ? KinesisErrors.ConsumerNotFound(name, seconds, stream.Name, _options.AccountId)
            : KinesisErrors.ConsumerNotFound(name, stream.Name, _options.AccountId);
    }

    private void BeginDelete(Dictionary<string, ConsumerInfo> consumers, ConsumerInfo consumer)
    {
        if (_options.ConsumerDeleteDelay > TimeSpan.Zero)
        {
            Store(consumers, consumer with { Status = ConsumerStatus.Deleting, StatusUntil = Now + _options.ConsumerDeleteDelay });
        }
        else
        {
            _metadata.DeleteConsumer(consumer.Id);
            consumers.Remove(consumer.Name);
        }
    }

    /// <summary>
    /// Applies every due status change of the consumers of the streams that <paramref name="holds"/> (a stream that
    /// is gone has no consumers left to change); run by a timer on the node that leads, so that a consumer nobody
    /// reads changes state on time.
    /// </summary>
    public void AdvanceTransitions(Func<long, bool> holds)
    {
        if (!_leads())
            return;
        lock (_lock)
        {
            var now = Now;
            foreach (var (streamId, consumers) in _byStream.ToList())
                if (consumers.Values.Any(c => c.StatusUntil is { } until && now >= until) && holds(streamId))
                    ResolveDue(consumers);
        }
    }

    /// <summary>The consumers of the stream with every due status change applied and stored. Caller holds the lock.</summary>
    private Dictionary<string, ConsumerInfo> Resolved(StreamInfo stream)
    {
        var consumers = Of(stream.Id);
        if (_leads())
            ResolveDue(consumers);
        return consumers;
    }

    /// <summary>Makes the due transitions: a CREATING consumer becomes ACTIVE, a DELETING one goes. A change another
    /// node stored meanwhile is taken as it is. Caller holds the lock.</summary>
    private void ResolveDue(Dictionary<string, ConsumerInfo> consumers)
    {
        var now = Now;
        foreach (var consumer in consumers.Values.Where(c => c.StatusUntil is { } until && now >= until).ToList())
        {
            if (consumer.Status == ConsumerStatus.Deleting)
            {
                _metadata.DeleteConsumer(consumer.Id);
                consumers.Remove(consumer.Name);
                continue;
            }
            try
            {
                Store(consumers, consumer with { Status = ConsumerStatus.Active, StatusUntil = null });
            }
            catch (ConsumerConflictException conflict)
            {
                Adopt(consumers, conflict);
            }
        }
    }

    private Dictionary<string, ConsumerInfo> Of(long streamId)
    {
        if (!_byStream.TryGetValue(streamId, out var consumers))
            _byStream[streamId] = consumers = new Dictionary<string, ConsumerInfo>(StringComparer.Ordinal);
        return consumers;
    }
}
