namespace Runnel.Storage.Metadata;

/// <summary>
/// Resources of one kind kept as metadata documents (delivery streams, channels, alarms, functions): held in memory, each change a
/// compare-and-set on the revision read, so that two nodes of a cluster changing one resource never lose either
/// change (the loser reads the winner's and decides again). A resource whose status change is due (CREATING to
/// ACTIVE, DELETING to gone) is shown changed at once; the node that leads stores the change
/// (<see cref="AdvanceTransitions"/>). Knows nothing of the wire.
/// <para>Thread-safety: every member is thread-safe.</para>
/// </summary>
public abstract class DocumentCatalog<T> where T : class
{
    private const int ConflictRetries = 8;

    private readonly IMetadataStore _store;
    private readonly TimeProvider _clock;
    private readonly Action<string> _warn;
    private readonly string _kind;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, T> _items = new(StringComparer.Ordinal);

    /// <param name="kind">The documents' kind; each document's key is the resource's name.</param>
    protected DocumentCatalog(IMetadataStore store, TimeProvider clock, string kind, Action<string>? warn)
    {
        _store = store;
        _clock = clock;
        _kind = kind;
        _warn = warn ?? (_ => { });
        foreach (var document in store.ReadDocuments(kind))
            if (Decode(document) is { } item)
                _items[document.Key] = item;
    }

    /// <summary>Raised after a resource was stored or changed here or on another node (null: it was deleted), with its name.</summary>
    public event Action<string, T?>? Changed;

    /// <summary>Raised after a resource was deleted here or on another node, with what this node held of it last (so
    /// that what it owned, such as a delivery stream's log, can be let go on every node).</summary>
    public event Action<T>? Removed;

    /// <summary>What the resources are called in the operator's warnings ("delivery stream").</summary>
    protected abstract string Noun { get; }

    /// <summary>The stored document's body.</summary>
    protected abstract byte[] Encode(T item);

    /// <summary>A stored document's resource; <see cref="InvalidDataException"/> when it does not hold one.</summary>
    protected abstract T Decode(byte[] body, ulong revision);

    protected abstract ulong RevisionOf(T item);

    /// <summary>When the resource's next status change is due, Unix ms; null when none is (by default: resources without status changes).</summary>
    protected virtual long? DueOf(T item) => null;

    /// <summary>The resource with its due change made (at or after <see cref="DueOf"/>); null when the change removes it.</summary>
    protected virtual T? Advanced(T item, long nowMillis) => item;

    private long NowMillis => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The resource as it is now (a due change shown made), or null when there is none of that name.</summary>
    public T? Find(string name)
    {
        lock (_lock)
            return _items.TryGetValue(name, out var item) ? Due(item, NowMillis) : null;
    }

    /// <summary>Every resource, ordered by name (ordinal), as it is now.</summary>
    public IReadOnlyList<T> All()
    {
        long now = NowMillis;
        lock (_lock)
            return _items.Values.Select(i => Due(i, now)).OfType<T>().ToList();
    }

    public int Count
    {
        get
        {
            lock (_lock)
                return _items.Count;
        }
    }

    /// <summary>Stores a new resource; false when one of that name is stored already (here or by another node).</summary>
    public bool TryCreate(string name, T item)
    {
        MetadataDocument written;
        try
        {
            written = _store.WriteDocument(_kind, name, Encode(item), 0);
        }
        catch (DocumentConflictException conflict)
        {
            Remember(conflict.Current, name);
            return false;
        }
        Remember(written, name);
        return true;
    }

    /// <summary>
    /// Changes a resource: <paramref name="change"/> gets it as it is now and returns it changed (or throws to refuse,
    /// which changes nothing); the change is stored only if no other node changed it meanwhile, and decided again if
    /// one did. Returns the resource as stored; null when there is none (any more).
    /// </summary>
    public T? Update(string name, Func<T, T> change)
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
                var written = _store.WriteDocument(_kind, name, Encode(changed), RevisionOf(current));
                return Remember(written, name);
            }
            catch (DocumentConflictException conflict) when (attempt < ConflictRetries)
            {
                Remember(conflict.Current, name);
            }
        }
    }

    /// <summary>Deletes a resource's document; the caller has made sure nothing else needs it.</summary>
    public void Delete(string name)
    {
        _store.DeleteDocument(_kind, name);
        Remember(null, name);
    }

    /// <summary>Stores the due status changes; called where this node leads.</summary>
    public void AdvanceTransitions()
    {
        long now = NowMillis;
        List<string> due;
        lock (_lock)
            due = _items.Where(i => DueOf(i.Value) <= now).Select(i => i.Key).ToList();
        foreach (string name in due)
        {
            try
            {
                bool gone = false;
                Update(name, i =>
                {
                    if (DueOf(i) > now || DueOf(i) is null)
                        return i;
                    var advanced = Advanced(i, now);
                    gone = advanced is null;
                    return advanced ?? i;
                });
                if (gone)
                    Delete(name);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or DocumentConflictException)
            {
                _warn($"The status of {Noun} {name} could not be stored ({e.Message}); it is tried again.");
            }
        }
    }

    /// <summary>Applies a change another node made to one of these documents (other kinds are ignored).</summary>
    public void Apply(MetadataChange change)
    {
        switch (change)
        {
            case MetadataChange.DocumentWritten written when written.Document.Kind == _kind:
                Remember(written.Document, written.Document.Key);
                break;
            case MetadataChange.DocumentDeleted deleted when deleted.Kind == _kind:
                Remember(null, deleted.Key);
                break;
        }
    }

    private T? Due(T item, long now) => DueOf(item) <= now ? Advanced(item, now) : item;

    /// <summary>Takes what the store holds now under <paramref name="name"/> (null: nothing) unless this node holds a newer revision.</summary>
    private T? Remember(MetadataDocument? document, string name)
    {
        var item = document is null ? null : Decode(document);
        bool changed;
        T? removed = null;
        lock (_lock)
        {
            if (item is null)
                changed = _items.Remove(name, out removed);
            else if (!_items.TryGetValue(name, out var held) || RevisionOf(held) < RevisionOf(item))
            {
                _items[name] = item;
                changed = true;
            }
            else
                return held;
        }
        if (changed)
            Changed?.Invoke(name, item);
        if (removed is not null)
            Removed?.Invoke(removed);
        return item;
    }

    private T? Decode(MetadataDocument document)
    {
        try
        {
            return Decode(document.Body, document.Revision);
        }
        catch (InvalidDataException e)
        {
            _warn($"The {Noun} {document.Key} is not loaded: {e.Message} It is not served, and its name stays taken so that nothing "
                + "replaces what it holds (a delivery stream's buffered records, say, are kept); restore the metadata from a backup to serve it again.");
            return null;
        }
    }
}
