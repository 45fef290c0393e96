using System.Diagnostics.Metrics;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Runnel.Core.Metrics;
using Runnel.Server.Streams;

namespace Runnel.Server.Metrics;

/// <summary>
/// Publishes what the server records (<see cref="MetricRegistry"/>, the shards' throughput counters) through
/// OpenTelemetry: one observable instrument per AWS metric, read only when scraped (<c>GET /metrics</c>, Prometheus's
/// text format) or exported (OTLP, when an endpoint is configured), so recording on the data path stays a few
/// atomic adds. Names are AWS's in snake case under <c>kinesis_</c> (docs/adr/0003-observability.md): for each
/// stream-level metric a counter of its sum and one of its samples (so that <c>rate(sum)/rate(samples)</c> is
/// CloudWatch's Average), the iterator age a gauge of the latest sample, labelled <c>StreamName</c>; shard-level
/// metrics (<c>kinesis_shard_*</c>, labelled <c>StreamName</c> and <c>ShardId</c>) only for the shards of streams
/// whose EnableEnhancedMonitoring named them, so the series stay bounded. Thread-safe.
/// </summary>
public sealed class MetricsExport : IDisposable
{
    public const string MeterName = "Runnel";
    private static int _instances;

    private readonly Meter _meter;
    private readonly MeterProvider _provider;

