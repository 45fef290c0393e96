using System.Collections.Concurrent;

namespace Runnel.Core.Metrics;

/// <summary>Who a request came from: the access key of its signature and its User-Agent (either may be empty).</summary>
public readonly record struct ClientId(string AccessKey, string UserAgent)
{
    /// <summary>A short name for people: the access key and the User-Agent's first product ("AKIA… Boto3/1.26.27").
    /// Two clients whose User-Agents differ only after the first product share it (exports merge them).</summary>
    public string Display
    {
        get
        {
            int space = UserAgent.IndexOf(' ', StringComparison.Ordinal);
            string product = space < 0 ? UserAgent : UserAgent[..space];
            return (AccessKey.Length == 0 ? "(unsigned)" : AccessKey) + (product.Length == 0 ? "" : " " + product);
        }
    }
}

/// <summary>A count since the server started (records refused, failed requests), its own key for rates. Lock-free.</summary>
public sealed class ErrorCount
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Add(long count) => Interlocked.Add(ref _value, count);

    /// <summary>Sets the count (a mirror of another node's, on a cluster).</summary>
    public void Set(long count) => Interlocked.Exchange(ref _value, count);
}

/// <summary>What one client wrote to one stream since the server started: records stored and refused, bytes, requests, when last.</summary>
public sealed class WriterActivity(string stream, ClientId client)
{
    private long _records, _bytes, _requests, _lastSeen;

    public string StreamName { get; } = stream;
    public ClientId Client { get; } = client;

    /// <summary>What the writer goes by (<see cref="ClientId.Display"/>), made once.</summary>
    public string Label { get; } = client.Display;

    public long Records => Interlocked.Read(ref _records);
    public long Bytes => Interlocked.Read(ref _bytes);
    public long Requests => Interlocked.Read(ref _requests);
    public long LastSeenMillis => Volatile.Read(ref _lastSeen);

    /// <summary>Records of its PutRecord and PutRecords calls that were refused: throttled, or failed inside the server.</summary>
    public ErrorCount FailedRecords { get; } = new();

    /// <summary>One put: <paramref name="records"/> stored (<paramref name="bytes"/> of data), <paramref name="failedRecords"/> refused.</summary>
    public void Wrote(int records, long bytes, int failedRecords, long nowMillis)
    {
        if (records > 0)
        {
            Interlocked.Add(ref _records, records);
            Interlocked.Add(ref _bytes, bytes);
        }
        if (failedRecords > 0)
            FailedRecords.Add(failedRecords);
        Interlocked.Increment(ref _requests);
        Volatile.Write(ref _lastSeen, nowMillis);
    }

    /// <summary>Sets every figure as another node's snapshot gives them: this entry mirrors a writer served there (on a
    /// cluster, Runnel.Server's <c>ClusterActivity</c>).</summary>
    public void Restore(long records, long bytes, long requests, long failedRecords, long lastSeenMillis)
    {
        Interlocked.Exchange(ref _records, records);
        Interlocked.Exchange(ref _bytes, bytes);
        Interlocked.Exchange(ref _requests, requests);
        FailedRecords.Set(failedRecords);
        Volatile.Write(ref _lastSeen, lastSeenMillis);
    }
}

/// <summary>
/// One reader of one shard: a client reading with shard iterators (<see cref="ReaderKind.Iterator"/>) or a registered
/// consumer's subscriptions (<see cref="ReaderKind.Consumer"/>): records read, failed requests, and its position (the
/// offset below which it has read). Its lag is not kept here: a reader that stops reading would keep the lag of its
/// last read while records pile up, so the lag is measured when it is shown, from the position and the shard's tip
/// (Runnel.Server's <c>ReaderLags</c>).
/// </summary>
public sealed class ReaderActivity(string stream, int shardIndex, ReaderKind kind, string name, ClientId client)
{
    private const long NoPosition = -1;
    private long _records, _reads, _lastSeen, _position = NoPosition;
    private object _client = client; // a boxed ClientId: a consumer's is its latest subscriber's, replaced whole

