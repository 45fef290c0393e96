using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Runnel.Core.Model;
using Runnel.Storage.Metadata;

namespace Runnel.Storage.JetStream;

/// <summary>
/// The metadata in a JetStream key-value bucket (docs/adr/0001-kinesis-on-jetstream.md), replicated as the shard
/// logs are: a stream is one key (<c>stream.{id}</c>, its shards and tags inside, see <see cref="MetadataDocuments"/>),
/// a consumer one key (<c>consumer.{streamId}.{id}</c>), and names are claimed with create-if-absent keys
/// (<c>name.{hex}</c>, <c>consumer-name.{streamId}.{hex}</c>) so that two nodes cannot give one name to two streams.
/// Counters and secrets change only by compare-and-set or create-if-absent. The synchronous members block for
/// the round trips: the metadata changes on the control plane only. Thread-safe.
/// </summary>
public sealed class JetStreamMetadataStore : IMetadataStore
{
    private const int MaxAttempts = 100;

    private readonly INatsJSContext _js;
    private readonly INatsKVStore _kv;
    private readonly KeyValueCas _cas;
    private readonly string _bucket;
    // The newest revision of each key that this node wrote or read: a change the watch reports at or below it is
    // this node's own, or older than what it holds, and is not reported.
    private readonly ConcurrentDictionary<string, ulong> _revisions = new(StringComparer.Ordinal);
    // Keys this node purged whose purge the watch has not reported yet (a purge has no revision to compare).
    private readonly ConcurrentDictionary<string, int> _ownPurges = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _writes = new();
    private ulong _loadedFrom; // the bucket's last revision when Load began: Follow reports what comes after
    private readonly object _appliedGate = new(); // guards _applied and _waiters
    private ulong _applied; // the last revision the watch has given to apply (or passed over as this node's own)
    private readonly List<(ulong Revision, TaskCompletionSource Reached)> _waiters = []; // CatchUpAsync's, until _applied reaches theirs
    private Task? _following;

    private JetStreamMetadataStore(INatsJSContext js, INatsKVStore kv, string bucket)
    {
        _js = js;
        _kv = kv;
        _bucket = bucket;
        _cas = new KeyValueCas(js, bucket);
        Location = $"the JetStream key-value bucket {bucket}";
    }

    public string Location { get; }

    /// <summary>Opens the bucket <paramref name="bucket"/>, creating it (with <paramref name="replicas"/> replicas) when absent.</summary>
    public static async Task<JetStreamMetadataStore> OpenAsync(INatsJSContext js, string bucket, int replicas, CancellationToken cancellationToken = default)
    {
        var context = new NatsKVContext(js);
        var config = new NatsKVConfig(bucket) { History = 1, NumberOfReplicas = replicas, Storage = NatsKVStorageType.File };
        var kv = await Unanswered.RetryWithinAsync(async within => await context.CreateOrUpdateStoreAsync(config, within).ConfigureAwait(false), cancellationToken, Unanswered.StartBudget, startUp: true).ConfigureAwait(false);
        return new JetStreamMetadataStore(js, kv, bucket);
    }

    public byte[] GetOrCreateSecret(string name, int length)
    {
        byte[] stored = CompareAndSet("secret." + KeyPart(name), current => current is null ? RandomNumberGenerator.GetBytes(length) : null);
        return stored.Length == length ? stored : throw new MetadataDamagedException(Location, [$"secret '{name}' is not {length} bytes"]);
    }

    public byte[]? ReadSetting(string name) => Get("setting." + KeyPart(name));

    public void WriteSetting(string name, byte[] value) => Put("setting." + KeyPart(name), value);

    public long NextSequence(string name)
    {
        long next = 0;
        CompareAndSet("counter." + KeyPart(name), current =>
        {
            next = current is null ? 1 : long.Parse(Encoding.ASCII.GetString(current), NumberStyles.None, CultureInfo.InvariantCulture) + 1;
            return Number(next);
        });
        return next;
    }

