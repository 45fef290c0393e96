using System.Collections.Concurrent;

namespace Runnel.Core.Metrics;

/// <summary>Who a request came from: the access key of its signature and its User-Agent (either may be empty).</summary>
public readonly record struct ClientId(string AccessKey, string UserAgent)
{
    /// <summary>A short name for people: the access key and the User-Agent's first product ("AKIA… Boto3/1.26.27").</summary>
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

/// <summary>What one client wrote to one stream since the server started: records, bytes, requests, when last.</summary>
public sealed class WriterActivity(string stream, ClientId client)
{
    private long _records, _bytes, _requests, _lastSeen;

    public string StreamName { get; } = stream;
    public ClientId Client { get; } = client;
    public long Records => Interlocked.Read(ref _records);
    public long Bytes => Interlocked.Read(ref _bytes);
    public long Requests => Interlocked.Read(ref _requests);
    public long LastSeenMillis => Volatile.Read(ref _lastSeen);

    public void Wrote(int records, long bytes, long nowMillis)
    {
        Interlocked.Add(ref _records, records);
        Interlocked.Add(ref _bytes, bytes);
        Interlocked.Increment(ref _requests);
        Volatile.Write(ref _lastSeen, nowMillis);
    }
}

/// <summary>
/// One reader of one shard: a client reading with shard iterators (<see cref="ReaderKind.Iterator"/>) or a registered
/// consumer's subscription (<see cref="ReaderKind.Consumer"/>): records read, and how far behind the shard's newest
/// record its last read left it, in records and in milliseconds.
/// </summary>
public sealed class ReaderActivity(string stream, int shardIndex, ReaderKind kind, string name, ClientId client)
{
    private long _records, _reads, _millisBehind, _recordsBehind, _lastSeen;

    public string StreamName { get; } = stream;
    public int ShardIndex { get; } = shardIndex;
    public ReaderKind Kind { get; } = kind;

    /// <summary>The consumer's name; empty for an iterator reader (its <see cref="Client"/> names it).</summary>
    public string Name { get; } = name;

    public ClientId Client { get; } = client;
    public long Records => Interlocked.Read(ref _records);
    public long Reads => Interlocked.Read(ref _reads);
    public long MillisBehind => Volatile.Read(ref _millisBehind);
    public long RecordsBehind => Volatile.Read(ref _recordsBehind);
    public long LastSeenMillis => Volatile.Read(ref _lastSeen);

    public void Read(int records, long millisBehind, long recordsBehind, long nowMillis)
    {
        Interlocked.Add(ref _records, records);
        Interlocked.Increment(ref _reads);
        Volatile.Write(ref _millisBehind, millisBehind);
        Volatile.Write(ref _recordsBehind, Math.Max(0, recordsBehind));
        Volatile.Write(ref _lastSeen, nowMillis);
    }
}

public enum ReaderKind
{
    Iterator,
    Consumer,
}

/// <summary>
/// Who writes to each stream and who reads each shard, as Kinesis cannot show it: per client (access key and
/// User-Agent) and per registered consumer, with each reader's lag. A writer or reader unseen for
/// <see cref="Expiry"/> is forgotten (a shard iterator lives five minutes). One dictionary lookup per request, no
/// lock. Thread-safe.
/// </summary>
public sealed class ClientActivity
{
    /// <summary>How long a writer or reader stays listed after its last request.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<(string Stream, ClientId Client), WriterActivity> _writers = new();
    private readonly ConcurrentDictionary<(string Stream, int Shard, ReaderKind Kind, string Name, ClientId Client), ReaderActivity> _readers = new();

    public WriterActivity Writer(string stream, ClientId client) =>
        _writers.TryGetValue((stream, client), out var found) ? found : _writers.GetOrAdd((stream, client), key => new WriterActivity(key.Stream, key.Client));

    public ReaderActivity Reader(string stream, int shardIndex, ReaderKind kind, string name, ClientId client) =>
        _readers.TryGetValue((stream, shardIndex, kind, name, client), out var found) ? found
            : _readers.GetOrAdd((stream, shardIndex, kind, name, client), key => new ReaderActivity(key.Stream, key.Shard, key.Kind, key.Name, key.Client));

    /// <summary>The writers seen within <see cref="Expiry"/> of <paramref name="nowMillis"/>; older ones are forgotten.</summary>
    public IReadOnlyList<WriterActivity> Writers(long nowMillis) => Live(_writers, w => w.LastSeenMillis, nowMillis);

    /// <summary>The readers seen within <see cref="Expiry"/> of <paramref name="nowMillis"/>; older ones are forgotten.</summary>
    public IReadOnlyList<ReaderActivity> Readers(long nowMillis) => Live(_readers, r => r.LastSeenMillis, nowMillis);

    private static List<T> Live<TKey, T>(ConcurrentDictionary<TKey, T> entries, Func<T, long> lastSeen, long nowMillis) where TKey : notnull
    {
        long since = nowMillis - (long)Expiry.TotalMilliseconds;
        var live = new List<T>();
        foreach (var (key, entry) in entries)
        {
            if (lastSeen(entry) >= since)
                live.Add(entry);
            else
                entries.TryRemove(new KeyValuePair<TKey, T>(key, entry));
        }
        return live;
    }
}
