namespace Runnel.Client.Aggregation;

/// <summary>
/// A Kinesis record made of user records, with the shard it was aggregated for.
/// </summary>
/// <param name="PredictedShardId">The shard the map said its records go to; null for a record no shard of the map held (sent alone).</param>
/// <param name="Entry">The entry to put.</param>
/// <param name="UserRecords">The user records it carries, in order (their sub-sequence numbers when read back).</param>
public sealed record AggregatedEntry(string? PredictedShardId, PutRecordsEntry Entry, IReadOnlyList<UserRecord> UserRecords);

/// <summary>
/// Aggregates user records per shard, as the KPL does, so that an aggregate never holds records of two shards: each
/// record goes to the aggregator of the shard its hash key maps to in a <see cref="ShardMap"/>; an aggregate is
/// completed when the next record of its shard does not fit, or when flushed. A record whose hash key no shard of the
/// map holds (a map read mid-reshard) is sent alone at once, as the KPL sends a record it cannot predict. When the map
/// changes, flush and start a new one. Time (how long an aggregate may wait) is the producer's: it flushes a shard when
/// its deadline passes. Not thread-safe.
/// </summary>
public sealed class ShardedAggregator
{
    private readonly Dictionary<string, RecordAggregator> _shards = new(StringComparer.Ordinal);
    private readonly int _maxRecordBytes;

    /// <summary>Aggregators for the shards of <paramref name="map"/>, whose entries stay within <paramref name="maxRecordBytes"/>.</summary>
    public ShardedAggregator(ShardMap map, int maxRecordBytes = RecordAggregator.DefaultMaxRecordBytes)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordBytes, KplFormat.Overhead + 1);
        Map = map;
        _maxRecordBytes = maxRecordBytes;
    }

    /// <summary>The shard map records are grouped by.</summary>
    public ShardMap Map { get; }

    /// <summary>The user records waiting in aggregates not yet completed.</summary>
    public int PendingRecords => _shards.Values.Sum(a => a.Count);

    /// <summary>
    /// Adds <paramref name="record"/> to its shard's aggregate. Returns the entries this completes, in order: that
    /// shard's aggregate when the record did not fit in it (the record then starts the next one), or the record
    /// alone when no shard holds its hash key; none otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">The record is not one Kinesis takes (see <see cref="RecordAggregator.TryAdd"/>).</exception>
    public IReadOnlyList<AggregatedEntry> Add(UserRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        UInt128 hashKey;
        try
        {
            hashKey = record.EffectiveHashKey();
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message, nameof(record), e);
        }
        if (!Map.TryFind(hashKey, out var shard))
        {
            var alone = new RecordAggregator(_maxRecordBytes);
            alone.TryAdd(record); // validates; an empty aggregator takes any record within the limit
            return [new AggregatedEntry(null, alone.ToEntry(), [record])];
        }
        if (!_shards.TryGetValue(shard.ShardId, out var aggregator))
            _shards[shard.ShardId] = aggregator = new RecordAggregator(_maxRecordBytes);
        if (aggregator.TryAdd(record))
            return [];
        var completed = Complete(shard.ShardId, aggregator);
        aggregator.TryAdd(record);
        return [completed];
    }

    /// <summary>The aggregate of <paramref name="shardId"/>, completed; null when it has no records waiting.</summary>
    public AggregatedEntry? Flush(string shardId)
    {
        ArgumentNullException.ThrowIfNull(shardId);
        return _shards.TryGetValue(shardId, out var aggregator) && aggregator.Count > 0 ? Complete(shardId, aggregator) : null;
    }

    /// <summary>Every shard's aggregate, completed, in the order of the map's shards.</summary>
    public List<AggregatedEntry> FlushAll()
    {
        var entries = new List<AggregatedEntry>();
        foreach (var shard in Map.Shards)
            if (Flush(shard.ShardId) is { } entry)
                entries.Add(entry);
        return entries;
    }

    private static AggregatedEntry Complete(string shardId, RecordAggregator aggregator)
    {
        var records = new UserRecord[aggregator.Count];
        for (int i = 0; i < records.Length; i++)
            records[i] = aggregator[i];
        var entry = new AggregatedEntry(shardId, aggregator.ToEntry(), records);
        aggregator.Clear();
        return entry;
    }
}
