using Runnel.Client.Aggregation;

namespace Runnel.Client.Producer;

/// <summary>
/// The hash keys of recent partition keys: an MD5 per record is a large share of the producer's work per record, and
/// applications tend to reuse keys. Bounded: emptied when it holds <see cref="MaxKeys"/>. A record with an explicit
/// hash key is routed by it and not cached. Not thread-safe (the producer's pipeline owns it).
/// </summary>
internal sealed class HashKeyCache
{
    /// <summary>The most partition keys remembered before the cache starts over.</summary>
    public const int MaxKeys = 65_536;

    private readonly Dictionary<string, UInt128> _keys = new(StringComparer.Ordinal);

    /// <summary>The hash key that routes <paramref name="record"/> (<see cref="HashKeys.Effective"/>).</summary>
    public UInt128 Of(PendingRecord record)
    {
        if (record.ExplicitHashKey is not null)
            return HashKeys.Effective(record.PartitionKey, record.ExplicitHashKey);
        if (_keys.TryGetValue(record.PartitionKey, out var hashKey))
            return hashKey;
        if (_keys.Count >= MaxKeys)
            _keys.Clear();
        return _keys[record.PartitionKey] = HashKeys.OfPartitionKey(record.PartitionKey);
    }
}
