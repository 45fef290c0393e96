namespace Runnel.Client.Aggregation;

/// <summary>
/// Turns a Kinesis record read from a shard into the user records it carries, as the KCL does: a KPL aggregate
/// (<see cref="KplFormat"/>) into its user records with sub-sequence numbers 0 to n - 1; anything else, including a
/// record that has the magic but a checksum that does not match or a message that does not decode, into itself alone
/// with sub-sequence number 0 (the KCL takes such a record for a user record that happens to start with the magic).
/// Never throws on the record's bytes. Thread-safe: pure functions.
/// <para>
/// With a shard's hash-key range, user records of an aggregate whose effective hash key (explicit hash key, else the
/// MD5 of the partition key) lies outside it are left out; the others keep their sub-sequence numbers (their places
/// in the aggregate), so checkpoints do not depend on the range. Such records are the KPL's: an aggregate that landed
/// on another shard than predicted (a map gone stale by a reshard) is accepted for its records that the shard holds,
/// and the others are put again, to their shard: read here too, they would be read twice. The KCL leaves out the
/// whole aggregate when one of its records is outside, which loses the records the KPL counted as delivered; this
/// leaves out those records only. A record that is not an aggregate is never left out (Kinesis routed it itself),
/// and neither is a user record whose explicit hash key does not parse (it could not have been routed; dropping it
/// would lose it).
/// </para>
/// </summary>
public static class Deaggregator
{
    /// <summary>
    /// The user records of the Kinesis record of <paramref name="data"/>, <paramref name="partitionKey"/> and
    /// <paramref name="sequenceNumber"/>; with <paramref name="shardHashKeys"/>, without those of an aggregate that
    /// the shard does not hold (see the class's doc). The records' data are slices of <paramref name="data"/>.
    /// </summary>
    public static List<DeaggregatedRecord> Deaggregate(ReadOnlyMemory<byte> data, string partitionKey, string sequenceNumber, HashRange? shardHashKeys = null)
    {
        var records = new List<DeaggregatedRecord>();
        Deaggregate(data, partitionKey, sequenceNumber, records, shardHashKeys);
        return records;
    }

    /// <summary>As <see cref="Deaggregate(ReadOnlyMemory{byte}, string, string, HashRange?)"/>, adding to <paramref name="into"/>; returns how many were added.</summary>
    public static int Deaggregate(ReadOnlyMemory<byte> data, string partitionKey, string sequenceNumber, List<DeaggregatedRecord> into, HashRange? shardHashKeys = null)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(sequenceNumber);
        ArgumentNullException.ThrowIfNull(into);
        var users = new List<User>();
        Deaggregate(data, partitionKey, users, [], shardHashKeys);
        foreach (var user in users)
            into.Add(new DeaggregatedRecord(user.PartitionKey, user.ExplicitHashKey, user.Data, sequenceNumber, user.SubSequenceNumber, user.IsAggregated));
        return users.Count;
    }

    /// <summary>A user record read, without an object of its own (a consumer makes its own): what <see cref="DeaggregatedRecord"/> holds but the sequence number.</summary>
    internal readonly record struct User(string PartitionKey, string? ExplicitHashKey, ReadOnlyMemory<byte> Data, long SubSequenceNumber, bool IsAggregated);

    /// <summary>
    /// The user records of one Kinesis record into <paramref name="into"/> (added to), <paramref name="decoded"/> a
    /// list to decode into, both reused by a consumer from record to record. The hash key of each distinct partition
    /// key is computed once per aggregate (an MD5 each), not once per record.
    /// </summary>
    internal static void Deaggregate(ReadOnlyMemory<byte> data, string partitionKey, List<User> into, List<KplFormat.DecodedRecord> decoded, HashRange? shardHashKeys)
    {
        decoded.Clear();
        if (!KplFormat.TryDecodeInto(data, decoded))
        {
            into.Add(new User(partitionKey, null, data, 0, IsAggregated: false));
            return;
        }
        Dictionary<string, bool>? held = shardHashKeys is null ? null : new(ReferenceEqualityComparer.Instance); // the table's strings, by instance
        for (int i = 0; i < decoded.Count; i++)
        {
            var user = decoded[i];
            if (held is not null && !Holds(shardHashKeys!.Value, user, held))
                continue;
            into.Add(new User(user.PartitionKey, user.ExplicitHashKey, user.Data, i, IsAggregated: true));
        }
    }

    private static bool Holds(HashRange range, KplFormat.DecodedRecord user, Dictionary<string, bool> byPartitionKey)
    {
        if (user.ExplicitHashKey is not null)
            return !HashKeys.TryParseLenient(user.ExplicitHashKey, out var hashKey) || range.Contains(hashKey);
        if (!byPartitionKey.TryGetValue(user.PartitionKey, out bool holds))
            byPartitionKey[user.PartitionKey] = holds = range.Contains(HashKeys.OfPartitionKey(user.PartitionKey));
        return holds;
    }
}
