namespace Runnel.Client.Aggregation;

/// <summary>
/// A record as the application gives it to a producer or gets it from a consumer: what an aggregate carries. Its
/// <see cref="Data"/> may share memory with the buffer it was decoded from (see <see cref="KplFormat.TryDecode"/>).
/// Immutable; equality compares <see cref="Data"/> by reference, as <see cref="ReadOnlyMemory{T}"/> does.
/// </summary>
public sealed record UserRecord
{
    /// <summary>A user record.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="partitionKey"/> is null.</exception>
    public UserRecord(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        PartitionKey = partitionKey;
        ExplicitHashKey = explicitHashKey;
        Data = data;
    }

    /// <summary>A user record routed by its partition key alone.</summary>
    public UserRecord(string partitionKey, ReadOnlyMemory<byte> data) : this(partitionKey, null, data)
    {
    }

    /// <summary>The partition key (always kept, even when an explicit hash key routes the record).</summary>
    public string PartitionKey { get; }

    /// <summary>The explicit hash key in decimal, or null when the partition key routes the record.</summary>
    public string? ExplicitHashKey { get; }

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The hash key that routes this record (see <see cref="HashKeys.Effective"/>).</summary>
    /// <exception cref="FormatException"><see cref="ExplicitHashKey"/> is not a hash key.</exception>
    public UInt128 EffectiveHashKey() => HashKeys.Effective(PartitionKey, ExplicitHashKey);
}
