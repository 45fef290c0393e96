namespace Runnel.Core.Metrics;

/// <summary>The S3 delivery metrics of a Kinesis channel (namespace AWS/Kinesis, dimensions ChannelName, ChannelId, StreamName).</summary>
public enum ChannelMetric
{
    BytesIn, BytesProcessed, BytesOut, RecordCount, SuccessfulRecordCount, FailedRecordCount, DeliverySuccess, DLQDeliverySuccess, DataFreshness,
}

/// <summary>
/// The metrics of one channel and what each event adds to them (docs/adr/0002-firehose-channels.md, 15): records and
/// bytes read from the stream, those that matched the record format, bytes written to S3 (before compression), records
/// delivered and records sent to the dead-letter queue, whether each object and each dead-letter object was written,
/// and the age of the oldest record not yet delivered. Thread-safe.
/// </summary>
public sealed class ChannelMetrics(string stream, string name, string id, bool recording = true)
{
    private readonly MetricCell[] _cells = MetricCell.For<ChannelMetric>(recording);

    public string StreamName { get; } = stream;
    public string ChannelName { get; } = name;
    public string ChannelId { get; } = id;

    public MetricCell this[ChannelMetric metric] => _cells[(int)metric];

    /// <summary>AWS's name (<c>DeliveryToS3.BytesIn</c>), unit and scale.</summary>
    public static MetricDefinition Definition(ChannelMetric metric) => new(MetricDefinition.Kinesis, "DeliveryToS3." + metric, metric switch
    {
        ChannelMetric.BytesIn or ChannelMetric.BytesProcessed or ChannelMetric.BytesOut => MetricUnit.Bytes,
        ChannelMetric.DataFreshness => MetricUnit.Seconds,
        _ => MetricUnit.Count,
    });

    /// <summary>A record read from the stream; <paramref name="matched"/> when it matched the channel's record format.</summary>
    public void Read(long bytes, bool matched)
    {
        this[ChannelMetric.RecordCount].Add(1);
        this[ChannelMetric.BytesIn].Add(bytes);
        if (matched)
            this[ChannelMetric.BytesProcessed].Add(bytes);
    }

    /// <summary>One attempt to write an object of delivered records.</summary>
    public void Delivered(bool success, int records, long bytes)
    {
        this[ChannelMetric.DeliverySuccess].Add(success ? 1 : 0);
        if (!success)
            return;
        this[ChannelMetric.SuccessfulRecordCount].Add(records);
        this[ChannelMetric.BytesOut].Add(bytes);
    }

    /// <summary>One attempt to write a dead-letter object of <paramref name="records"/> records that did not match.</summary>
    public void DeadLettered(bool success, int records)
    {
        this[ChannelMetric.DLQDeliverySuccess].Add(success ? 1 : 0);
        if (success)
            this[ChannelMetric.FailedRecordCount].Add(records);
    }

    public void Waiting(long freshnessSeconds) => this[ChannelMetric.DataFreshness].Add(freshnessSeconds);
}
