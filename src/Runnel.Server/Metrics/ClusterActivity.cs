using Runnel.Core.Metrics;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Metrics;

/// <summary>
/// The other nodes' activity as last published (<see cref="ClusterActivity.Refresh"/>): entries that mirror their
/// writers, readers, streams' and delivery streams' counters. A mirror object stays the same from one refresh to the
/// next while its node keeps publishing it, so that rates (<see cref="RateSampler"/>, keyed by object) work on it. Immutable
/// lists of objects that a refresh updates in place.
/// </summary>
public sealed class RemoteActivity
{
    /// <summary>Nothing from other nodes (one node, or none has published).</summary>
    public static readonly RemoteActivity None = new([], [], [], []);

    internal RemoteActivity(IReadOnlyList<WriterActivity> writers, IReadOnlyList<ReaderActivity> readers, IReadOnlyList<StreamMirror> streams, IReadOnlyList<DeliveryMirror> deliveries)
    {
        Writers = writers;
        Readers = readers;
        Streams = streams;
        Deliveries = deliveries;
    }

    public IReadOnlyList<WriterActivity> Writers { get; }

    public IReadOnlyList<ReaderActivity> Readers { get; }

    /// <summary>Each stream's counters, one entry per node that published it.</summary>
    public IReadOnlyList<StreamMirror> Streams { get; }

    /// <summary>Each delivery stream's counters, one entry per node that published it.</summary>
    public IReadOnlyList<DeliveryMirror> Deliveries { get; }

    /// <summary>Every counter of the mirrors, keyed by the object holding it, for the rate sampler.</summary>
    public IEnumerable<(object, long)> Counters()
    {
        foreach (var writer in Writers)
        {
            yield return (writer, writer.Records);
            yield return (writer.FailedRecords, writer.FailedRecords.Value);
        }
        foreach (var reader in Readers)
        {
            yield return (reader, reader.Records);
            yield return (reader.Errors, reader.Errors.Value);
        }
        foreach (var stream in Streams)
        {
            foreach (var counter in new[] { stream.IncomingRecords, stream.IncomingBytes, stream.OutgoingRecords, stream.Errors })
                yield return (counter, counter.Value);
        }
        foreach (var delivery in Deliveries)
        {
            foreach (var counter in new[] { delivery.IncomingRecords, delivery.ReadRecords, delivery.DeliveredRecords, delivery.FailedAttempts })
                yield return (counter, counter.Value);
        }
    }

    /// <summary>A stream's counters on another node (<see cref="ActivitySnapshot.Stream"/>).</summary>
    public sealed class StreamMirror(string name)
    {
        public string Name { get; } = name;
        public ErrorCount IncomingRecords { get; } = new();
        public ErrorCount IncomingBytes { get; } = new();
        public ErrorCount OutgoingRecords { get; } = new();
        public ErrorCount Errors { get; } = new();
    }

    /// <summary>A delivery stream's counters on another node, and its position in its source when its delivery runs there
    /// (<see cref="ActivitySnapshot.Delivery"/>).</summary>
    public sealed class DeliveryMirror(string name)
    {
        public string Name { get; } = name;
        public ErrorCount IncomingRecords { get; } = new();
        public ErrorCount ReadRecords { get; } = new();
        public ErrorCount DeliveredRecords { get; } = new();
        public ErrorCount FailedAttempts { get; } = new();
        public SourcePosition? Source { get; internal set; }
    }
}

/// <summary>
/// Makes the pipeline view cluster-wide: every <see cref="PublishInterval"/> this node writes what it served
/// (<see cref="ActivitySnapshot"/>) to the metadata store's documents (kind <see cref="ActivitySnapshot.Kind"/>, key the
/// node's id), off the request path, and <see cref="Refresh"/> turns the other nodes' snapshots published within
/// <see cref="Staleness"/> (older ones are those of nodes stopped or cut off, and are left out) into mirror entries.
/// The snapshots are read from the store once, then kept as the store's follow reports them (<see cref="Apply"/>):
/// listing them at every refresh made JetStream create and delete a consumer each time, every 5 s per node and at
/// every poll of an open console.
/// Snapshots not rewritten for <see cref="Abandoned"/> are deleted by whichever node sees them. Only on a cluster (one
/// node has no one to tell). Thread-safe: a refresh at a time; the timer's publish runs beside it.
/// </summary>
public sealed class ClusterActivity : IDisposable
{
    /// <summary>How often a node publishes its snapshot.</summary>
    public static readonly TimeSpan PublishInterval = TimeSpan.FromSeconds(5);

