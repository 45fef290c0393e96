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

    /// <summary>JetStream's error for a publish whose expected last sequence is not the stream's.</summary>
    private const int WrongLastSequence = 10071;

    private readonly INatsJSContext _js;
    private readonly INatsKVStore _kv;
    private readonly INatsJSStream _stream;
    private readonly string _bucket;

    private JetStreamMetadataStore(INatsJSContext js, INatsKVStore kv, INatsJSStream stream, string bucket)
    {
        _js = js;
        _kv = kv;
        _stream = stream;
        _bucket = bucket;
        Location = $"the JetStream key-value bucket {bucket}";
    }

    public string Location { get; }

    /// <summary>Opens the bucket <paramref name="bucket"/>, creating it (with <paramref name="replicas"/> replicas) when absent.</summary>
    public static async Task<JetStreamMetadataStore> OpenAsync(INatsJSContext js, string bucket, int replicas, CancellationToken cancellationToken = default)
    {
        var context = new NatsKVContext(js);
        var kv = await context.CreateOrUpdateStoreAsync(new NatsKVConfig(bucket) { History = 1, NumberOfReplicas = replicas, Storage = NatsKVStorageType.File }, cancellationToken).ConfigureAwait(false);
        var stream = await js.GetStreamAsync("KV_" + bucket, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new JetStreamMetadataStore(js, kv, stream, bucket);
    }

    public byte[] GetOrCreateSecret(string name, int length)
    {
        byte[] stored = CompareAndSet("secret." + KeyPart(name), current => current is null ? RandomNumberGenerator.GetBytes(length) : null);
        return stored.Length == length ? stored : throw new MetadataDamagedException(Location, [$"secret '{name}' is not {length} bytes"]);
    }

    public byte[]? ReadSetting(string name) => Get("setting." + KeyPart(name));

    public void WriteSetting(string name, byte[] value) => Run(_kv.PutAsync("setting." + KeyPart(name), value));

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

    public void Save(StreamInfo stream)
    {
        ClaimName(NameKey(stream.Name), stream.Id, $"a stream named {stream.Name}");
        Run(_kv.PutAsync(StreamKey(stream.Id), MetadataDocuments.Encode(stream)));
    }

    public void Delete(long streamId)
    {
        var stored = Get(StreamKey(streamId));
        foreach (string key in Keys($"consumer.{streamId}.>"))
            if (Get(key) is { } consumer)
                DeleteConsumerKeys(key, MetadataDocuments.DecodeConsumer(consumer));
        Run(_kv.PurgeAsync(StreamKey(streamId)));
        if (stored is not null)
            ReleaseName(NameKey(MetadataDocuments.DecodeStream(stored).Name), streamId);
    }

    public long AddConsumer(ConsumerInfo consumer)
    {
        long id = NextSequence("consumer-id");
        ClaimName(ConsumerNameKey(consumer.StreamId, consumer.Name), id, $"a consumer named {consumer.Name} on stream {consumer.StreamId}");
        Run(_kv.PutAsync(ConsumerKey(consumer.StreamId, id), MetadataDocuments.Encode(consumer with { Id = id })));
        return id;
    }

    public void SaveConsumer(ConsumerInfo consumer) =>
        Run(_kv.PutAsync(ConsumerKey(consumer.StreamId, consumer.Id), MetadataDocuments.Encode(consumer)));

    public void DeleteConsumer(long consumerId)
    {
        foreach (string key in Keys($"consumer.*.{consumerId}"))
            if (Get(key) is { } consumer)
                DeleteConsumerKeys(key, MetadataDocuments.DecodeConsumer(consumer));
    }

    public LoadedMetadata Load()
    {
        var streams = new List<StreamInfo>();
        var damaged = new List<DamagedStream>();
        foreach (string key in Keys("stream.*"))
        {
            if (Get(key) is not { } value)
                continue;
            long id = long.TryParse(key.AsSpan("stream.".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) ? parsed : -1;
            try
            {
                streams.Add(MetadataDocuments.DecodeStream(value));
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
            if (Get(key) is not { } value)
                continue;
            try
            {
                consumers.Add(MetadataDocuments.DecodeConsumer(value));
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
        Run(_kv.PurgeAsync(key));
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

    /// <summary>
    /// Changes a key only if nothing else changed the bucket meanwhile, and returns its value after:
    /// <paramref name="decide"/> sees the current value (null when absent) and gives the new one, or null to leave it.
    /// The condition is the bucket's last sequence (a stream-wide compare-and-set), read with the key from the
    /// stream's leader: nats-server 2.9 checks a key's own expected revision against stored messages only, so two
    /// updates of one key in flight at once can both pass it, while the stream-wide check counts those in flight.
    /// </summary>
    private byte[] CompareAndSet(string key, Func<byte[]?, byte[]?> decide)
    {
        string subject = $"$KV.{_bucket}.{key}";
        for (int attempt = 0; attempt < 10 * MaxAttempts; attempt++)
        {
            if (attempt > 2)
                Thread.Sleep(Random.Shared.Next(0, Math.Min(attempt, 10))); // others are writing too: spread the retries
            Run(_stream.RefreshAsync());
            ulong last = _stream.Info.State.LastSeq;
            byte[]? current = LeaderGet(subject);
            byte[]? next = decide(current);
            if (next is null)
                return current ?? throw new InvalidOperationException($"Nothing to keep for {key} in {Location}.");
            var result = Run(_js.TryPublishAsync(subject, next, opts: new NatsJSPubOpts { ExpectedLastSequence = last }));
            if (!result.Success)
                throw new IOException($"JetStream did not store {key} in {Location}: {result.Error.Message}", result.Error);
            if (result.Value.Error is null)
                return next;
            if (result.Value.Error.ErrCode != WrongLastSequence)
                throw new IOException($"JetStream refused {key} in {Location}: {result.Value.Error.Description} ({result.Value.Error.ErrCode}).");
        }
        throw new IOException($"{key} in {Location} kept changing under {10 * MaxAttempts} attempts to change it.");
    }

    /// <summary>A key's value as the stream's leader has it (not a replica that may be behind); null when absent or deleted.</summary>
    private byte[]? LeaderGet(string subject)
    {
        try
        {
            var message = Run(_stream.GetAsync(new NATS.Client.JetStream.Models.StreamMsgGetRequest { LastBySubj = subject })).Message;
            bool deleted = message.Hdrs is { } headers && Encoding.ASCII.GetString(Convert.FromBase64String(headers)).Contains("KV-Operation", StringComparison.Ordinal);
            return deleted ? null : message.Data.ToArray();
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return null;
        }
    }

    private void ReleaseName(string key, long id)
    {
        var entry = Run(_kv.TryGetEntryAsync<byte[]>(key));
        if (entry.Success && Encoding.ASCII.GetString(entry.Value.Value ?? []) == id.ToString(CultureInfo.InvariantCulture))
            Run(_kv.PurgeAsync(key));
    }

    private byte[]? Get(string key)
    {
        var entry = Run(_kv.TryGetEntryAsync<byte[]>(key));
        return entry.Success ? entry.Value.Value : null;
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

    private static string NameKey(string name) => "name." + KeyPart(name);

    private static string ConsumerNameKey(long streamId, string name) => string.Create(CultureInfo.InvariantCulture, $"consumer-name.{streamId}.{KeyPart(name)}");

    /// <summary>A name as one key token: hex of its UTF-8 bytes (names may hold dots, which separate tokens).</summary>
    private static string KeyPart(string name) => Convert.ToHexString(Encoding.UTF8.GetBytes(name));

    private static byte[] Number(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    private static T Run<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    private static void Run(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
            pending.AsTask().GetAwaiter().GetResult();
    }

    public void Dispose()
    {
    }
}
