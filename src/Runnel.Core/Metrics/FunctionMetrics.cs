namespace Runnel.Core.Metrics;

/// <summary>
/// A Lambda function's metrics (namespace AWS/Lambda, dimension FunctionName), each sample one invocation, one batch
/// an event-source mapping gave, or one look at what runs: <c>Invocations</c> (each call of the function's code,
/// failed or not), <c>Errors</c> (invocations that ended in a function error), <c>Duration</c> (how long an invocation
/// took), <c>ConcurrentExecutions</c> (invocations running at once, sampled as each starts: read its Maximum),
/// <c>IteratorAge</c> (for a mapping's batch, how old its last record was when the batch was given) and
/// <c>DestinationDeliveryFailures</c> (records a mapping could not describe to its on-failure destination).
/// </summary>
public enum FunctionMetric
{
    Invocations, Errors, Duration, ConcurrentExecutions, IteratorAge, DestinationDeliveryFailures,
}

/// <summary>
/// The metrics of one function (by name) and what each event adds to them, and where its event-source mappings running
/// on this node have read their streams to (the console's pipeline map measures their lag from it). Thread-safe.
/// </summary>
public sealed class FunctionMetrics(string name, bool recording = true)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SourcePosition> _sources = new(StringComparer.Ordinal);

    private const double Micros = 0.001;
    private readonly MetricCell[] _cells = MetricCell.For<FunctionMetric>(recording);
    private int _running;

    public string FunctionName { get; } = name;

    public MetricCell this[FunctionMetric metric] => _cells[(int)metric];

    /// <summary>Invocations running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>AWS's name, unit and scale (durations are recorded in microseconds, published in milliseconds).</summary>
    public static MetricDefinition Definition(FunctionMetric metric) => metric switch
    {
        FunctionMetric.Duration => new(MetricDefinition.Lambda, "Duration", MetricUnit.Milliseconds, Micros),
        FunctionMetric.IteratorAge => new(MetricDefinition.Lambda, "IteratorAge", MetricUnit.Milliseconds),
        _ => new(MetricDefinition.Lambda, metric.ToString(), MetricUnit.Count),
    };

    /// <summary>An invocation starts: the concurrency it makes is sampled.</summary>
    public void Started() => this[FunctionMetric.ConcurrentExecutions].Add(Interlocked.Increment(ref _running));

    /// <summary>An invocation ended, in a function error or not, after <paramref name="micros"/>.</summary>
    public void Ended(long micros, bool error)
    {
        Interlocked.Decrement(ref _running);
        this[FunctionMetric.Invocations].Add(1);
        this[FunctionMetric.Errors].Add(error ? 1 : 0);
        this[FunctionMetric.Duration].Add(micros);
    }

    /// <summary>An invocation was given up before it ended (the server stopping): it no longer runs, and is not counted.</summary>
    public void Abandoned() => Interlocked.Decrement(ref _running);

    /// <summary>A mapping gave a batch whose last record was <paramref name="millis"/> old.</summary>
    public void Batch(long millis) => this[FunctionMetric.IteratorAge].Add(Math.Max(0, millis));

    /// <summary>Records the function's mappings read from their streams (not an AWS metric: the pipeline map's rate).</summary>
    public MetricCell RecordsRead { get; } = recording ? new MetricCell() : MetricCell.Discard;

    /// <summary>Where each mapping running here (by UUID) has read its stream to: per shard index, the offset below which every record was given.</summary>
    public IReadOnlyDictionary<string, SourcePosition> Sources => _sources;

    /// <summary>A mapping read <paramref name="records"/> records of <paramref name="streamName"/>; its positions are now <paramref name="readTo"/>.</summary>
    public void MappingRead(string uuid, string streamName, IReadOnlyDictionary<int, ulong> readTo, int records)
    {
        RecordsRead.Add(records);
        _sources[uuid] = new SourcePosition(streamName, readTo);
    }

    /// <summary>The mapping stopped running here (deleted, disabled, or another node leads).</summary>
    public void MappingStopped(string uuid) => _sources.TryRemove(uuid, out _);

    /// <summary>A mapping could not describe <paramref name="records"/> records to its on-failure destination.</summary>
    public void DestinationFailed(int records) => this[FunctionMetric.DestinationDeliveryFailures].Add(records);
}
