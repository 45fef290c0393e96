using System.Collections.Concurrent;

namespace Runnel.Core.Metrics;

/// <summary>
/// The stream-level metrics of one stream (by name, as CloudWatch's StreamName dimension): a <see cref="MetricCell"/>
/// per <see cref="StreamMetric"/>, and what one request adds to them, as AWS defines each metric (one sample per
/// request; a failed request adds 0 to its Success metric). Thread-safe.
/// </summary>
public sealed class StreamMetrics(string streamName, bool recording = true)
{
    private readonly MetricCell[] _cells = MetricCell.For<StreamMetric>(recording);

    public string StreamName { get; } = streamName;

    public MetricCell this[StreamMetric metric] => _cells[(int)metric];

    /// <summary>A PutRecord that stored its record.</summary>
    public void PutRecord(long bytes, long latencyMicros)
    {
        Incoming(bytes, 1);
        this[StreamMetric.PutRecordBytes].Add(bytes);
        this[StreamMetric.PutRecordLatency].Add(latencyMicros);
        this[StreamMetric.PutRecordSuccess].Add(1);
        this[StreamMetric.WriteProvisionedThroughputExceeded].Add(0);
    }

    /// <summary>A PutRecord that failed once its stream was found: throttled, or not stored.</summary>
    public void PutRecordFailed(bool throttled, long latencyMicros)
    {
        this[StreamMetric.PutRecordLatency].Add(latencyMicros);
        this[StreamMetric.PutRecordSuccess].Add(0);
        this[StreamMetric.WriteProvisionedThroughputExceeded].Add(throttled ? 1 : 0);
    }

    /// <summary>A PutRecords call: <paramref name="successfulBytes"/> of <paramref name="successful"/> records stored, of <paramref name="total"/>.</summary>
    public void PutRecords(long successfulBytes, int total, int successful, int throttled, long latencyMicros)
    {
        if (successful > 0)
            Incoming(successfulBytes, successful);
        this[StreamMetric.PutRecordsBytes].Add(successfulBytes);
        this[StreamMetric.PutRecordsLatency].Add(latencyMicros);
        this[StreamMetric.PutRecordsSuccess].Add(successful > 0 ? 1 : 0);
        this[StreamMetric.PutRecordsRecords].Add(successful);
        this[StreamMetric.PutRecordsTotalRecords].Add(total);
        this[StreamMetric.PutRecordsSuccessfulRecords].Add(successful);
        this[StreamMetric.PutRecordsFailedRecords].Add(total - successful - throttled);
        this[StreamMetric.PutRecordsThrottledRecords].Add(throttled);
        this[StreamMetric.WriteProvisionedThroughputExceeded].Add(throttled);
    }

    /// <summary>A GetRecords call that answered <paramref name="records"/> records (<paramref name="bytes"/> of data), <paramref name="iteratorAgeMillis"/> behind the newest.</summary>
    public void GetRecords(long bytes, int records, long iteratorAgeMillis, long latencyMicros)
    {
        this[StreamMetric.GetRecordsBytes].Add(bytes);
        this[StreamMetric.GetRecordsRecords].Add(records);
        this[StreamMetric.GetRecordsLatency].Add(latencyMicros);
        this[StreamMetric.GetRecordsSuccess].Add(1);
        this[StreamMetric.GetRecordsIteratorAgeMilliseconds].Add(iteratorAgeMillis);
        this[StreamMetric.ReadProvisionedThroughputExceeded].Add(0);
    }

    /// <summary>A GetRecords call refused by the shard's read limits.</summary>
    public void GetRecordsThrottled(long latencyMicros)
    {
        this[StreamMetric.GetRecordsLatency].Add(latencyMicros);
        this[StreamMetric.GetRecordsSuccess].Add(0);
        this[StreamMetric.ReadProvisionedThroughputExceeded].Add(1);
    }

    private void Incoming(long bytes, int records)
    {
        this[StreamMetric.IncomingBytes].Add(bytes);
        this[StreamMetric.IncomingRecords].Add(records);
    }
}

/// <summary>
/// The SubscribeToShard metrics of one registered consumer of one stream (CloudWatch's StreamName and ConsumerName
/// dimensions): one sample per subscription attempt, one per event pushed. Thread-safe.
/// </summary>
public sealed class ConsumerMetrics(string streamName, string consumerName, bool recording = true)
{
    private readonly MetricCell[] _cells = MetricCell.For<ConsumerMetric>(recording);

    public string StreamName { get; } = streamName;
    public string ConsumerName { get; } = consumerName;

    public MetricCell this[ConsumerMetric metric] => _cells[(int)metric];