    /// <param name="otlpEndpoint">Where OTLP exports go as well; null for none. gRPC, unless the path ends in
    /// <c>/v1/metrics</c>: then HTTP with protobuf bodies (a collector's port 4318).</param>
    /// <param name="otlpInterval">How often they go (default 60 s, CloudWatch's resolution).</param>
    public MetricsExport(MetricRegistry registry, StreamService streams, ReaderLags lags, Uri? otlpEndpoint = null, TimeSpan? otlpInterval = null)
    {
        // A provider listens to every meter of its name in the process: a second server in one process (as tests run
        // them) names its own, so that each /metrics shows its server's alone.
        int instance = Interlocked.Increment(ref _instances);
        string meterName = instance == 1 ? MeterName : $"{MeterName}-{instance}";
        _meter = new Meter(meterName);
        foreach (var metric in Enum.GetValues<StreamMetric>())
        {
            var definition = KinesisMetrics.Definitions[(int)metric];
            string name = "kinesis_" + Snake(definition.Name);
            string? unit = Unit(definition.Unit);
            if (metric == StreamMetric.GetRecordsIteratorAgeMilliseconds)
            {
                _meter.CreateObservableGauge(name, () => registry.Streams.Select(s => Measure(definition.Value(s[metric].Last), s.StreamName)), unit,
                    "The latest GetRecords call's iterator age: how far behind the newest record it read.");
                continue;
            }
            _meter.CreateObservableCounter(name, () => registry.Streams.Select(s => Measure(definition.Value(s[metric].Sum), s.StreamName)), unit,
                $"AWS/Kinesis {definition.Name}: the sum of its samples.");
            _meter.CreateObservableCounter(name + "_samples", () => registry.Streams.Select(s => new Measurement<long>(s[metric].Count, new KeyValuePair<string, object?>("StreamName", s.StreamName))),
                null, $"AWS/Kinesis {definition.Name}: its samples (requests).");
        }
        foreach (var metric in Enum.GetValues<ConsumerMetric>())
        {
            var definition = KinesisMetrics.ConsumerDefinitions[(int)metric];
            string name = "kinesis_" + Snake(definition.Name);
            if (metric == ConsumerMetric.SubscribeToShardEventMillisBehindLatest)
            {
                _meter.CreateObservableGauge(name, () => registry.Consumers.Select(c => Consumer(c[metric].Last, c)), Unit(definition.Unit),
                    "The latest SubscribeToShard event's MillisBehindLatest.");
                continue;
            }
            _meter.CreateObservableCounter(name, () => registry.Consumers.Select(c => Consumer(c[metric].Sum, c)), Unit(definition.Unit),
                $"AWS/Kinesis {definition.Name}: the sum of its samples.");
            _meter.CreateObservableCounter(name + "_samples", () => registry.Consumers.Select(c => Consumer(c[metric].Count, c)), null,
                $"AWS/Kinesis {definition.Name}: its samples (calls or events).");
        }
        foreach (var metric in Enum.GetValues<FirehoseMetric>())
        {
            bool delivery = metric is FirehoseMetric.DeliveryBytes or FirehoseMetric.DeliveryRecords or FirehoseMetric.DeliverySuccess or FirehoseMetric.DeliveryDataFreshness;
            foreach (string destination in delivery ? FirehoseDestinations : [""])
                AddFirehose(registry, metric, destination);
        }
        foreach (var metric in Enum.GetValues<FunctionMetric>())
            AddFunction(registry, metric);
        _meter.CreateObservableGauge("kinesis_shard_iterator_age_milliseconds", () => ShardIteratorAges(streams), "ms",
            "AWS/Kinesis IteratorAgeMilliseconds of a shard (enhanced monitoring): the latest GetRecords call's.");
        foreach (var metric in new[] { ShardMetric.IncomingBytes, ShardMetric.IncomingRecords, ShardMetric.OutgoingBytes, ShardMetric.OutgoingRecords,
            ShardMetric.WriteProvisionedThroughputExceeded, ShardMetric.ReadProvisionedThroughputExceeded })
        {
            var definition = KinesisMetrics.ShardDefinitions[(int)metric];
            _meter.CreateObservableCounter("kinesis_shard_" + Snake(definition.Name), () => ShardCounters(streams, metric), Unit(definition.Unit),
                $"AWS/Kinesis {definition.Name} of a shard (enhanced monitoring).");
        }
        AddActivity(registry.Activity, streams, lags);
        _meter.CreateObservableGauge("runnel_delivery_stream_records_behind", () => registry.DeliveryStreams.Select(d => new Measurement<long>(d.RecordsNotDelivered,
            new KeyValuePair<string, object?>("DeliveryStreamName", d.DeliveryStreamName))), "{record}",
            "Records a delivery stream has received (put, or read from its Kinesis stream source) and not yet delivered. What it has not read of its source yet is runnel_reader_lag_records{Kind=\"delivery\"}.");
        foreach (var metric in Enum.GetValues<ChannelMetric>())
        {
            var definition = ChannelMetrics.Definition(metric);
            string name = "kinesis_channel_" + Snake(definition.Name);
            static KeyValuePair<string, object?>[] Labels(ChannelMetrics c) => [new("StreamName", c.StreamName), new("ChannelName", c.ChannelName), new("ChannelId", c.ChannelId)];
            if (metric == ChannelMetric.DataFreshness)
            {
                _meter.CreateObservableGauge(name, () => registry.Channels.Select(c => new Measurement<long>(c[metric].Last, Labels(c))), Unit(definition.Unit),
                    $"AWS/Kinesis {definition.Name} of a channel: the age of its oldest record not yet delivered, seconds.");
                continue;
            }
            _meter.CreateObservableCounter(name, () => registry.Channels.Select(c => new Measurement<long>(c[metric].Sum, Labels(c))), Unit(definition.Unit),
                $"AWS/Kinesis {definition.Name} of a channel.");
            if (metric is ChannelMetric.DeliverySuccess or ChannelMetric.DLQDeliverySuccess)
                _meter.CreateObservableCounter(name + "_samples", () => registry.Channels.Select(c => new Measurement<long>(c[metric].Count, Labels(c))), null,
                    $"AWS/Kinesis {definition.Name} of a channel: its samples (write attempts).");
        }
        var builder = Sdk.CreateMeterProviderBuilder().AddMeter(meterName)
            .ConfigureResource(resource => resource.AddService("runnel"))
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0); // every scrape reads the counters now
        if (otlpEndpoint is not null)
            builder.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = otlpEndpoint;
                if (otlpEndpoint.AbsolutePath.EndsWith("/v1/metrics", StringComparison.Ordinal))
                    exporter.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)(otlpInterval ?? TimeSpan.FromMinutes(1)).TotalMilliseconds;
            });
        _provider = builder.Build();
    }

    /// <summary>The provider the scraping endpoint reads.</summary>
    public MeterProvider Provider => _provider;

    /// <summary>
    /// What Kinesis cannot show (<see cref="ClientActivity"/>): every reader's lag per shard (registered consumers by
    /// name, iterator readers by client), measured when scraped (<see cref="ReaderLags"/>), and its failed requests;
    /// every writer's records stored and refused; under <c>runnel_</c> (not AWS metrics). A client is labelled by its
    /// access key and its User-Agent's first product (<see cref="ClientId.Display"/>), so clients that differ only
    /// later in the User-Agent share labels: their entries are merged into one series, counters summed
    /// (<see cref="MergedCounter{TLabels}"/>), lags the largest.
    /// </summary>
    private void AddActivity(ClientActivity activity, StreamService streams, ReaderLags lags)
    {
        static KeyValuePair<string, object?>[] Labels(ReaderLabels r) =>
        [
            new("StreamName", r.Stream), new("ShardId", Runnel.Core.Model.ShardId.Format(r.Shard)),
            new("Kind", ReaderLags.KindLabel(r.Kind)), new("Reader", r.Reader),
        ];
        static ReaderLabels Of(ReaderActivity r) => new(r.StreamName, r.ShardIndex, r.Kind, r.Label);
        IEnumerable<Measurement<long>> Lag(Func<LagSeries, long> value) => (Volatile.Read(ref _scraped) ?? Series(lags.Measure())).Select(l => new Measurement<long>(value(l), Labels(l.Labels)));
        long Now() => streams.Now.ToUnixTimeMilliseconds();
        _meter.CreateObservableGauge("runnel_reader_lag_milliseconds", () => Lag(r => r.Millis), "ms",
            "How long ago the oldest record a reader has not read arrived in the shard, now (0 when caught up; registered consumers, clients reading with shard iterators, delivery streams).");
        _meter.CreateObservableGauge("runnel_reader_lag_records", () => Lag(r => r.Records), "{record}",
            "How many records of the shard a reader has still to read, now.");
        var readerRecords = new MergedCounter<ReaderLabels>();
        _meter.CreateObservableCounter("runnel_reader_records", () => readerRecords.Sum(activity.Readers(Now()).Select(r => ((object)r, Of(r), r.Records)))
            .Select(s => new Measurement<long>(s.Value, Labels(s.Labels))), "{record}",
            "Records a reader has read from the shard.");
        var readerErrors = new MergedCounter<ReaderLabels>();
        _meter.CreateObservableCounter("runnel_reader_errors", () => readerErrors.Sum(activity.Readers(Now()).Select(r => ((object)r, Of(r), r.Errors.Value)))
            .Select(s => new Measurement<long>(s.Value, Labels(s.Labels))), null,
            "Failed requests of a reader of the shard: GetRecords calls throttled or with an expired or invalid iterator, subscriptions refused or ended by a failure.");
        static KeyValuePair<string, object?>[] Writer((string Stream, string Writer) w) => [new("StreamName", w.Stream), new("Writer", w.Writer)];
        var writerRecords = new MergedCounter<(string, string)>();
        _meter.CreateObservableCounter("runnel_writer_records", () => writerRecords.Sum(activity.Writers(Now()).Select(w => ((object)w, (w.StreamName, w.Label), w.Records)))
            .Select(s => new Measurement<long>(s.Value, Writer(s.Labels))), "{record}",
            "Records a client (access key and User-Agent) has written to the stream.");
        var writerFailures = new MergedCounter<(string, string)>();
        _meter.CreateObservableCounter("runnel_writer_failed_records", () => writerFailures.Sum(activity.Writers(Now()).Select(w => ((object)w, (w.StreamName, w.Label), w.FailedRecords.Value)))
            .Select(s => new Measurement<long>(s.Value, Writer(s.Labels))), "{record}",
            "Records of a client's PutRecord and PutRecords calls that the stream refused: throttled, or failed inside the server.");
    }

    /// <summary>The labels of a reader's series.</summary>
    private readonly record struct ReaderLabels(string Stream, int Shard, ReaderKind Kind, string Reader);

    /// <summary>A reader's lag series: readers of the same labels merged, each figure their largest.</summary>
    private readonly record struct LagSeries(ReaderLabels Labels, long Millis, long Records);

    private static List<LagSeries> Series(IReadOnlyList<ReaderLag> lags)
    {
        var series = new Dictionary<ReaderLabels, (long Millis, long Records)>(lags.Count);
        foreach (var lag in lags)
        {
            ref var merged = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(series,
                new ReaderLabels(lag.StreamName, lag.ShardIndex, lag.Kind, lag.Name), out bool seen);
            merged = seen ? (Math.Max(merged.Millis, lag.MillisBehind), Math.Max(merged.Records, lag.RecordsBehind)) : (lag.MillisBehind, lag.RecordsBehind);
        }
        return series.Select(s => new LagSeries(s.Key, s.Value.Millis, s.Value.Records)).ToList();
    }

    // The lags a scrape shows, measured once for it before the collection (ScrapeAsync), so that both lag gauges show
    // one measurement and a cluster's reads of JetStream are awaited rather than blocking a thread. The collection runs
    // on a task of the exporter's, so the measurement waits here for as long as its scrape runs; a collection with no
    // scrape running (an OTLP export) measures in the callback.
    private List<LagSeries>? _scraped;

    /// <summary>
    /// Measures the readers' lags for a scrape, then runs <paramref name="scrape"/> (the exporter), whose collection
    /// shows them.
    /// </summary>
    public async Task ScrapeAsync(ReaderLags lags, Func<Task> scrape, CancellationToken cancellationToken)
    {
        var measured = Series(await lags.MeasureAsync(cancellationToken).ConfigureAwait(false));
        Volatile.Write(ref _scraped, measured);
        try
        {
            await scrape().ConfigureAwait(false);
        }
        finally
        {
            Interlocked.CompareExchange(ref _scraped, null, measured); // unless a later scrape's replaced it
        }
    }

    private static Measurement<double> Measure(double value, string stream) => new(value, new KeyValuePair<string, object?>("StreamName", stream));

    /// <summary>The prefixes of Firehose's delivery metrics, one per kind of destination Runnel delivers to.</summary>
    private static readonly string[] FirehoseDestinations =
        ["DeliveryToS3", "DeliveryToHttpEndpoint", "DeliveryToRedshift", "DeliveryToAmazonOpenSearchService", "DeliveryToElasticsearch",
            "DeliveryToAmazonOpenSearchServerless", "DeliveryToSplunk"];

    /// <summary>One Firehose metric (a delivery metric: of the delivery streams with that destination) under <c>firehose_</c>.</summary>
    private void AddFirehose(MetricRegistry registry, FirehoseMetric metric, string destination)
    {
        var probe = new DeliveryStreamMetrics("") { Destination = destination.Length > 0 ? destination : "DeliveryToS3" };
        var definition = probe.Definition(metric);
        string name = "firehose_" + Snake(definition.Name);
        IEnumerable<DeliveryStreamMetrics> Streams() => registry.DeliveryStreams.Where(s => destination.Length == 0 || s.Destination == destination);
        static Measurement<double> Of(double value, DeliveryStreamMetrics s) => new(value, new KeyValuePair<string, object?>("DeliveryStreamName", s.DeliveryStreamName));
        string? unit = definition.Unit == MetricUnit.Seconds ? "s" : Unit(definition.Unit);
        if (metric is FirehoseMetric.DeliveryDataFreshness or FirehoseMetric.KinesisMillisBehindLatest)
        {
            _meter.CreateObservableGauge(name, () => Streams().Select(s => Of(definition.Value(s[metric].Last), s)), unit,
                $"AWS/Firehose {definition.Name}: the latest sample.");
            return;
        }
        _meter.CreateObservableCounter(name, () => Streams().Select(s => Of(definition.Value(s[metric].Sum), s)), unit,
            $"AWS/Firehose {definition.Name}: the sum of its samples.");
        _meter.CreateObservableCounter(name + "_samples", () => Streams().Select(s => Of(s[metric].Count, s)), null,
            $"AWS/Firehose {definition.Name}: its samples.");
    }

    /// <summary>One Lambda metric under <c>lambda_</c>: a gauge of the latest sample for ConcurrentExecutions and IteratorAge, else a counter of the sum and one of the samples.</summary>
    private void AddFunction(MetricRegistry registry, FunctionMetric metric)
    {
        var definition = FunctionMetrics.Definition(metric);
        string name = "lambda_" + Snake(definition.Name);
        static Measurement<double> Of(double value, FunctionMetrics f) => new(value, new KeyValuePair<string, object?>("FunctionName", f.FunctionName));
        if (metric is FunctionMetric.ConcurrentExecutions or FunctionMetric.IteratorAge)
        {
            _meter.CreateObservableGauge(name, () => registry.Functions.Select(f => Of(metric == FunctionMetric.ConcurrentExecutions ? f.Running : f[metric].Last, f)),
                Unit(definition.Unit), $"AWS/Lambda {definition.Name}: {(metric == FunctionMetric.ConcurrentExecutions ? "the invocations running now" : "the latest batch's")}.");
            return;
        }
        _meter.CreateObservableCounter(name, () => registry.Functions.Select(f => Of(definition.Value(f[metric].Sum), f)), Unit(definition.Unit),
            $"AWS/Lambda {definition.Name}: the sum of its samples.");
        _meter.CreateObservableCounter(name + "_samples", () => registry.Functions.Select(f => Of(f[metric].Count, f)), null,
            $"AWS/Lambda {definition.Name}: its samples.");
    }

    private static Measurement<double> Consumer(double value, ConsumerMetrics consumer) =>
        new(value, new KeyValuePair<string, object?>("StreamName", consumer.StreamName), new KeyValuePair<string, object?>("ConsumerName", consumer.ConsumerName));

    private static IEnumerable<Measurement<double>> ShardIteratorAges(StreamService streams)
    {
        foreach (var stream in streams.All)
            if (stream.EnhancedMetrics.Contains(nameof(ShardMetric.IteratorAgeMilliseconds)))
                foreach (var shard in stream.Shards)
                    yield return new Measurement<double>(streams.Shard(stream, shard).IteratorAge.Last, new KeyValuePair<string, object?>("StreamName", stream.Name),
                        new KeyValuePair<string, object?>("ShardId", Runnel.Core.Model.ShardId.Format(shard.Index)));
    }

    /// <summary>The shard-level metrics the streams' EnableEnhancedMonitoring named, for the minute history.</summary>
    public static IEnumerable<MinuteRoller.ShardSample> ShardSamples(StreamService streams)
    {
        foreach (var stream in streams.All)
        {
            if (stream.EnhancedMetrics.Count == 0)
                continue;
            foreach (var shard in stream.Shards)
            {
                var log = streams.Shard(stream, shard);
                var counters = log.Throughput.Counters;
                foreach (string name in stream.EnhancedMetrics)
                {
                    if (!Enum.TryParse<ShardMetric>(name, out var metric))
                        continue;
                    yield return metric switch
                    {
                        ShardMetric.IteratorAgeMilliseconds => new(stream.Name, shard.Index, metric, 0, log.IteratorAge),
                        _ => new(stream.Name, shard.Index, metric, ShardCounter(counters, metric), null),
                    };
                }
            }
        }
    }

    /// <summary>A shard-level counter of every shard of the streams that enabled it (their open shards and those a reshard closed).</summary>
    private static IEnumerable<Measurement<double>> ShardCounters(StreamService streams, ShardMetric metric)
    {
        string name = metric.ToString();
        foreach (var stream in streams.All)
            if (stream.EnhancedMetrics.Contains(name))
                foreach (var shard in stream.Shards)
                    yield return new Measurement<double>(ShardCounter(streams.Shard(stream, shard).Throughput.Counters, metric),
                        new KeyValuePair<string, object?>("StreamName", stream.Name), new KeyValuePair<string, object?>("ShardId", Runnel.Core.Model.ShardId.Format(shard.Index)));
    }

    /// <summary>A shard-level counter's total since the server started (every shard-level metric but IteratorAgeMilliseconds).</summary>
    private static long ShardCounter(Runnel.Core.Throughput.ThroughputCounters counters, ShardMetric metric) => metric switch
    {
        ShardMetric.IncomingBytes => counters.BytesIn,
        ShardMetric.IncomingRecords => counters.RecordsIn,
        ShardMetric.OutgoingBytes => counters.BytesOut,
        ShardMetric.OutgoingRecords => counters.RecordsOut,
        ShardMetric.WriteProvisionedThroughputExceeded => counters.WriteThrottles,
        _ => counters.ReadThrottles,
    };

    /// <summary>OpenTelemetry's unit (UCUM) for a CloudWatch unit; the Prometheus exporter names it in the metric's suffix.</summary>
    private static string? Unit(string unit) => unit switch
    {
        MetricUnit.Bytes => "By",
        MetricUnit.Milliseconds => "ms",
        _ => null,
    };

    /// <summary>AWS's name in snake case: <c>PutRecords.ThrottledRecords</c> is <c>put_records_throttled_records</c>.</summary>
    public static string Snake(string name)
    {
        var snake = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c == '.')
            {
                snake.Append('_');
                continue;
            }
            if (char.IsUpper(c) && i > 0 && name[i - 1] != '.' && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                snake.Append('_');
            snake.Append(char.ToLowerInvariant(c));
        }
        return snake.ToString();
    }

    public void Dispose()
    {
        _provider.Dispose();
        _meter.Dispose();
    }
}
