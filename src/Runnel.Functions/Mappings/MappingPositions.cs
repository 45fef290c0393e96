using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runnel.Storage.Metadata;

namespace Runnel.Functions.Mappings;

/// <summary>
/// How far a mapping has given a stream's shards to its function: per shard, the log offset of the first record not
/// yet done, in one metadata document per mapping (kind <see cref="Kind"/>, key the mapping's UUID), written after
/// each batch the function took (or that was given up), so that a restart or a failover resumes after it. The stream's
/// id is kept too: a stream deleted and made again under its name is read from its start. A shard's open tumbling
/// window (its start and state) is kept beside its position. Thread-safe: the readers of a mapping's shards share it
/// (one mapping's poller, on the node that leads).
/// </summary>
public sealed class MappingPositions
{
    public const string Kind = "event-source-mapping-position";

    private readonly IMetadataStore _store;
    private readonly string _uuid;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, ulong> _next = [];
    private readonly Dictionary<int, (long Start, string State)> _windows = [];
    private ulong _revision;

    private MappingPositions(IMetadataStore store, string uuid)
    {
        _store = store;
        _uuid = uuid;
    }

    /// <summary>The mapping's last processing result as Lambda shows it (<c>OK</c>, <c>PROBLEM: …</c>), or null before any.</summary>
    public string? Result { get; private set; }

    /// <summary>The stream the positions are of; -1 before any.</summary>
    public long StreamId { get; private set; } = -1;

    public static MappingPositions Load(IMetadataStore store, string uuid)
    {
        var positions = new MappingPositions(store, uuid);
        if (store.ReadDocument(Kind, uuid) is { } document)
        {
            positions._revision = document.Revision;
            try
            {
                var json = JsonNode.Parse(document.Body)!.AsObject();
                positions.StreamId = json["streamId"]!.GetValue<long>();
                positions.Result = json["result"]?.GetValue<string>();
                foreach (var (shard, offset) in json["shards"]!.AsObject())
                    positions._next[int.Parse(shard, CultureInfo.InvariantCulture)] = offset!.GetValue<ulong>();
                if (json["windows"] is JsonObject windows)
                    foreach (var (shard, window) in windows)
                        positions._windows[int.Parse(shard, CultureInfo.InvariantCulture)] = (window!["start"]!.GetValue<long>(), window["state"]!.GetValue<string>());
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
            {
                positions._next.Clear(); // unreadable: read again from the starting position
                positions._windows.Clear();
            }
        }
        return positions;
    }

    public bool TryGet(int shard, out ulong next)
    {
        lock (_gate)
            return _next.TryGetValue(shard, out next);
    }

    /// <summary>Every shard's position now (a copy).</summary>
    public Dictionary<int, ulong> Snapshot()
    {
        lock (_gate)
            return new Dictionary<int, ulong>(_next);
    }

    /// <summary>The shard's open tumbling window as kept, if any.</summary>
    public bool TryGetWindow(int shard, out long start, out string state)
    {
        lock (_gate)
        {
            bool found = _windows.TryGetValue(shard, out var window);
            (start, state) = found ? window : (-1, "{}");
            return found;
        }
    }

    /// <summary>Moves to another stream (a new incarnation of the name): the old positions are forgotten.</summary>
    public void Reset(long streamId)
    {
        lock (_gate)
        {
            StreamId = streamId;
            _next.Clear();
            _windows.Clear();
        }
    }

    /// <summary>Notes the shard's next offset (and its open window, if it has one) and stores the positions.</summary>
    public void Set(int shard, ulong next, TumblingWindow? window = null)
    {
        lock (_gate)
        {
            _next[shard] = next;
            if (window is { IsOpen: true })
                _windows[shard] = (window.StartMillis, window.State);
            else
                _windows.Remove(shard);
            Save();
        }
    }

    /// <summary>Notes the mapping's processing result, storing it when it changed.</summary>
    public void SetResult(string result)
    {
        lock (_gate)
        {
            if (Result == result)
                return;
            Result = result;
            Save();
        }
    }

    /// <summary>The last processing result stored for a mapping, or null.</summary>
    public static string? ReadResult(IMetadataStore store, string uuid)
    {
        try
        {
            return store.ReadDocument(Kind, uuid) is { } document ? JsonNode.Parse(document.Body)?["result"]?.GetValue<string>() : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Deletes the document (the mapping is gone).</summary>
    public static void Delete(IMetadataStore store, string uuid) => store.DeleteDocument(Kind, uuid);

    private void Save()
    {
        var shards = new JsonObject();
        foreach (var (shard, offset) in _next.OrderBy(p => p.Key))
            shards[shard.ToString(CultureInfo.InvariantCulture)] = offset;
        var json = new JsonObject { ["streamId"] = StreamId, ["shards"] = shards };
        if (Result is not null)
            json["result"] = Result;
        if (_windows.Count > 0)
        {
            var windows = new JsonObject();
            foreach (var (shard, (start, state)) in _windows.OrderBy(p => p.Key))
                windows[shard.ToString(CultureInfo.InvariantCulture)] = new JsonObject { ["start"] = start, ["state"] = state };
            json["windows"] = windows;
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(json, Catalog.FunctionsJsonContext.Default.JsonObject);
        try
        {
            _revision = _store.WriteDocument(Kind, _uuid, body, _revision).Revision;
        }
        catch (DocumentConflictException conflict)
        {
            // Another node wrote it (a failover): this node's positions are at least as far; write over it.
            _revision = _store.WriteDocument(Kind, _uuid, body, conflict.Current?.Revision ?? 0).Revision;
        }
    }
}
