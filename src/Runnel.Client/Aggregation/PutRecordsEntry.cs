using System.Text;

namespace Runnel.Client.Aggregation;

/// <summary>
/// One entry of a PutRecords request (or a PutRecord call): a KPL aggregate or a record sent as it is. Immutable.
/// </summary>
public sealed record PutRecordsEntry
{
    /// <summary>An entry to put.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="partitionKey"/> is null.</exception>
    public PutRecordsEntry(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        PartitionKey = partitionKey;
        ExplicitHashKey = explicitHashKey;
        Data = data;
        RequestBytes = data.Length + (long)Encoding.UTF8.GetByteCount(partitionKey);
    }

    /// <summary>The entry's <c>PartitionKey</c>.</summary>
    public string PartitionKey { get; }

    /// <summary>The entry's <c>ExplicitHashKey</c>, or null to send none.</summary>
    public string? ExplicitHashKey { get; }

    /// <summary>The entry's <c>Data</c> (the bytes, not their base64).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>
    /// What the entry counts against Kinesis's limits: its data and its partition key's UTF-8 bytes (the record limit
    /// and the request limit both count the partition key; the explicit hash key does not count).
    /// </summary>
    public long RequestBytes { get; }
}
