namespace Runnel.Core.Metrics;

/// <summary>CloudWatch's units of the metrics Runnel publishes, as the API spells them.</summary>
public static class MetricUnit
{
    public const string Bytes = "Bytes", Count = "Count", Milliseconds = "Milliseconds", Seconds = "Seconds";
}

/// <summary>
/// One metric as AWS publishes it: its namespace and name, its CloudWatch unit, and how its recorded integers map to
/// that unit (<see cref="Scale"/>: latencies are recorded in microseconds and published in milliseconds).
/// </summary>
public sealed record MetricDefinition(string Namespace, string Name, string Unit, double Scale = 1)
{
    public const string Kinesis = "AWS/Kinesis", Firehose = "AWS/Firehose", Lambda = "AWS/Lambda";

    /// <summary>A recorded value in the metric's unit.</summary>
    public double Value(long recorded) => recorded * Scale;
}

/// <summary>
/// The stream-level metrics of Kinesis Data Streams (namespace AWS/Kinesis, dimension StreamName), each sample one
/// request as AWS defines them (docs/adr/0003-observability.md); <see cref="KinesisMetrics.Definitions"/> names them.
/// </summary>
public enum StreamMetric
{
    IncomingBytes, IncomingRecords,
    PutRecordBytes, PutRecordLatency, PutRecordSuccess,
    PutRecordsBytes, PutRecordsLatency, PutRecordsSuccess, PutRecordsRecords, PutRecordsTotalRecords, PutRecordsSuccessfulRecords,
    PutRecordsFailedRecords, PutRecordsThrottledRecords,
    WriteProvisionedThroughputExceeded,
    GetRecordsBytes, GetRecordsRecords, GetRecordsLatency, GetRecordsSuccess, GetRecordsIteratorAgeMilliseconds,
    ReadProvisionedThroughputExceeded,
}

/// <summary>The metrics of a registered consumer's SubscribeToShard calls and events (dimensions StreamName, ConsumerName).</summary>
public enum ConsumerMetric
{
    SubscribeToShardRateExceeded, SubscribeToShardSuccess,
    SubscribeToShardEventBytes, SubscribeToShardEventMillisBehindLatest, SubscribeToShardEventRecords, SubscribeToShardEventSuccess,
}

/// <summary>The shard-level ("enhanced") metrics, published for the shards of streams whose EnableEnhancedMonitoring named them (dimensions StreamName, ShardId).</summary>
public enum ShardMetric
{
    IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds,
}

/// <summary>The names, units and scales of Kinesis's metrics. Stateless.</summary>
public static class KinesisMetrics
{
    private const double Micros = 0.001;

    public static readonly MetricDefinition[] Definitions = Enum.GetValues<StreamMetric>().Select(Define).ToArray();

    public static readonly MetricDefinition[] ConsumerDefinitions = Enum.GetValues<ConsumerMetric>()
        .Select(m =>
        {
            string name = m.ToString().Replace("SubscribeToShardEvent", "SubscribeToShardEvent.", StringComparison.Ordinal);
            if (!name.Contains('.', StringComparison.Ordinal))
                name = name.Replace("SubscribeToShard", "SubscribeToShard.", StringComparison.Ordinal);
            return new MetricDefinition(MetricDefinition.Kinesis, name, m switch
            {
                ConsumerMetric.SubscribeToShardEventBytes => MetricUnit.Bytes,
                ConsumerMetric.SubscribeToShardEventMillisBehindLatest => MetricUnit.Milliseconds,
                _ => MetricUnit.Count,
            });
        }).ToArray();

    public static readonly MetricDefinition[] ShardDefinitions = Enum.GetValues<ShardMetric>()
        .Select(m => new MetricDefinition(MetricDefinition.Kinesis, m.ToString(), m switch
        {
            ShardMetric.IncomingBytes or ShardMetric.OutgoingBytes => MetricUnit.Bytes,
            ShardMetric.IteratorAgeMilliseconds => MetricUnit.Milliseconds,
            _ => MetricUnit.Count,
        })).ToArray();

    private static MetricDefinition Define(StreamMetric metric)
    {
        string name = metric switch
        {
            StreamMetric.PutRecordBytes => "PutRecord.Bytes",
            StreamMetric.PutRecordLatency => "PutRecord.Latency",
            StreamMetric.PutRecordSuccess => "PutRecord.Success",
            StreamMetric.PutRecordsBytes => "PutRecords.Bytes",
            StreamMetric.PutRecordsLatency => "PutRecords.Latency",
            StreamMetric.PutRecordsSuccess => "PutRecords.Success",
            StreamMetric.PutRecordsRecords => "PutRecords.Records",
            StreamMetric.PutRecordsTotalRecords => "PutRecords.TotalRecords",
            StreamMetric.PutRecordsSuccessfulRecords => "PutRecords.SuccessfulRecords",
            StreamMetric.PutRecordsFailedRecords => "PutRecords.FailedRecords",
            StreamMetric.PutRecordsThrottledRecords => "PutRecords.ThrottledRecords",
            StreamMetric.GetRecordsBytes => "GetRecords.Bytes",
            StreamMetric.GetRecordsRecords => "GetRecords.Records",
            StreamMetric.GetRecordsLatency => "GetRecords.Latency",
            StreamMetric.GetRecordsSuccess => "GetRecords.Success",
            StreamMetric.GetRecordsIteratorAgeMilliseconds => "GetRecords.IteratorAgeMilliseconds",
            _ => metric.ToString(),
        };
        string unit = name.EndsWith("Bytes", StringComparison.Ordinal) ? MetricUnit.Bytes
            : name.EndsWith("Latency", StringComparison.Ordinal) || name.EndsWith("Milliseconds", StringComparison.Ordinal) ? MetricUnit.Milliseconds
            : MetricUnit.Count;
        return new MetricDefinition(MetricDefinition.Kinesis, name, unit, name.EndsWith("Latency", StringComparison.Ordinal) ? Micros : 1);
    }
}