    /// <summary>How old a snapshot may be and still count: a node that published none for this long is taken for gone.</summary>
    public static readonly TimeSpan Staleness = TimeSpan.FromSeconds(30);

    /// <summary>How old a snapshot is when it is deleted (its node, or its node id, is gone).</summary>
    public static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(10);

    private readonly string _node;
    private readonly IMetadataStore _metadata;
    private readonly MetricRegistry _registry;
    private readonly TimeProvider _clock;
    private readonly Action<string> _warn;
    private readonly ITimer _timer;
    private readonly Lock _publishing = new(), _refreshing = new();
    private ulong _revision;
    private bool _warned;
    private Dictionary<(string Node, string Kind, string Key), object> _mirrors = [];
    private readonly Dictionary<string, MetadataDocument> _snapshots = []; // the other nodes', by node id; locked
    private RemoteActivity _current = RemoteActivity.None;

    public ClusterActivity(string node, IMetadataStore metadata, MetricRegistry registry, TimeProvider clock, Action<string> warn)
    {
        _node = node;
        _metadata = metadata;
        _registry = registry;
        _clock = clock;
        _warn = warn;
        foreach (var document in metadata.ReadDocuments(ActivitySnapshot.Kind))
            Apply(new MetadataChange.DocumentWritten(document));
        _timer = clock.CreateTimer(_ => Tick(), null, PublishInterval, PublishInterval);
    }

    /// <summary>Takes another node's snapshot written or deleted, as the metadata store's follow reports it.</summary>
    public void Apply(MetadataChange change)
    {
        lock (_snapshots)
        {
            switch (change)
            {
                case MetadataChange.DocumentWritten { Document: var document } when document.Kind == ActivitySnapshot.Kind && document.Key != _node:
                    if (!_snapshots.TryGetValue(document.Key, out var held) || held.Revision < document.Revision)
                        _snapshots[document.Key] = document;
                    break;
                case MetadataChange.DocumentDeleted deleted when deleted.Kind == ActivitySnapshot.Kind:
                    _snapshots.Remove(deleted.Key);
                    break;
            }
        }
    }

    /// <summary>The mirrors as the last refresh left them.</summary>
    public RemoteActivity Current => Volatile.Read(ref _current);

    private long NowMillis => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private void Tick()
    {
        try
        {
            Publish();
            Refresh(sweep: true);
            _warned = false;
        }
        catch (ObjectDisposedException)
        {
            // stopping: the store closed under the tick
        }
        catch (Exception e)
        {
            // A timer's callback must not throw; the next tick tries again. Said once until it works again.
            if (!_warned)
                _warn($"This node's reader and writer activity could not be shared with the other nodes ({e.GetType().Name}: {e.Message}); their pipeline views miss it until it can.");
            _warned = true;
        }
    }

    /// <summary>Writes this node's snapshot now (the timer does it every <see cref="PublishInterval"/>; tests may too).</summary>
    public void Publish()
    {
        byte[] body = ActivitySnapshot.Take(_node, _registry, NowMillis).Encode();
        lock (_publishing)
        {
            try
            {
                _revision = _metadata.WriteDocument(ActivitySnapshot.Kind, _node, body, _revision).Revision;
            }
            catch (DocumentConflictException conflict)
            {
                // Only this node writes its key: a conflict is a first write over a document left by an earlier run.
                _revision = _metadata.WriteDocument(ActivitySnapshot.Kind, _node, body, conflict.Current?.Revision ?? 0).Revision;
            }
        }
    }

    /// <summary>Reads the other nodes' fresh snapshots into the mirrors and returns them.</summary>
    public RemoteActivity Refresh() => Refresh(sweep: false);