    public StreamInfo Save(StreamInfo stream)
    {
        ClaimName(NameKey(stream.Name), stream.Id, $"a stream named {stream.Name}");
        var (written, current, revision) = WriteIf(StreamKey(stream.Id), stream.Revision, MetadataDocuments.Encode(stream));
        return written != 0
            ? stream with { Revision = written }
            : throw new MetadataConflictException(stream.Id, current is null ? null : MetadataDocuments.DecodeStream(current) with { Revision = revision });
    }

    public void Delete(long streamId)
    {
        var stored = Get(StreamKey(streamId));
        foreach (string key in Keys($"consumer.{streamId}.>"))
            if (Get(key) is { } consumer)
                DeleteConsumerKeys(key, MetadataDocuments.DecodeConsumer(consumer));
        Purge(StreamKey(streamId));
        if (stored is not null)
            ReleaseName(NameKey(MetadataDocuments.DecodeStream(stored).Name), streamId);
    }

    public bool Holds(long streamId) => Run(new ValueTask<byte[]?>(_cas.ReadAsync(StreamKey(streamId)))) is not null;

    public ConsumerInfo AddConsumer(ConsumerInfo consumer)
    {
        long id = NextSequence("consumer-id");
        ClaimName(ConsumerNameKey(consumer.StreamId, consumer.Name), id, $"a consumer named {consumer.Name} on stream {consumer.StreamId}");
        var stored = consumer with { Id = id };
        return stored with { Revision = Put(ConsumerKey(consumer.StreamId, id), MetadataDocuments.Encode(stored)) };
    }

    public ConsumerInfo SaveConsumer(ConsumerInfo consumer)
    {
        var (written, current, revision) = WriteIf(ConsumerKey(consumer.StreamId, consumer.Id), consumer.Revision, MetadataDocuments.Encode(consumer));
        return written != 0
            ? consumer with { Revision = written }
            : throw new ConsumerConflictException(consumer.Id, current is null ? null : MetadataDocuments.DecodeConsumer(current) with { Revision = revision });
    }

    /// <summary>
    /// Writes <paramref name="value"/> only if <paramref name="key"/> is still at <paramref name="expectedRevision"/>
    /// (<see cref="KeyValueCas.WriteIfAsync"/>), noting the revision written, or the one found, before the watch may
    /// judge it (see <see cref="Put"/>). Written is 0 when the key had moved on; Current and Revision are then what is
    /// stored (a null value when the key is gone).
    /// </summary>
    private (ulong Written, byte[]? Current, ulong Revision) WriteIf(string key, ulong expectedRevision, byte[] value)
    {
        lock (_writes)
        {
            var result = Run(new ValueTask<(ulong, byte[]?, ulong)>(_cas.WriteIfAsync(key, expectedRevision, value)));
            Note(key, result.Item1 != 0 ? result.Item1 : result.Item3);
            return result;
        }
    }

    public void DeleteConsumer(long consumerId)
    {
        foreach (string key in Keys($"consumer.*.{consumerId}"))
            if (Get(key) is { } consumer)
                DeleteConsumerKeys(key, MetadataDocuments.DecodeConsumer(consumer));
    }

    public IReadOnlyList<MetadataDocument> ReadDocuments(string kind)
    {
        MetadataDocument.Check(kind);
        var documents = new List<MetadataDocument>();
        foreach (string key in Keys(DocumentKey(kind, null) + "*"))
        {
            if (DocumentName(key) is not { } name)
                continue;
            var entry = Run(_kv.TryGetEntryAsync<byte[]>(key));
            if (entry.Success)
                documents.Add(new MetadataDocument(kind, name, entry.Value.Value ?? [], entry.Value.Revision));
            else if (GetFromLeader(key) is var (value, revision)) // listed, so written: a lagging replica answered the direct get
                documents.Add(new MetadataDocument(kind, name, value, revision));
        }
        documents.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return documents;
    }

