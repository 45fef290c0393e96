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

    private readonly INatsKVStore _kv;
    private readonly KeyValueCas _cas;

    private JetStreamMetadataStore(INatsJSContext js, INatsKVStore kv, string bucket)
    {
        _kv = kv;
        _cas = new KeyValueCas(js, bucket);
        Location = $"the JetStream key-value bucket {bucket}";
    }

    public string Location { get; }

    /// <summary>Opens the bucket <paramref name="bucket"/>, creating it (with <paramref name="replicas"/> replicas) when absent.</summary>
    public static async Task<JetStreamMetadataStore> OpenAsync(INatsJSContext js, string bucket, int replicas, CancellationToken cancellationToken = default)
    {
        var context = new NatsKVContext(js);
        var kv = await context.CreateOrUpdateStoreAsync(new NatsKVConfig(bucket) { History = 1, NumberOfReplicas = replicas, Storage = NatsKVStorageType.File }, cancellationToken).ConfigureAwait(false);
        return new JetStreamMetadataStore(js, kv, bucket);
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

    private byte[] CompareAndSet(string key, Func<byte[]?, byte[]?> decide) =>
        Run(new ValueTask<byte[]?>(_cas.ChangeAsync(key, decide))) ?? throw new InvalidOperationException($"Nothing is stored for {key} in {Location}.");

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
