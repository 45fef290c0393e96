namespace Runnel.Core.Metrics;

/// <summary>
/// Firehose's metrics (namespace AWS/Firehose, dimension DeliveryStreamName), each sample one request, one read of a
/// Kinesis source, one delivery attempt or one look at what waits (docs/adr/0003-observability-facts.md, 2). The
/// delivery metrics are named after the destination (<see cref="DeliveryStreamMetrics.Destination"/>:
/// <c>DeliveryToS3.Bytes</c>, <c>DeliveryToHttpEndpoint.Bytes</c>, ...).
/// </summary>
public enum FirehoseMetric
{
    IncomingBytes, IncomingRecords, IncomingPutRequests, ThrottledRecords,
    PutRecordBytes, PutRecordLatency, PutRecordRequests,
    PutRecordBatchBytes, PutRecordBatchLatency, PutRecordBatchRecords, PutRecordBatchRequests,
    DataReadFromKinesisStreamBytes, DataReadFromKinesisStreamRecords, KinesisMillisBehindLatest,
    DeliveryBytes, DeliveryRecords, DeliverySuccess, DeliveryDataFreshness, DeliveryObjectCount,
    ExecuteProcessingDuration, ExecuteProcessingSuccess, SucceedProcessingRecords, SucceedProcessingBytes,
    SucceedConversionRecords, SucceedConversionBytes, FailedConversionRecords, FailedConversionBytes,
}

/// <summary>
/// The metrics of one delivery stream (by name, as CloudWatch's DeliveryStreamName dimension) and what each event adds
/// to them. Thread-safe.
/// </summary>
public sealed class DeliveryStreamMetrics(string name, bool recording = true)
{
    private const double Micros = 0.001;
    private readonly MetricCell[] _cells = MetricCell.For<FirehoseMetric>(recording);

    public string DeliveryStreamName { get; } = name;

    /// <summary>The prefix of the delivery metrics' names: <c>DeliveryToS3</c> until a destination says otherwise.</summary>
    public string Destination { get; set; } = "DeliveryToS3";

    public MetricCell this[FirehoseMetric metric] => _cells[(int)metric];

    /// <summary>The metric's name, unit and scale (the delivery metrics named after <see cref="Destination"/>).</summary>
    public MetricDefinition Definition(FirehoseMetric metric)
    {
        string name = metric switch
        {
            FirehoseMetric.PutRecordBytes => "PutRecord.Bytes",
            FirehoseMetric.PutRecordLatency => "PutRecord.Latency",
            FirehoseMetric.PutRecordRequests => "PutRecord.Requests",
            FirehoseMetric.PutRecordBatchBytes => "PutRecordBatch.Bytes",
            FirehoseMetric.PutRecordBatchLatency => "PutRecordBatch.Latency",
            FirehoseMetric.PutRecordBatchRecords => "PutRecordBatch.Records",
            FirehoseMetric.PutRecordBatchRequests => "PutRecordBatch.Requests",
            FirehoseMetric.DataReadFromKinesisStreamBytes => "DataReadFromKinesisStream.Bytes",
            FirehoseMetric.DataReadFromKinesisStreamRecords => "DataReadFromKinesisStream.Records",
            FirehoseMetric.DeliveryBytes => Destination + ".Bytes",
            FirehoseMetric.DeliveryRecords => Destination + ".Records",
            FirehoseMetric.DeliverySuccess => Destination + ".Success",
            FirehoseMetric.DeliveryDataFreshness => Destination + ".DataFreshness",
            FirehoseMetric.DeliveryObjectCount => "DeliveryToS3.ObjectCount",
            FirehoseMetric.ExecuteProcessingDuration => "ExecuteProcessing.Duration",
            FirehoseMetric.ExecuteProcessingSuccess => "ExecuteProcessing.Success",
            FirehoseMetric.SucceedProcessingRecords => "SucceedProcessing.Records",
            FirehoseMetric.SucceedProcessingBytes => "SucceedProcessing.Bytes",
            FirehoseMetric.SucceedConversionRecords => "SucceedConversion.Records",
            FirehoseMetric.SucceedConversionBytes => "SucceedConversion.Bytes",
            FirehoseMetric.FailedConversionRecords => "FailedConversion.Records",
            FirehoseMetric.FailedConversionBytes => "FailedConversion.Bytes",
            _ => metric.ToString(),
        };
        return metric switch
        {
            FirehoseMetric.PutRecordLatency or FirehoseMetric.PutRecordBatchLatency or FirehoseMetric.ExecuteProcessingDuration => new(MetricDefinition.Firehose, name, MetricUnit.Milliseconds, Micros),
            FirehoseMetric.KinesisMillisBehindLatest => new(MetricDefinition.Firehose, name, MetricUnit.Milliseconds),
            FirehoseMetric.DeliveryDataFreshness => new(MetricDefinition.Firehose, name, MetricUnit.Seconds),
            _ when name.EndsWith("Bytes", StringComparison.Ordinal) => new(MetricDefinition.Firehose, name, MetricUnit.Bytes),
            _ => new(MetricDefinition.Firehose, name, MetricUnit.Count),
        };
    }

