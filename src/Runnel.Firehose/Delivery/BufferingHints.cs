namespace Runnel.Firehose.Delivery;

/// <summary>
/// When Firehose delivers a buffer: once it holds <see cref="SizeInMBs"/> MiB, or once it has been filling for
/// <see cref="IntervalInSeconds"/> seconds, whichever comes first. An interval of 0 delivers a buffer as soon as it
/// holds anything. The ranges are the destination's, checked where its configuration is read.
/// </summary>
public readonly record struct BufferingHints(int SizeInMBs, int IntervalInSeconds)
{
    /// <summary>Hints whose size is not whole MiB (the Lambda processor's <c>BufferSizeInMBs</c>, 0.2 to 3 MB).</summary>
    public static BufferingHints OfBytes(long bytes, int intervalSeconds) => new(0, intervalSeconds) { Bytes = bytes };

    private long? Bytes { get; init; }

    public long SizeBytes => Bytes ?? SizeInMBs * (1L << 20);

    public long IntervalMillis => IntervalInSeconds * 1000L;
}
