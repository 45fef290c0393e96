using Runnel.Storage.Metadata;

namespace Runnel.Firehose.Catalog;

/// <summary>
/// The delivery streams of the account: held in memory, stored as metadata documents, each change a compare-and-set
/// on the revision read, so that two nodes of a cluster changing one stream never lose either change (the loser
/// reads the winner's and decides again). A CREATING stream is shown ACTIVE once its time has come; the node that
/// leads stores that change (<see cref="AdvanceTransitions"/>). Knows nothing of the wire.
/// <para>Thread-safety: every member is thread-safe.</para>
/// </summary>
public sealed class DeliveryStreamCatalog
{
    private const int ConflictRetries = 8;

    private readonly IMetadataStore _store;
    private readonly TimeProvider _clock;
    private readonly Action<string> _warn;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, DeliveryStream> _streams = new(StringComparer.Ordinal);

    public DeliveryStreamCatalog(IMetadataStore store, TimeProvider clock, Action<string>? warn = null)
    {
        _store = store;
        _clock = clock;
        _warn = warn ?? (_ => { });
        foreach (var document in store.ReadDocuments(DeliveryStreamCodec.Kind))
            if (Decode(document) is { } stream)
                _streams[stream.Name] = stream;
    }

    /// <summary>Raised after a stream was stored or changed here or on another node (null: it was deleted), with its name.</summary>
    public event Action<string, DeliveryStream?>? Changed;

    private long NowMillis => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The stream as it is now (a due CREATING shown ACTIVE), or null when there is none of that name.</summary>
    public DeliveryStream? Find(string name)
    {
        lock (_lock)
            return _streams.TryGetValue(name, out var stream) ? Due(stream, NowMillis) : null;
    }

    /// <summary>Every stream, ordered by name (ordinal), as it is now.</summary>
    public IReadOnlyList<DeliveryStream> All()
    {
        long now = NowMillis;
        lock (_lock)
            return _streams.Values.Select(s => Due(s, now)).ToList();
    }

    public int Count
    {
        get
        {
            lock (_lock)
                return _streams.Count;
        }
    }

    /// <summary>Stores a new stream; false when one of that name is stored already (here or by another node).</summary>
    public bool TryCreate(DeliveryStream stream)
    {
        MetadataDocument written;
        try
        {
            written = _store.WriteDocument(DeliveryStreamCodec.Kind, stream.Name, DeliveryStreamCodec.Encode(stream), 0);
        }
        catch (DocumentConflictException conflict)
        {
            Remember(conflict.Current, stream.Name);
            return false;
        }
        Remember(written, stream.Name);
        return true;
    }

    /// <summary>
    /// Changes a stream: <paramref name="change"/> gets it as it is now and returns it changed (or throws to refuse,
    /// which changes nothing); the change is stored only if no other node changed the stream meanwhile, and decided
    /// again if one did. Returns the stream as stored; null when there is none (any more).
    /// </summary>
    public DeliveryStream? Update(string name, Func<DeliveryStream, DeliveryStream> change)
    {
        for (int attempt = 0; ; attempt++)
        {
            var current = Find(name);
            if (current is null)
                return null;
            var changed = change(current);
            if (ReferenceEquals(changed, current))
                return current;
            try
            {
                var written = _store.WriteDocument(DeliveryStreamCodec.Kind, name, DeliveryStreamCodec.Encode(changed), current.Revision);
                return Remember(written, name);
            }
            catch (DocumentConflictException conflict) when (attempt < ConflictRetries)
            {
                Remember(conflict.Current, name);
            }
        }
    }

    /// <summary>Deletes a stream's document; the caller has made sure nothing else needs it.</summary>
    public void Delete(string name)
    {
        _store.DeleteDocument(DeliveryStreamCodec.Kind, name);
        Remember(null, name);
    }

    /// <summary>Stores the due status changes (CREATING to ACTIVE); called where this node leads.</summary>
    public void AdvanceTransitions()
    {
        long now = NowMillis;
        List<string> due;
        lock (_lock)
            due = _streams.Values.Where(s => s.DueMillis <= now).Select(s => s.Name).ToList();
        foreach (string name in due)
        {
            try
            {
                Update(name, s => s.DueMillis <= now ? Due(s, now) : s);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or DocumentConflictException)
            {
                _warn($"The status of delivery stream {name} could not be stored ({e.Message}); it is tried again.");
            }
        }
    }

    /// <summary>Applies a change another node made to a delivery stream's document.</summary>
    public void Apply(MetadataChange change)
    {
        switch (change)
        {
            case MetadataChange.DocumentWritten { Document.Kind: DeliveryStreamCodec.Kind } written:
                Remember(written.Document, written.Document.Key);
                break;
            case MetadataChange.DocumentDeleted { Kind: DeliveryStreamCodec.Kind } deleted:
                Remember(null, deleted.Key);
                break;
        }
    }

    /// <summary>The stream with its due change made: a CREATING stream whose time came is ACTIVE (CREATING_FAILED if it has a failure).</summary>
    private static DeliveryStream Due(DeliveryStream stream, long now) =>
        stream.DueMillis <= now && stream.Status == DeliveryStreamStatus.Creating
            ? stream with { Status = stream.Failure is null ? DeliveryStreamStatus.Active : DeliveryStreamStatus.CreatingFailed, DueMillis = null }
            : stream;

    /// <summary>Takes what the store holds now under <paramref name="name"/> (null: nothing) unless this node holds a newer revision.</summary>
    private DeliveryStream? Remember(MetadataDocument? document, string name)
    {
        var stream = document is null ? null : Decode(document);
        bool changed;
        lock (_lock)
        {
            if (stream is null)
                changed = _streams.Remove(name);
            else if (!_streams.TryGetValue(name, out var held) || held.Revision < stream.Revision)
            {
                _streams[name] = stream;
                changed = true;
            }
            else
                return held;
        }
        if (changed)
            Changed?.Invoke(name, stream);
        return stream;
    }

    private DeliveryStream? Decode(MetadataDocument document)
    {
        try
        {
            return DeliveryStreamCodec.Decode(document.Body, document.Revision);
        }
        catch (InvalidDataException e)
        {
            _warn($"Delivery stream {document.Key} is not loaded: {e.Message} Delete it, or restore the metadata from a backup.");
            return null;
        }
    }
}