    private RemoteActivity Refresh(bool sweep)
    {
        long now = NowMillis;
        var snapshots = new List<ActivitySnapshot>();
        List<MetadataDocument> held;
        lock (_snapshots)
            held = [.. _snapshots.Values];
        foreach (var document in held)
        {
            if (ActivitySnapshot.Decode(document.Body) is not { } snapshot)
                continue;
            if (snapshot.AtMillis >= now - (long)Staleness.TotalMilliseconds)
                snapshots.Add(snapshot);
            else if (sweep && snapshot.AtMillis < now - (long)Abandoned.TotalMilliseconds)
            {
                try
                {
                    _metadata.DeleteDocument(ActivitySnapshot.Kind, document.Key, document.Revision);
                    Apply(new MetadataChange.DocumentDeleted(ActivitySnapshot.Kind, document.Key));
                }
                catch (DocumentConflictException)
                {
                    // its node came back and wrote it again
                }
            }
        }
        lock (_refreshing)
        {
            var known = _mirrors;
            var mirrors = new Dictionary<(string, string, string), object>();
            T Mirror<T>(string node, string kind, string key, Func<T> make) where T : class
            {
                var id = (node, kind, key);
                var mirror = known.GetValueOrDefault(id) as T ?? make();
                mirrors[id] = mirror;
                return mirror;
            }
            List<WriterActivity> writers = [];
            List<ReaderActivity> readers = [];
            List<RemoteActivity.StreamMirror> streams = [];
            List<RemoteActivity.DeliveryMirror> deliveries = [];
            foreach (var snapshot in snapshots)
            {
                foreach (var w in snapshot.Writers)
                {
                    var mirror = Mirror(snapshot.Node, "writer", w.Stream + "\n" + w.Client.AccessKey + "\n" + w.Client.UserAgent, () => new WriterActivity(w.Stream, w.Client));
                    mirror.Restore(w.Records, w.Bytes, w.Requests, w.FailedRecords, w.LastSeenMillis);
                    writers.Add(mirror);
                }
                foreach (var r in snapshot.Readers)
                {
                    // A consumer is one reader whoever subscribes; an iterator reader is its client.
                    string client = r.Kind == ReaderKind.Iterator ? r.Client.AccessKey + "\n" + r.Client.UserAgent : "";
                    var mirror = Mirror(snapshot.Node, "reader", $"{r.Stream}\n{r.Shard}\n{r.Kind}\n{r.Name}\n{client}",
                        () => new ReaderActivity(r.Stream, r.Shard, r.Kind, r.Name, r.Client));
                    mirror.Restore(r.Client, r.Records, r.Reads, r.Errors, r.Position, r.LastSeenMillis);
                    readers.Add(mirror);
                }
                foreach (var s in snapshot.Streams)
                {
                    var mirror = Mirror(snapshot.Node, "stream", s.Name, () => new RemoteActivity.StreamMirror(s.Name));
                    mirror.IncomingRecords.Set(s.IncomingRecords);
                    mirror.IncomingBytes.Set(s.IncomingBytes);
                    mirror.OutgoingRecords.Set(s.OutgoingRecords);
                    mirror.Errors.Set(s.Errors);
                    streams.Add(mirror);
                }
                foreach (var d in snapshot.Deliveries)
                {
                    var mirror = Mirror(snapshot.Node, "delivery", d.Name, () => new RemoteActivity.DeliveryMirror(d.Name));
                    mirror.IncomingRecords.Set(d.IncomingRecords);
                    mirror.ReadRecords.Set(d.ReadRecords);
                    mirror.DeliveredRecords.Set(d.DeliveredRecords);
                    mirror.FailedAttempts.Set(d.FailedAttempts);
                    mirror.Source = d.SourceStream is { } source ? new SourcePosition(source, d.ReadTo) : null;
                    deliveries.Add(mirror);
                }
            }
            _mirrors = mirrors;
            var current = new RemoteActivity(writers, readers, streams, deliveries);
            Volatile.Write(ref _current, current);
            return current;
        }
    }

    /// <summary>Stops publishing and takes this node's snapshot away (the other nodes would drop it once stale anyway).</summary>
    public void Dispose()
    {
        _timer.Dispose();
        try
        {
            lock (_publishing)
                _metadata.DeleteDocument(ActivitySnapshot.Kind, _node);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // stopping without the store: the snapshot goes stale and is left out
        }
    }
}
