using System.Collections.Concurrent;
using System.Globalization;
using NATS.Client.JetStream;

namespace Runnel.Storage.JetStream;

/// <summary>
/// The shard logs of every stream, each in a JetStream stream of its own named <c>RUNNEL_{streamId}_{shardIndex}</c>
/// with the subject <c>runnel.shard.{streamId}.{shardIndex}</c> (docs/adr/0001-kinesis-on-jetstream.md). The
/// connection is the caller's. Thread-safe.
/// </summary>
public sealed class JetStreamShardStore(INatsJSContext js, JetStreamSettings settings) : IShardStore
{
    private const string Prefix = "RUNNEL_";

    private readonly ConcurrentDictionary<(long Stream, int Shard), Lazy<Task<JetStreamShardLog>>> _open = new();

    // Streams deleted or forgotten here (ids are never reused): their shards do not open again, which would make a
    // JetStream stream anew for the orphan sweep and keep its log open on this node.
    private readonly ConcurrentDictionary<long, byte> _deleted = new();

    // Openings under way, by stream: forgetting the stream stops them. A node that went on making a deleted stream's
    // JetStream stream (asking again while unanswered) and the node deleting it kept each other's requests unanswered.
    private readonly ConcurrentDictionary<(long Stream, int Shard), CancellationTokenSource> _opening = new();