    /// <summary>A PutRecord (<paramref name="records"/> 1) or PutRecordBatch that stored its records.</summary>
    public void Put(bool batch, int records, long bytes, long latencyMicros)
    {
        this[FirehoseMetric.IncomingBytes].Add(bytes);
        this[FirehoseMetric.IncomingRecords].Add(records);
        this[FirehoseMetric.IncomingPutRequests].Add(1);
        this[FirehoseMetric.ThrottledRecords].Add(0); // Runnel does not throttle Firehose's puts: a sample of none, so that alarms on it see OK
        if (batch)
        {
            this[FirehoseMetric.PutRecordBatchBytes].Add(bytes);
            this[FirehoseMetric.PutRecordBatchLatency].Add(latencyMicros);
            this[FirehoseMetric.PutRecordBatchRecords].Add(records);
            this[FirehoseMetric.PutRecordBatchRequests].Add(1);
        }
        else
        {
            this[FirehoseMetric.PutRecordBytes].Add(bytes);
            this[FirehoseMetric.PutRecordLatency].Add(latencyMicros);
            this[FirehoseMetric.PutRecordRequests].Add(1);
        }
    }

    /// <summary>One read of a Kinesis stream source, whose last record was <paramref name="millisBehindLatest"/> behind
    /// the newest record of its shard (0 when the read reached it).</summary>
    public void ReadFromStream(int records, long bytes, long millisBehindLatest)
    {
        this[FirehoseMetric.DataReadFromKinesisStreamRecords].Add(records);
        this[FirehoseMetric.DataReadFromKinesisStreamBytes].Add(bytes);
        this[FirehoseMetric.KinesisMillisBehindLatest].Add(millisBehindLatest);
    }

    /// <summary>Records received (put, or read from the Kinesis stream source) and not yet delivered.</summary>
    public long RecordsNotDelivered => Math.Max(0, this[FirehoseMetric.IncomingRecords].Sum + this[FirehoseMetric.DataReadFromKinesisStreamRecords].Sum
        - this[FirehoseMetric.DeliveryRecords].Sum);

    /// <summary>Where the delivery, running on this node, has read its Kinesis stream source to; null while none runs here
    /// (and for Direct PUT). The server measures the delivery stream's lag behind the stream from it.</summary>
    public SourcePosition? Source => Volatile.Read(ref _source);

    private SourcePosition? _source;

    /// <summary>Where reading the Kinesis stream <paramref name="streamName"/> has got to: per shard index, the offset
    /// below which every record was read (a copy is kept when it changed).</summary>
    public void ReadSource(string streamName, IReadOnlyDictionary<int, ulong> readTo)
    {
        var known = Volatile.Read(ref _source);
        if (known is not null && known.StreamName == streamName && known.ReadTo.Count == readTo.Count
            && readTo.All(p => known.ReadTo.TryGetValue(p.Key, out ulong at) && at == p.Value))
            return;
        Volatile.Write(ref _source, new SourcePosition(streamName, readTo.ToDictionary()));
    }

    /// <summary>The delivery stopped running here (deleted, changed, or another node leads): its position is no longer this node's to show.</summary>
    public void StoppedReading() => Volatile.Write(ref _source, null);

    /// <summary>One delivery attempt of a batch to the destination.</summary>
    public void Delivered(bool success, int records, long bytes)
    {
        this[FirehoseMetric.DeliverySuccess].Add(success ? 1 : 0);
        if (!success)
            return;
        this[FirehoseMetric.DeliveryRecords].Add(records);
        this[FirehoseMetric.DeliveryBytes].Add(bytes);
    }

    /// <summary>An object written to S3 (the main destination's objects, not the error output's).</summary>
    public void ObjectWritten() => this[FirehoseMetric.DeliveryObjectCount].Add(1);

    /// <summary>One invocation of the Lambda processor: how long it took, whether it answered, and the records it
    /// returned Ok (with their bytes) when it did.</summary>
    public void Processed(long durationMicros, bool success, int okRecords, long okBytes)
    {
        this[FirehoseMetric.ExecuteProcessingDuration].Add(durationMicros);
        this[FirehoseMetric.ExecuteProcessingSuccess].Add(success ? 1 : 0);
        if (!success)
            return;
        this[FirehoseMetric.SucceedProcessingRecords].Add(okRecords);
        this[FirehoseMetric.SucceedProcessingBytes].Add(okBytes);
    }

    /// <summary>One batch's format conversion: the records converted and those that failed, with their bytes.</summary>
    public void Converted(int records, long bytes, int failedRecords, long failedBytes)
    {
        this[FirehoseMetric.SucceedConversionRecords].Add(records);
        this[FirehoseMetric.SucceedConversionBytes].Add(bytes);
        this[FirehoseMetric.FailedConversionRecords].Add(failedRecords);
        this[FirehoseMetric.FailedConversionBytes].Add(failedBytes);
    }

    /// <summary>How long the oldest record not yet delivered has waited, seconds (0 when none waits).</summary>
    public void Waiting(long freshnessSeconds) => this[FirehoseMetric.DeliveryDataFreshness].Add(freshnessSeconds);
}

/// <summary>Where a delivery stream has read its Kinesis stream source to: per shard index, the offset below which every record was read.</summary>
public sealed record SourcePosition(string StreamName, IReadOnlyDictionary<int, ulong> ReadTo);
