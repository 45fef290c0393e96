namespace Runnel.Client.Aggregation;

/// <summary>
/// A user record a consumer read: from an aggregate, with its place in it, or a Kinesis record that is not an
/// aggregate, as itself. Immutable.
/// </summary>
public sealed record DeaggregatedRecord
{
    /// <summary>A record read from a shard.</summary>
    public DeaggregatedRecord(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, string sequenceNumber, long subSequenceNumber, bool isAggregated)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(sequenceNumber);
        PartitionKey = partitionKey;
        ExplicitHashKey = explicitHashKey;
        Data = data;
        SequenceNumber = sequenceNumber;
        SubSequenceNumber = subSequenceNumber;
        IsAggregated = isAggregated;
    }

    /// <summary>The user record's partition key (the Kinesis record's, when it is not an aggregate).</summary>
    public string PartitionKey { get; }

    /// <summary>The user record's explicit hash key; null when it had none, and always for a record that is not an aggregate (GetRecords does not return it).</summary>
    public string? ExplicitHashKey { get; }

    /// <summary>The user record's payload (a slice of the Kinesis record's data: it shares its memory).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The sequence number of the Kinesis record that carried it.</summary>
    public string SequenceNumber { get; }

    /// <summary>
    /// The user record's position in its aggregate, from 0 (0 for a record that is not an aggregate). With the
    /// sequence number, it is what a KCL checkpoint records.
    /// </summary>
    public long SubSequenceNumber { get; }

    /// <summary>Whether the record came out of a KPL aggregate.</summary>
    public bool IsAggregated { get; }
}