    public static string StreamNameOf(long streamId, int shardIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{streamId}_{shardIndex}");

    public static string SubjectOf(long streamId, int shardIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"runnel.shard.{streamId}.{shardIndex}");

    /// <summary>Opens (creating when absent) the shard's JetStream stream, blocking for the round trips; prefer
    /// <see cref="OpenAsync"/> on a request path.</summary>
    public IShardLog Open(long streamId, int shardIndex) => OpenAsync(streamId, shardIndex).AsTask().GetAwaiter().GetResult();

    /// <summary>Opens (creating when absent) the shard's JetStream stream once per node: callers that come while it
    /// opens wait for the same opening. Fails with a <see cref="StorageUnavailableException"/> when JetStream cannot
    /// be reached; the next call tries again.</summary>
    public ValueTask<IShardLog> OpenAsync(long streamId, int shardIndex)
    {
        if (_deleted.ContainsKey(streamId))
            return ValueTask.FromException<IShardLog>(DeletedStream.Error(streamId));
        var key = (streamId, shardIndex);
        var lazy = _open.GetOrAdd(key, k => new Lazy<Task<JetStreamShardLog>>(() => OpenNowAsync(k.Stream, k.Shard)));
        var opening = lazy.Value;
        return opening.IsCompletedSuccessfully ? new ValueTask<IShardLog>(opening.Result) : Awaited(key, lazy);
    }

    /// <summary>The shard's log when its JetStream stream exists (asked of JetStream unless this node opened it), or null.</summary>
    public IShardLog? OpenIfPresent(long streamId, int shardIndex)
    {
        if (!_open.ContainsKey((streamId, shardIndex)))
        {
            try
            {
                js.GetStreamAsync(StreamNameOf(streamId, shardIndex)).AsTask().GetAwaiter().GetResult();
            }
            catch (NatsJSApiException e) when (e.Error.Code == 404)
            {
                return null; // never written, read or opened by any node
            }
            catch (Exception e) when (e is NATS.Client.Core.NatsException or TimeoutException)
            {
                throw new StorageUnavailableException($"JetStream could not say whether shard {shardIndex} of stream {streamId} has a log: {e.Message}", e);
            }
        }
        return Open(streamId, shardIndex);
    }

    private async ValueTask<IShardLog> Awaited((long, int) key, Lazy<Task<JetStreamShardLog>> lazy)
    {
        try
        {
            return await lazy.Value.ConfigureAwait(false);
        }
        catch
        {
            _open.TryRemove(new KeyValuePair<(long, int), Lazy<Task<JetStreamShardLog>>>(key, lazy));
            throw;
        }
    }

    private async Task<JetStreamShardLog> OpenNowAsync(long streamId, int shardIndex)
    {
        using var forgotten = new CancellationTokenSource();
        _opening[(streamId, shardIndex)] = forgotten;
        try
        {
            if (_deleted.ContainsKey(streamId))
                throw DeletedStream.Error(streamId);
            var log = await JetStreamShardLog.OpenAsync(js, StreamNameOf(streamId, shardIndex), SubjectOf(streamId, shardIndex), settings, forgotten.Token).ConfigureAwait(false);
            if (!_deleted.ContainsKey(streamId))
                return log;
            // Deleted while it opened: not kept (the JetStream stream it may have made again is the sweep's).
            log.Dispose();
            throw DeletedStream.Error(streamId);
        }
        catch (OperationCanceledException) when (forgotten.IsCancellationRequested)
        {
            throw DeletedStream.Error(streamId);
        }
        catch (Exception e) when (e is NATS.Client.Core.NatsException or TimeoutException)
        {
            throw new StorageUnavailableException($"JetStream could not open the log of shard {shardIndex} of stream {streamId}: {e.Message}", e);
        }
        finally
        {
            _opening.TryRemove(new KeyValuePair<(long, int), CancellationTokenSource>((streamId, shardIndex), forgotten));
        }
    }

    public void DeleteStream(long streamId)
    {
        ForgetStream(streamId);
        foreach (string name in StreamNames().Where(n => IdOf(n) == streamId))
            DeleteStreamNamed(name);
    }

    public void ForgetStream(long streamId)
    {
        _deleted.TryAdd(streamId, 0);
        foreach (var (key, opening) in _opening)
            if (key.Stream == streamId)
            {
                try
                {
                    opening.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // that opening just ended
                }
            }
        foreach (var key in _open.Keys.Where(k => k.Stream == streamId).ToList())
            if (_open.TryRemove(key, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
                lazy.Value.Result.Dispose();
    }

    /// <summary>
    /// Deletes one JetStream stream; one already gone is fine. A request that got no answer is asked again, each
    /// attempt waiting 1, 2, then 4 s (<see cref="Unanswered.RetryWithinAsync{T}"/>), for about 15 s, then fails with a
    /// <see cref="StorageUnavailableException"/>: a delete sent while another node was creating the stream (the elected
    /// node opening a new delivery stream's log) went unanswered, and waiting the connection's whole request timeout
    /// made DeleteDeliveryStream take 10 s.
    /// </summary>
    private void DeleteStreamNamed(string name)
    {
        try
        {
            Unanswered.RetryWithinAsync(async within =>
            {
                try
                {
                    return await js.DeleteStreamAsync(name, within).ConfigureAwait(false);
                }
                catch (NatsJSApiException e) when (e.Error.Code == 404)
                {
                    return true; // already deleted (a delete that got no answer may have done it)
                }
            }, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is NATS.Client.Core.NatsException or TimeoutException || Unanswered.Is(e))
        {
            throw new StorageUnavailableException($"JetStream did not delete the stream {name}: {e.Message}", e);
        }
    }

    public IEnumerable<long> OrphanedStreams(IReadOnlySet<long> known) =>
        StreamNames().Select(IdOf).OfType<long>().Where(id => !known.Contains(id)).Distinct().ToList();

    private List<string> StreamNames()
    {
        var names = new List<string>();
        var list = js.ListStreamNamesAsync().GetAsyncEnumerator();
        try
        {
            while (list.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                if (list.Current.StartsWith(Prefix, StringComparison.Ordinal))
                    names.Add(list.Current);
        }
        finally
        {
            list.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return names;
    }

    /// <summary>The stream id in a shard stream's name; null for a name of another form.</summary>
    private static long? IdOf(string name)
    {
        int underscore = name.IndexOf('_', Prefix.Length);
        return underscore > Prefix.Length && long.TryParse(name.AsSpan(Prefix.Length, underscore - Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long id)
            ? id
            : null;
    }

    public void Dispose()
    {
        foreach (var lazy in _open.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
                lazy.Value.Result.Dispose();
        _open.Clear();
    }
}
