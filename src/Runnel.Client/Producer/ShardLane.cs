namespace Runnel.Client.Producer;

/// <summary>
/// The entries bound for one predicted shard, in the order their records were accepted, and what holds them back:
/// the request of this lane in flight (one at a time, so that a later entry never overtakes an earlier one that
/// fails), a backoff after a failure, and the shard's <see cref="ShardRateLimiter"/>. Entries that failed go back to
/// the front, in their order, ahead of newer ones, so that records of a partition key keep their order across
/// retries. Within one request a lane sends only entries that share no partition key. Not thread-safe (the producer's
/// pipeline owns it).
/// </summary>
internal sealed class ShardLane(string shardId, ShardRateLimiter? limiter)
{
    /// <summary>The lane of records no shard of the map held when they were accepted (Kinesis routes them itself).</summary>
    public const string Unpredicted = "";

    private readonly LinkedList<ProducerEntry> _entries = new();
    private readonly HashSet<string> _takenKeys = new(StringComparer.Ordinal); // the keys of one request's entries, reused

    public string ShardId { get; } = shardId;

    /// <summary>The shard's budget; null when rate limiting is off, or for <see cref="Unpredicted"/>.</summary>
    public ShardRateLimiter? Limiter { get; } = limiter;

    /// <summary>Whether a request holding entries of this lane is in flight.</summary>
    public bool InFlight { get; set; }

    /// <summary>The producer clock's timestamp before which the lane sends nothing (a backoff); 0 for none.</summary>
    public long NotBefore { get; set; }

    /// <summary>Failed puts in a row, for the backoff.</summary>
    public int FailuresInARow { get; set; }

    public int Count => _entries.Count;

    /// <summary>Adds a new entry at the back.</summary>
    public void Enqueue(ProducerEntry entry) => _entries.AddLast(entry);

    /// <summary>Puts entries that failed back at the front, in their order, ahead of every entry waiting.</summary>
    public void RequeueFront(IReadOnlyList<ProducerEntry> failed)
    {
        for (int i = failed.Count - 1; i >= 0; i--)
            _entries.AddFirst(failed[i]);
    }

    /// <summary>The entries waiting, front first.</summary>
    public IEnumerable<ProducerEntry> Waiting => _entries;

    /// <summary>
    /// Takes entries from the front for one request, in order, while <paramref name="admit"/> takes each (room in the
    /// request, budget of the shard) and each shares no partition key with those taken before it; stops at the first
    /// that does not qualify, so none is skipped over.
    /// </summary>
    public List<ProducerEntry> TakeForRequest(Func<ProducerEntry, bool> admit)
    {
        var taken = new List<ProducerEntry>();
        _takenKeys.Clear();
        while (_entries.First is { } node)
        {
            var entry = node.Value;
            if (taken.Count > 0)
            {
                // The keys are gathered only when a second entry is considered: most requests take one per lane.
                if (taken.Count == 1)
                    _takenKeys.UnionWith(taken[0].PartitionKeys);
                if (SharesKey(entry))
                    break;
            }
            if (!admit(entry))
                break;
            _entries.RemoveFirst();
            if (taken.Count > 0)
                _takenKeys.UnionWith(entry.PartitionKeys);
            taken.Add(entry);
        }
        return taken;
    }

    private bool SharesKey(ProducerEntry entry)
    {
        foreach (string key in entry.PartitionKeys)
            if (_takenKeys.Contains(key))
                return true;
        return false;
    }

    /// <summary>Takes every entry waiting (to fail them).</summary>
    public List<ProducerEntry> TakeAll()
    {
        var all = _entries.ToList();
        _entries.Clear();
        return all;
    }
}
