namespace Runnel.Client.Aggregation;

/// <summary>
/// Kinesis's limits on one PutRecords call (the PutRecords API reference and "Handle large records"): at most 500
/// records; at most 5 MiB for the request, counting each record's data and partition key (10 MiB for a stream whose
/// maximum record size is raised above 1 MiB); each record within the stream's maximum record size, 1 MiB by default
/// and up to 10 MiB, counting its data and partition key. Immutable.
/// </summary>
public sealed record PutRecordsLimits
{
    /// <summary>The most records in one PutRecords call.</summary>
    public const int MaxRecordsPerRequest = 500;

    /// <summary>The request limit of a stream of 1 MiB records: 5 MiB.</summary>
    public const long DefaultMaxRequestBytes = 5L * 1024 * 1024;

    /// <summary>The request limit of a stream that takes records over 1 MiB: 10 MiB.</summary>
    public const long LargeRecordsMaxRequestBytes = 10L * 1024 * 1024;

    /// <summary>Limits of the given values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is not positive, or a record may exceed the request.</exception>
    public PutRecordsLimits(int maxRecords, long maxRequestBytes, long maxRecordBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRequestBytes, maxRecordBytes);
        MaxRecords = maxRecords;
        MaxRequestBytes = maxRequestBytes;
        MaxRecordBytes = maxRecordBytes;
    }

    /// <summary>AWS's limits for a stream of the default record size (500 records, 5 MiB, 1 MiB).</summary>
    public static PutRecordsLimits Default { get; } = new(MaxRecordsPerRequest, DefaultMaxRequestBytes, RecordAggregator.DefaultMaxRecordBytes);

    /// <summary>AWS's limits for a stream of the given <c>MaxRecordSizeInKiB</c> (DescribeStreamSummary's; 1024 to 10240).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRecordSizeInKiB"/> is outside 1024 to 10240.</exception>
    public static PutRecordsLimits ForStream(int maxRecordSizeInKiB)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordSizeInKiB, 1024);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRecordSizeInKiB, 10240);
        return new PutRecordsLimits(
            MaxRecordsPerRequest,
            maxRecordSizeInKiB > 1024 ? LargeRecordsMaxRequestBytes : DefaultMaxRequestBytes,
            maxRecordSizeInKiB * 1024L);
    }

    /// <summary>The most records in one call.</summary>
    public int MaxRecords { get; }

    /// <summary>The most bytes (data and partition keys) in one call.</summary>
    public long MaxRequestBytes { get; }

    /// <summary>The most bytes (data and partition key) of one record.</summary>
    public long MaxRecordBytes { get; }
}