    /// <summary>A SubscribeToShard call that began a subscription, or was refused for the rate or a subscription in place.</summary>
    public void Subscribed(bool refusedForRate)
    {
        this[ConsumerMetric.SubscribeToShardRateExceeded].Add(refusedForRate ? 1 : 0);
        this[ConsumerMetric.SubscribeToShardSuccess].Add(refusedForRate ? 0 : 1);
    }

    /// <summary>An event pushed to the consumer (a heartbeat carries no records).</summary>
    public void Pushed(int records, long bytes, long millisBehindLatest)
    {
        this[ConsumerMetric.SubscribeToShardEventRecords].Add(records);
        this[ConsumerMetric.SubscribeToShardEventBytes].Add(bytes);
        this[ConsumerMetric.SubscribeToShardEventMillisBehindLatest].Add(millisBehindLatest);
        this[ConsumerMetric.SubscribeToShardEventSuccess].Add(1);
    }
}

/// <summary>
/// Every metric the server records, by what it describes: the streams' (by name, made on first use). What reads them
/// (the Prometheus exporter, the minute history) enumerates this. Thread-safe.
/// </summary>
public sealed class MetricRegistry(bool enabled = true)
{
    private readonly ConcurrentDictionary<string, StreamMetrics> _streams = new(StringComparer.Ordinal);
    private readonly StreamMetrics _discarded = new("", recording: false);
    private readonly ConcurrentDictionary<(string Stream, string Consumer), ConsumerMetrics> _consumers = new();
    private readonly ConsumerMetrics _discardedConsumer = new("", "", recording: false);
    private readonly ConcurrentDictionary<string, DeliveryStreamMetrics> _deliveryStreams = new(StringComparer.Ordinal);
    private readonly DeliveryStreamMetrics _discardedDelivery = new("", recording: false);
    private readonly ConcurrentDictionary<string, ChannelMetrics> _channels = new(StringComparer.Ordinal);
    private readonly ChannelMetrics _discardedChannel = new("", "", "", recording: false);
    private readonly ConcurrentDictionary<string, FunctionMetrics> _functions = new(StringComparer.Ordinal);
    private readonly FunctionMetrics _discardedFunction = new("", recording: false);

    /// <summary>Whether anything is recorded (<c>--metrics off</c>: nothing, for comparing the data path's speed).</summary>
    public bool Enabled { get; } = enabled;

    /// <summary>The metrics of the stream of this name (with metrics off, cells that record nothing).</summary>
    public StreamMetrics Stream(string name) =>
        !Enabled ? _discarded : _streams.TryGetValue(name, out var metrics) ? metrics : _streams.GetOrAdd(name, n => new StreamMetrics(n));

    /// <summary>Every stream that has recorded anything since the server started.</summary>
    public IEnumerable<StreamMetrics> Streams => _streams.Values;

    /// <summary>The SubscribeToShard metrics of a consumer of a stream.</summary>
    public ConsumerMetrics Consumer(string stream, string consumer) =>
        !Enabled ? _discardedConsumer : _consumers.GetOrAdd((stream, consumer), key => new ConsumerMetrics(key.Stream, key.Consumer));

    /// <summary>Every consumer that has subscribed since the server started.</summary>
    public IEnumerable<ConsumerMetrics> Consumers => _consumers.Values;

    /// <summary>The metrics of the Firehose delivery stream of this name.</summary>
    public DeliveryStreamMetrics DeliveryStream(string name) =>
        !Enabled ? _discardedDelivery : _deliveryStreams.TryGetValue(name, out var metrics) ? metrics : _deliveryStreams.GetOrAdd(name, n => new DeliveryStreamMetrics(n));

    /// <summary>Every delivery stream that has recorded anything since the server started.</summary>
    public IEnumerable<DeliveryStreamMetrics> DeliveryStreams => _deliveryStreams.Values;

    /// <summary>The metrics of a Kinesis channel (by its id).</summary>
    public ChannelMetrics Channel(string stream, string name, string id) =>
        !Enabled ? _discardedChannel : _channels.GetOrAdd(id, _ => new ChannelMetrics(stream, name, id));

    /// <summary>Every channel that has delivered since the server started.</summary>
    public IEnumerable<ChannelMetrics> Channels => _channels.Values;

    /// <summary>The metrics of the Lambda function of this name.</summary>
    public FunctionMetrics Function(string name) =>
        !Enabled ? _discardedFunction : _functions.TryGetValue(name, out var metrics) ? metrics : _functions.GetOrAdd(name, n => new FunctionMetrics(n));

    /// <summary>Every function invoked since the server started.</summary>
    public IEnumerable<FunctionMetrics> Functions => _functions.Values;

    /// <summary>Who writes to each stream and who reads each shard, with each reader's lag (kept with metrics on only).</summary>
    public ClientActivity Activity { get; } = new();
}
