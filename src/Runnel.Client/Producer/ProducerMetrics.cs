using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Runnel.Client.Producer;

/// <summary>
/// The producer's instruments, in the meter <see cref="MeterName"/>, each tagged with the stream: Kinesis records put,
/// user records put, retries (entries put again), failures (user records given up), the bytes buffered (an
/// observable gauge) and the latency from acceptance to durability of each user record. One meter per producer,
/// disposed with it. Thread-safe.
/// </summary>
internal sealed class ProducerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Runnel.Client.Producer";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _recordsPut;
    private readonly Counter<long> _userRecordsPut;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _latency;
    private readonly KeyValuePair<string, object?> _stream;

    public ProducerMetrics(string streamName, Func<long> bufferedBytes)
    {
        _stream = new("stream", streamName);
        _recordsPut = _meter.CreateCounter<long>("runnel.producer.records_put", "{record}", "Kinesis records (aggregates or lone records) put and acknowledged.");
        _userRecordsPut = _meter.CreateCounter<long>("runnel.producer.user_records_put", "{record}", "User records made durable.");
        _retries = _meter.CreateCounter<long>("runnel.producer.retries", "{record}", "Kinesis records put again after a failure.");
        _failures = _meter.CreateCounter<long>("runnel.producer.failures", "{record}", "User records given up.");
        _meter.CreateObservableGauge("runnel.producer.buffered_bytes", () => new Measurement<long>(bufferedBytes(), _stream), "By", "Bytes of user records accepted and not yet durable or failed.");
        _latency = _meter.CreateHistogram<double>("runnel.producer.put_latency", "ms", "Time from a user record's acceptance to its durability.");
    }

    public void RecordsPut(long count) => _recordsPut.Add(count, _stream);

    public void UserRecordsPut(long count) => _userRecordsPut.Add(count, _stream);

    /// <summary>One user record's time from acceptance to durability (timestamps of <paramref name="clock"/>); nothing when no listener reads the latency.</summary>
    public void Latency(TimeProvider clock, long acceptedAt, long durableAt)
    {
        if (_latency.Enabled)
            _latency.Record(clock.GetElapsedTime(acceptedAt, durableAt).TotalMilliseconds, _stream);
    }

    public void Retries(long count) => _retries.Add(count, _stream);

    public void Failures(long count) => _failures.Add(count, _stream);

    public void Dispose() => _meter.Dispose();
}