    public MetadataDocument? ReadDocument(string kind, string key)
    {
        MetadataDocument.Check(kind, key);
        var entry = Run(_kv.TryGetEntryAsync<byte[]>(DocumentKey(kind, key)));
        if (entry.Success)
            return new MetadataDocument(kind, key, entry.Value.Value ?? [], entry.Value.Revision);
        // Not found by a direct get: perhaps a replica behind the writes; the leader settles it.
        return GetFromLeader(DocumentKey(kind, key)) is var (value, revision) ? new MetadataDocument(kind, key, value, revision) : null;
    }

    /// <summary>The bucket's compare-and-set (<see cref="KeyValueCas.WriteIfAsync"/>): its revisions are the bucket's
    /// sequence, which only grows.</summary>
    public MetadataDocument WriteDocument(string kind, string key, byte[] body, ulong expectedRevision)
    {
        MetadataDocument.Check(kind, key);
        var (written, current, revision) = WriteIf(DocumentKey(kind, key), expectedRevision, body);
        return written != 0
            ? new MetadataDocument(kind, key, body, written)
            : throw new DocumentConflictException(kind, key, current is null ? null : new MetadataDocument(kind, key, current, revision));
    }

    public void DeleteDocument(string kind, string key)
    {
        MetadataDocument.Check(kind, key);
        if (Get(DocumentKey(kind, key)) is not null)
            Purge(DocumentKey(kind, key));
    }

    /// <summary>A purge published on the condition that the bucket is where the read left it (<see cref="KeyValueCas.PurgeIfAsync"/>).</summary>
    public void DeleteDocument(string kind, string key, ulong expectedRevision)
    {
        MetadataDocument.Check(kind, key);
        string bucketKey = DocumentKey(kind, key);
        lock (_writes)
        {
            var (purged, current, revision) = Run(new ValueTask<(bool, byte[]?, ulong)>(_cas.PurgeIfAsync(bucketKey, expectedRevision)));
            if (purged)
            {
                if (expectedRevision != 0)
                    _ownPurges.AddOrUpdate(bucketKey, 1, (_, n) => n + 1); // the watch is held off by _writes until this is noted
                return;
            }
            Note(bucketKey, revision);
            throw new DocumentConflictException(kind, key, current is null ? null : new MetadataDocument(kind, key, current, revision));
        }
    }

