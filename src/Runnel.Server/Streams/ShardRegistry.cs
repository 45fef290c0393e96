using System.Collections.Concurrent;
using Runnel.Core.Model;
using Runnel.Core.Throughput;
using Runnel.Storage;

namespace Runnel.Server.Streams;

/// <summary>
/// The <see cref="Shard"/> of every shard in use, made on first use and dropped with its stream. Throughput
/// state lives here in memory: a restart starts the budgets and counters afresh. Thread-safe.
/// </summary>
public sealed class ShardRegistry(IShardStore store, ThroughputLimits limits, Func<double> preciseNowMillis)
{
    private readonly ConcurrentDictionary<(long Stream, int Shard), Shard> _shards = new();

    /// <summary>Streams deleted since start (ids are never reused): a request that resolved one before its deletion
    /// gets a retired component, not one kept here for ever.</summary>
    private readonly ConcurrentDictionary<long, byte> _deleted = new();

    /// <summary>The shard's component; its log opens on first use, not here. For a stream deleted meanwhile, a
    /// retired one whose log does not open (<see cref="ObjectDisposedException"/>, which callers answer as not found).</summary>
    public Shard Get(StreamInfo stream, ShardInfo shard)
    {
        var key = (stream.Id, shard.Index);
        if (_shards.TryGetValue(key, out var found))
            return found;
        if (_deleted.ContainsKey(stream.Id))
            return Retired(key);
        var made = _shards.GetOrAdd(key, static (key, self) => self.Create(key.Stream, key.Shard), this);
        // Added just after a deletion took the stream's shards out: taken out again.
        if (_deleted.ContainsKey(stream.Id) && _shards.TryRemove(new KeyValuePair<(long, int), Shard>(key, made)))
            made.Retire();
        return made;
    }

    private Shard Retired((long Stream, int Shard) key)
    {
        var shard = Create(key.Stream, key.Shard);
        shard.Retire();
        return shard;
    }

    private Shard Create(long streamId, int index) =>
        new(store, streamId, index, new ShardThroughput(limits, preciseNowMillis()));

    /// <summary>Deletes a stream's logs and forgets its shards; readers waiting on them wake and find the stream gone.</summary>
    public void DeleteStream(long streamId) => Drop(streamId, store.DeleteStream);

    /// <summary>Forgets the shards of a stream another node deleted: this node's log handles close and its waiting
    /// readers wake and find the stream gone; the logs themselves are the deleting node's to delete.</summary>
    public void ForgetStream(long streamId) => Drop(streamId, store.ForgetStream);

    /// <summary>Removes the stream's shards from the registry, lets the store act on their logs, then retires them.</summary>
    private void Drop(long streamId, Action<long> onLogs)
    {
        _deleted.TryAdd(streamId, 0);
        var removed = new List<Shard>();
        foreach (var key in _shards.Keys.Where(k => k.Stream == streamId).ToList())
            if (_shards.TryRemove(key, out var shard))
                removed.Add(shard);
        onLogs(streamId);
        foreach (var shard in removed)
            shard.Retire();
    }

    /// <summary>Deletes the logs of streams that no metadata names (left by a crash during a delete).</summary>
    public void DeleteOrphans(IReadOnlySet<long> known)
    {
        foreach (long orphan in store.OrphanedStreams(known).ToList())
            store.DeleteStream(orphan);
    }
}