    public string StreamName { get; } = stream;
    public int ShardIndex { get; } = shardIndex;
    public ReaderKind Kind { get; } = kind;

    /// <summary>The consumer's name; empty for an iterator reader (its <see cref="Client"/> names it).</summary>
    public string Name { get; } = name;

    /// <summary>What the reader goes by, made once: the consumer's name, or the iterator reader's client's
    /// <see cref="ClientId.Display"/> (an iterator reader's client is the one it is kept for).</summary>
    public string Label { get; } = kind == ReaderKind.Iterator ? client.Display : name;

    /// <summary>The client reading: an iterator reader's own; a consumer's latest subscriber (default before one).</summary>
    public ClientId Client => (ClientId)Volatile.Read(ref _client);

    public long Records => Interlocked.Read(ref _records);
    public long Reads => Interlocked.Read(ref _reads);
    public long LastSeenMillis => Volatile.Read(ref _lastSeen);

    /// <summary>The offset below which the reader has read (where its next read starts); null before it read or subscribed.</summary>
    public ulong? Position => Volatile.Read(ref _position) is var p && p != NoPosition ? (ulong)p : null;

    /// <summary>Requests of the reader that failed: GetRecords calls throttled or with an expired or invalid iterator,
    /// subscriptions refused or ended by a failure.</summary>
    public ErrorCount Errors { get; } = new();

    /// <summary>A read (a GetRecords answer or a subscription's event) that left the reader at <paramref name="position"/>.</summary>
    public void Read(int records, ulong position, long nowMillis)
    {
        Interlocked.Add(ref _records, records);
        Interlocked.Increment(ref _reads);
        Volatile.Write(ref _position, (long)position);
        Volatile.Write(ref _lastSeen, nowMillis);
    }

    /// <summary>A subscription of <paramref name="subscriber"/> that starts reading at <paramref name="position"/>.</summary>
    public void Subscribed(ClientId subscriber, ulong position, long nowMillis)
    {
        Volatile.Write(ref _client, (object)subscriber);
        Volatile.Write(ref _position, (long)position);
        Volatile.Write(ref _lastSeen, nowMillis);
    }

    /// <summary>A failed request; <paramref name="position"/> is where the reader stands when the request says so (its
    /// iterator's offset), null when not known.</summary>
    public void Failed(ulong? position, long nowMillis)
    {
        Errors.Add(1);
        if (position is { } at)
            Volatile.Write(ref _position, (long)at);
        Volatile.Write(ref _lastSeen, nowMillis);
    }

    /// <summary>Sets every figure as another node's snapshot gives them: this entry mirrors a reader served there (on a
    /// cluster, Runnel.Server's <c>ClusterActivity</c>).</summary>
    public void Restore(ClientId client, long records, long reads, long errors, ulong? position, long lastSeenMillis)
    {
        Volatile.Write(ref _client, (object)client);
        Interlocked.Exchange(ref _records, records);
        Interlocked.Exchange(ref _reads, reads);
        Errors.Set(errors);
        Volatile.Write(ref _position, position is { } at ? (long)at : NoPosition);
        Volatile.Write(ref _lastSeen, lastSeenMillis);
    }
}

public enum ReaderKind
{
    Iterator,
    Consumer,

    /// <summary>A Firehose delivery stream reading its Kinesis stream source (its position is kept by its
    /// <see cref="DeliveryStreamMetrics.Source"/>, not here).</summary>
    Delivery,

    /// <summary>A Lambda event-source mapping reading its stream for a function (its positions are kept by its
    /// function's <see cref="FunctionMetrics.Sources"/>, not here).</summary>
    Function,
}

