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

    /// <summary>The shard's component; its log opens on first use, not here.</summary>
    public Shard Get(StreamInfo stream, ShardInfo shard) =>
        _shards.GetOrAdd((stream.Id, shard.Index), static (key, self) => self.Create(key.Stream, key.Shard), this);

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
