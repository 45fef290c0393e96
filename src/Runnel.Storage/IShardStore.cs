namespace Runnel.Storage;

/// <summary>
/// Where the shard logs of every stream live: the one door from the server to a storage backend. The
/// embedded backend (<see cref="Log.LogStore"/>) keeps them as segment files under the data directory; a
/// second backend implements this and <see cref="IShardLog"/> and passes the same storage tests.
/// Implementations are thread-safe.
/// </summary>
public interface IShardStore : IDisposable
{
    /// <summary>The log of one shard, opened (and recovered) on first use; the same instance until the stream is
    /// deleted. Throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when the log cannot
    /// be opened; the next call tries again.</summary>
    IShardLog Open(long streamId, int shardIndex);

    /// <summary>As <see cref="Open"/>, without blocking a thread while a log across a network is reached (a
    /// cluster's first use of a shard); a log that opens on this machine opens synchronously.</summary>
    ValueTask<IShardLog> OpenAsync(long streamId, int shardIndex) => ValueTask.FromResult(Open(streamId, shardIndex));

    /// <summary>
    /// The shard's log when it has one (it was written, read or opened before, here or on another node sharing the
    /// store), or null, creating nothing: for work that has nothing to do on a log never made (retention), where
    /// <see cref="Open"/> would make one (on a cluster, a replicated JetStream stream).
    /// </summary>
    IShardLog? OpenIfPresent(long streamId, int shardIndex) => Open(streamId, shardIndex);

    /// <summary>Closes and deletes every shard log of a stream.</summary>
    void DeleteStream(long streamId);

    /// <summary>Closes this node's handles on the logs of a stream that another node deleted (a cluster), deleting
    /// nothing itself; a store no other node shares has nothing to do.</summary>
    void ForgetStream(long streamId)
    {
    }

    /// <summary>Streams that have logs but are not in <paramref name="known"/> (left by a crash during a delete).</summary>
    IEnumerable<long> OrphanedStreams(IReadOnlySet<long> known);
}