    public LoadedMetadata Load()
    {
        _loadedFrom = Run(_js.GetStreamAsync("KV_" + _bucket)).Info.State.LastSeq;
        var streams = new List<StreamInfo>();
        var damaged = new List<DamagedStream>();
        foreach (string key in Keys("stream.*"))
        {
            if (GetNoted(key) is not { } value)
                continue;
            long id = long.TryParse(key.AsSpan("stream.".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) ? parsed : -1;
            try
            {
                streams.Add(MetadataDocuments.DecodeStream(value) with { Revision = _revisions.GetValueOrDefault(key) });
            }
            catch (FormatException e)
            {
                damaged.Add(new DamagedStream(id, null, e.Message));
            }
        }
        var consumers = new List<ConsumerInfo>();
        var damagedConsumers = new List<long>();
        foreach (string key in Keys("consumer.>"))
        {
            if (GetNoted(key) is not { } value)
                continue;
            try
            {
                consumers.Add(MetadataDocuments.DecodeConsumer(value) with { Revision = _revisions.GetValueOrDefault(key) });
            }
            catch (FormatException)
            {
                damagedConsumers.Add(long.TryParse(key.AsSpan(key.LastIndexOf('.') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long id) ? id : -1);
            }
        }
        return new LoadedMetadata([.. streams.OrderBy(s => s.Name, StringComparer.Ordinal)], damaged, [])
        {
            Consumers = [.. consumers.OrderBy(c => c.StreamId).ThenBy(c => c.Name, StringComparer.Ordinal)],
            DamagedConsumerIds = damagedConsumers,
        };
    }

    private void DeleteConsumerKeys(string key, ConsumerInfo consumer)
    {
        Purge(key);
        ReleaseName(ConsumerNameKey(consumer.StreamId, consumer.Name), consumer.Id);
    }

    /// <summary>Claims a name for <paramref name="id"/>, or confirms the claim is already its own; a name another id holds is refused.</summary>
    private void ClaimName(string key, long id, string what)
    {
        string mine = id.ToString(CultureInfo.InvariantCulture);
        var holder = CompareAndSet(key, current => current is null ? Number(id) : null);
        if (Encoding.ASCII.GetString(holder) != mine)
            throw new InvalidOperationException($"{what} already exists in {Location}.");
    }

    private byte[] CompareAndSet(string key, Func<byte[]?, byte[]?> decide) =>
        Run(new ValueTask<byte[]?>(_cas.ChangeAsync(key, decide))) ?? throw new InvalidOperationException($"Nothing is stored for {key} in {Location}.");

    private void ReleaseName(string key, long id)
    {
        // From the leader: a replica behind could still show an earlier holder, and the name would stay claimed.
        if (GetFromLeader(key) is var (holder, _) && Encoding.ASCII.GetString(holder) == id.ToString(CultureInfo.InvariantCulture))
            Run(_kv.PurgeAsync(key));
    }

    /// <summary>Stores a value and notes its revision before the watch may judge the change (the watch can see a put
    /// before its writer has the acknowledgement): <see cref="Interpret"/> takes the same lock.</summary>
    private ulong Put(string key, byte[] value)
    {
        lock (_writes)
        {
            ulong revision = Run(_kv.PutAsync(key, value));
            Note(key, revision);
            return revision;
        }
    }

    private void Purge(string key)
    {
        _ownPurges.AddOrUpdate(key, 1, (_, n) => n + 1);
        Run(_kv.PurgeAsync(key));
    }

    /// <summary>Records that this node has seen <paramref name="key"/> at <paramref name="revision"/>; false when it had seen it at that revision or later.</summary>
    private bool Note(string key, ulong revision)
    {
        while (true)
        {
            if (!_revisions.TryGetValue(key, out ulong known))
            {
                if (_revisions.TryAdd(key, revision))
                    return true;
            }
            else if (known >= revision)
            {
                return false;
            }
            else if (_revisions.TryUpdate(key, revision, known))
            {
                return true;
            }
        }
    }

    /// <summary>A key's value, its revision noted.</summary>
    private byte[]? GetNoted(string key)
    {
        var entry = Run(_kv.TryGetEntryAsync<byte[]>(key));
        if (!entry.Success)
        {
            // A direct get may be answered by a replica that has not applied the newest writes yet; the leader has.
            if (GetFromLeader(key) is not var (value, revision))
                return null;
            Note(key, revision);
            return value;
        }
        Note(key, entry.Value.Revision);
        return entry.Value.Value;
    }

    /// <summary>
    /// A key's value and revision as the bucket's leader holds them (<c>$JS.API.STREAM.MSG.GET</c>, not a direct get a
    /// lagging replica may answer): everything JetStream acknowledged. Null when the key has no value (never written,
    /// deleted or purged). For a key a listing named but a direct get did not find.
    /// </summary>
    private (byte[] Value, ulong Revision)? GetFromLeader(string key)
    {
        try
        {
            var stream = Run(_js.GetStreamAsync("KV_" + _bucket));
            var answer = Run(stream.GetAsync(new NATS.Client.JetStream.Models.StreamMsgGetRequest { LastBySubj = $"$KV.{_bucket}.{key}" }));
            var stored = answer.Message;
            if (!string.IsNullOrEmpty(stored.Hdrs)
                && Encoding.UTF8.GetString(Convert.FromBase64String(stored.Hdrs)).Split("\r\n").Any(l => l.StartsWith("KV-Operation:", StringComparison.OrdinalIgnoreCase)))
                return null; // a delete or purge marker
            return (stored.Data.IsEmpty ? [] : stored.Data.ToArray(), stored.Seq);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return null;
        }
    }

    public void Follow(Action<MetadataChange> apply) => _following ??= Task.Run(() => FollowAsync(apply, _stop.Token));

    /// <summary>Watches the bucket from the revision after <see cref="Load"/>'s start, reporting other nodes' changes;
    /// when the watch fails (JetStream unreachable), it starts again after the last revision it saw.</summary>
    private async Task FollowAsync(Action<MetadataChange> apply, CancellationToken cancellationToken)
    {
        ulong next = _loadedFrom + 1;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var entry in _kv.WatchAsync<byte[]>([">"], opts: Watching(next), cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    next = entry.Revision + 1;
                    if (Interpret(entry) is { } change)
                        apply(change);
                    Applied(entry.Revision);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Whatever ended the watch (JetStream unreachable, a consumer it could not make again, an entry it
                // could not read), a node that stopped following would serve other nodes' changes never again.
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The watch from <paramref name="next"/> on. Its heartbeat is what notices a change that never arrived (the
    /// client recreates its consumer after the revision it last saw once two heartbeats are missed): every second
    /// rather than the client's default five, so that a node whose watch lost a message serves other nodes'
    /// changes again within about two seconds, not ten (a CI run waited 15 s in vain once for a deletion).
    /// </summary>
    private static NatsKVWatchOpts Watching(ulong next) => new() { ResumeAtRevision = next, IdleHeartbeat = TimeSpan.FromSeconds(1) };

    private void Applied(ulong revision)
    {
        List<TaskCompletionSource>? reached = null;
        lock (_appliedGate)
        {
            _applied = revision;
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Revision > revision)
                    continue;
                (reached ??= []).Add(_waiters[i].Reached);
                _waiters.RemoveAt(i);
            }
        }
        if (reached is not null)
            foreach (var waiter in reached)
                waiter.TrySetResult(); // continuations run elsewhere (RunContinuationsAsynchronously): the watch goes on
    }

    public bool Shared => true;

    /// <summary>Blocks the calling thread: for the few synchronous callers; requests use <see cref="CatchUpAsync"/>.</summary>
    public bool CatchUp(TimeSpan budget) => Run(CatchUpAsync(budget));

    /// <summary>
    /// Asks JetStream for the bucket's last revision, then waits, without holding a thread, until the watch has given
    /// every revision up to it to apply. Nothing here may block a thread: the watch itself needs the thread pool to
    /// go on, and on a two-core machine a few requests blocked in a catch-up starved it (a stream created through one
    /// node was then not found through the other for seconds).
    /// </summary>
    public async ValueTask<bool> CatchUpAsync(TimeSpan budget)
    {
        if (_following is null)
            return true; // nothing follows the bucket: there is nothing to wait for
        using var timeout = new CancellationTokenSource(budget);
        ulong last;
        try
        {
            last = (await _js.GetStreamAsync("KV_" + _bucket, cancellationToken: timeout.Token).ConfigureAwait(false)).Info.State.LastSeq;
        }
        catch (Exception e) when (Unanswered.Is(e) || e is OperationCanceledException or NatsJSApiException)
        {
            return false; // JetStream did not say how far the bucket goes; the caller answers from what it has
        }
        TaskCompletionSource reached;
        lock (_appliedGate)
        {
            if (Math.Max(_applied, _loadedFrom) >= last)
                return true;
            reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((last, reached));
        }
        try
        {
            await reached.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            lock (_appliedGate)
                _waiters.RemoveAll(w => w.Reached == reached);
            return reached.Task.IsCompletedSuccessfully;
        }
    }

    /// <summary>What a change the watch saw means, or null when it is this node's own, older than what it holds, or of no interest.</summary>
    private MetadataChange? Interpret(NatsKVEntry<byte[]> entry)
    {
        lock (_writes)
            return InterpretLocked(entry);
    }

    private MetadataChange? InterpretLocked(NatsKVEntry<byte[]> entry)
    {
        string key = entry.Key;
        bool removed = entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge;
        if (removed)
        {
            if (_ownPurges.TryGetValue(key, out int pending) && pending > 0)
            {
                _ownPurges.AddOrUpdate(key, 0, (_, n) => n - 1);
                return null;
            }
            _revisions.TryRemove(key, out _);
        }
        else if (!Note(key, entry.Revision))
        {
            return null;
        }
        string[] parts = key.Split('.');
        switch (parts[0])
        {
            case "stream" when parts.Length == 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long streamId):
                return removed ? new MetadataChange.StreamDeleted(streamId) : new MetadataChange.StreamSaved(MetadataDocuments.DecodeStream(entry.Value ?? []) with { Revision = entry.Revision });
            case "consumer" when parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long ofStream)
                && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long consumerId):
                return removed ? new MetadataChange.ConsumerDeleted(ofStream, consumerId) : new MetadataChange.ConsumerSaved(MetadataDocuments.DecodeConsumer(entry.Value ?? []) with { Revision = entry.Revision });
            case "doc" when parts.Length == 3 && DocumentName(key) is { } name:
                return removed ? new MetadataChange.DocumentDeleted(parts[1], name) : new MetadataChange.DocumentWritten(new MetadataDocument(parts[1], name, entry.Value ?? [], entry.Revision));
            case "setting" when parts.Length == 2 && !removed:
                return new MetadataChange.SettingWritten(Encoding.UTF8.GetString(Convert.FromHexString(parts[1])), entry.Value ?? []);
            default:
                return null;
        }
    }

    /// <summary>A key's value: by a direct get, which any replica may answer; when that one has not applied the key yet,
    /// the leader settles it (a delete that trusted the replica would leave the key behind: CI saw a deregistered
    /// consumer listed on the other node for good).</summary>
    private byte[]? Get(string key)
    {
        var entry = Run(_kv.TryGetEntryAsync<byte[]>(key));
        return entry.Success ? entry.Value.Value : GetFromLeader(key)?.Value;
    }

    private List<string> Keys(string filter)
    {
        var keys = new List<string>();
        var list = _kv.GetKeysAsync([filter]).GetAsyncEnumerator();
        try
        {
            while (Run(list.MoveNextAsync()))
                keys.Add(list.Current);
        }
        finally
        {
            Run(list.DisposeAsync());
        }
        return keys;
    }

    private static string StreamKey(long id) => string.Create(CultureInfo.InvariantCulture, $"stream.{id}");

    private static string ConsumerKey(long streamId, long id) => string.Create(CultureInfo.InvariantCulture, $"consumer.{streamId}.{id}");

    /// <summary><c>doc.{kind}.{key in hex}</c>: a kind is letters, digits and '-', a key anything (hex keeps it a token).
    /// With a null key, the prefix of the kind's keys.</summary>
    private static string DocumentKey(string kind, string? key) => $"doc.{kind}." + (key is null ? "" : KeyPart(key));

    /// <summary>The key a document's bucket key names, or null when it is not one.</summary>
    private static string? DocumentName(string bucketKey)
    {
        string hex = bucketKey[(bucketKey.LastIndexOf('.') + 1)..];
        try
        {
            return hex.Length > 0 ? Encoding.UTF8.GetString(Convert.FromHexString(hex)) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string NameKey(string name) => "name." + KeyPart(name);

    private static string ConsumerNameKey(long streamId, string name) => string.Create(CultureInfo.InvariantCulture, $"consumer-name.{streamId}.{KeyPart(name)}");

    /// <summary>A name as one key token: hex of its UTF-8 bytes (names may hold dots, which separate tokens).</summary>
    private static string KeyPart(string name) => Convert.ToHexString(Encoding.UTF8.GetBytes(name));

    private static byte[] Number(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Waits for a request to the bucket; a lost one (JetStream gone or silent) is reported as storage
    /// unavailable, which the server answers and logs as such (not as a bug).</summary>
    private static T Run<T>(ValueTask<T> pending)
    {
        if (pending.IsCompletedSuccessfully)
            return pending.Result;
        try
        {
            return pending.AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not StorageUnavailableException && Unanswered.IsLoss(e))
        {
            throw Unanswered.Unavailable("a metadata request", e);
        }
    }

    private static void Run(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
            Run(WithResult(pending));
    }

    private static async ValueTask<bool> WithResult(ValueTask pending)
    {
        await pending.ConfigureAwait(false);
        return true;
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _following?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