/// <summary>
/// Who writes to each stream and who reads each shard, as Kinesis cannot show it: per client (access key and
/// User-Agent) and per registered consumer. One dictionary lookup per request, no lock. Thread-safe.
/// <para>How long an entry stays listed: a writer <see cref="WriterExpiry"/> after its last request; a client reading
/// with shard iterators <see cref="IteratorReaderExpiry"/> after its last request, so that a reader that stopped shows
/// its lag growing for long enough for an alert (<c>for: 10m</c>) to fire before it is taken for gone; a registered
/// consumer's entries for as long as the consumer exists (the server forgets those of consumers deregistered or
/// deleted with their stream, <see cref="Forget"/>).</para>
/// </summary>
public sealed class ClientActivity
{
    /// <summary>How long a writer stays listed after its last request.</summary>
    public static readonly TimeSpan WriterExpiry = TimeSpan.FromMinutes(10);

    /// <summary>How long a client reading with shard iterators stays listed after its last request (a shard iterator
    /// lives five minutes; a reader silent for an hour has left).</summary>
    public static readonly TimeSpan IteratorReaderExpiry = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<(string Stream, ClientId Client), WriterActivity> _writers = new();
    private readonly ConcurrentDictionary<(string Stream, int Shard, ReaderKind Kind, string Name, ClientId Client), ReaderActivity> _readers = new();

    public WriterActivity Writer(string stream, ClientId client) =>
        _writers.TryGetValue((stream, client), out var found) ? found : _writers.GetOrAdd((stream, client), key => new WriterActivity(key.Stream, key.Client));

    /// <summary>A client reading a shard with shard iterators.</summary>
    public ReaderActivity Iterator(string stream, int shardIndex, ClientId client) => Reader(stream, shardIndex, ReaderKind.Iterator, "", client);

    /// <summary>A registered consumer reading a shard, whichever client subscribes (its position is the consumer's).</summary>
    public ReaderActivity Consumer(string stream, int shardIndex, string name) => Reader(stream, shardIndex, ReaderKind.Consumer, name, default);

    private ReaderActivity Reader(string stream, int shardIndex, ReaderKind kind, string name, ClientId client) =>
        _readers.TryGetValue((stream, shardIndex, kind, name, client), out var found) ? found
            : _readers.GetOrAdd((stream, shardIndex, kind, name, client), key => new ReaderActivity(key.Stream, key.Shard, key.Kind, key.Name, key.Client));

    /// <summary>The writers seen within <see cref="WriterExpiry"/> of <paramref name="nowMillis"/>; older ones are forgotten.</summary>
    public IReadOnlyList<WriterActivity> Writers(long nowMillis) => Live(_writers, w => w.LastSeenMillis >= nowMillis - (long)WriterExpiry.TotalMilliseconds);

    /// <summary>The readers listed at <paramref name="nowMillis"/>: every consumer's, and the iterator readers seen
    /// within <see cref="IteratorReaderExpiry"/> (older ones are forgotten).</summary>
    public IReadOnlyList<ReaderActivity> Readers(long nowMillis) =>
        Live(_readers, r => r.Kind != ReaderKind.Iterator || r.LastSeenMillis >= nowMillis - (long)IteratorReaderExpiry.TotalMilliseconds);

    /// <summary>Forgets a reader (a consumer that no longer exists).</summary>
    public void Forget(ReaderActivity reader) =>
        _readers.TryRemove(new KeyValuePair<(string, int, ReaderKind, string, ClientId), ReaderActivity>(
            (reader.StreamName, reader.ShardIndex, reader.Kind, reader.Name, reader.Kind == ReaderKind.Iterator ? reader.Client : default), reader));

    private static List<T> Live<TKey, T>(ConcurrentDictionary<TKey, T> entries, Func<T, bool> listed) where TKey : notnull
    {
        var live = new List<T>();
        foreach (var (key, entry) in entries)
        {
            if (listed(entry))
                live.Add(entry);
            else
                entries.TryRemove(new KeyValuePair<TKey, T>(key, entry));
        }
        return live;
    }
}
