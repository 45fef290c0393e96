using System.Collections.Concurrent;
using System.Globalization;

namespace Runnel.Storage.Log;

/// <summary>
/// All shard logs under one data directory (<c>{root}/streams/{streamId}/{shardIndex}</c>), opened lazily
/// on first use so that start-up does not depend on the number of shards. A maintenance timer flushes
/// under the interval fsync policy and closes idle file handles. Thread-safe.
/// </summary>
public sealed class LogStore : IShardStore
{
    private readonly string _root;
    private readonly LogOptions _options;
    private readonly Action<string> _warn;
    private readonly ConcurrentDictionary<(long Stream, int Shard), ShardLog> _logs = new();
    private readonly ConcurrentDictionary<long, StreamGate> _gates = new();
    private readonly ITimer _maintenance;
    private int _maintaining;

    public LogStore(string root, LogOptions options, Action<string>? warn = null)
    {
        _root = Path.Combine(root, "streams");
        _options = options;
        _warn = warn ?? (_ => { });
        try
        {
            Directory.CreateDirectory(_root);
        }
        catch (Exception e) when (StorageFault.IsNotWritable(e))
        {
            // Reads must keep working on a read-only data directory; every shard opens read-only and says so.
            _warn($"Cannot create {_root} ({e.Message}): the data directory is read-only; shard logs open read-only.");
        }
        var period = options.Fsync == FsyncPolicy.Interval ? options.FsyncInterval : TimeSpan.FromSeconds(1);
        _maintenance = options.Clock.CreateTimer(_ => Maintain(), null, period, period);
    }

    public LogOptions Options => _options;

    /// <summary>
    /// The shard's log, opened on first use under its stream's gate: one instance per directory, and none after the
    /// stream's deletion (<see cref="ObjectDisposedException"/>). Two instances once wrote the same directory when a
    /// PutRecords routed before a DeleteStream opened a shard just after the delete had closed it.
    /// </summary>
    public IShardLog Open(long streamId, int shardIndex)
    {
        var key = (streamId, shardIndex);
        if (_logs.TryGetValue(key, out var open))
            return open;
        var gate = _gates.GetOrAdd(streamId, static _ => new StreamGate());
        lock (gate)
        {
            if (gate.Deleted)
                throw DeletedStream.Error(streamId);
            if (_logs.TryGetValue(key, out open))
                return open;
            // A failure leaves nothing behind, so that the next request tries again.
            var log = ShardLog.Open(ShardDirectory(streamId, shardIndex), _options, _warn);
            _logs[key] = log;
            return log;
        }
    }

    public IShardLog? OpenIfPresent(long streamId, int shardIndex)
    {
        if (_gates.TryGetValue(streamId, out var gate) && gate.Deleted)
            return null;
        return _logs.ContainsKey((streamId, shardIndex)) || Directory.Exists(ShardDirectory(streamId, shardIndex)) ? Open(streamId, shardIndex) : null;
    }

    /// <summary>Closes and deletes every shard log of a stream; its shards never open again in this process (stream ids
    /// are not reused, so the mark it leaves is a few bytes per deleted stream).</summary>
    public void DeleteStream(long streamId)
    {
        var gate = _gates.GetOrAdd(streamId, static _ => new StreamGate());
        lock (gate)
        {
            gate.Deleted = true;
            foreach (var key in _logs.Keys.Where(k => k.Stream == streamId).ToList())
                if (_logs.TryRemove(key, out var log))
                    log.Dispose();
            string directory = StreamDirectory(streamId);
            try
            {
                if (Directory.Exists(directory))
                    Directory.Delete(directory, recursive: true);
            }
            catch (IOException e)
            {
                _warn($"Could not delete {directory}: {e.Message}. Remove it by hand once Runnel is stopped.");
            }
        }
    }

    /// <summary>Stream directories on disk whose stream is not in <paramref name="known"/> (left by a crash during a delete).</summary>
    public IEnumerable<long> OrphanedStreams(IReadOnlySet<long> known) =>
        (Directory.Exists(_root) ? Directory.GetDirectories(_root) : [])
            .Select(d => long.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out long id) ? id : -1)
            .Where(id => id >= 0 && !known.Contains(id));

    private string StreamDirectory(long streamId) => Path.Combine(_root, streamId.ToString(CultureInfo.InvariantCulture));

    private string ShardDirectory(long streamId, int shardIndex) =>
        Path.Combine(StreamDirectory(streamId), shardIndex.ToString("D12", CultureInfo.InvariantCulture));

    private void Maintain()
    {
        if (Interlocked.Exchange(ref _maintaining, 1) == 1)
            return;
        try
        {
            foreach (var log in _logs.Values)
                log.Maintain();
        }
        catch (Exception e)
        {
            _warn($"Log maintenance failed: {e.Message}");
        }
        finally
        {
            Volatile.Write(ref _maintaining, 0);
        }
    }

    public void Dispose()
    {
        _maintenance.Dispose();
        foreach (var log in _logs.Values)
            log.Dispose();
        _logs.Clear();
    }

    /// <summary>Serializes the opening of a stream's shard logs with the stream's deletion.</summary>
    private sealed class StreamGate
    {
        public bool Deleted;
    }
}
