using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;
using Runnel.Storage;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// The delivery of one DirectPut delivery stream to a file destination, one step at a time: <see cref="PumpAsync"/>
/// reads what its log holds past the position, buffers it, writes the batches that are due as objects, and records
/// the position below every record not yet written. The caller (the elected node's delivery loop) runs it when
/// records are put and at the time it returns; tests run it with the instants they choose. A failed write is
/// retried, the position held, with exponential backoff and jitter (1 s doubling to 60 s): Firehose retries an S3
/// delivery for 24 hours. Not thread-safe: one pump at a time.
/// </summary>
public sealed class DirectPutDelivery
{
    private const int ReadRecords = 10_000;
    private const long ReadBytes = 8L << 20;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1), LongestRetry = TimeSpan.FromSeconds(60);

    private readonly string _name;
    private readonly long _version;
    private readonly IShardLog _log;
    private readonly DeliveryBuffers _buffers;
    private readonly IObjectStore _destination;
    private readonly ObjectCompression _compression;
    private readonly DeliveryPosition _position;
    private readonly S3Prefix _prefix;
    private readonly List<(DeliveryBatch Batch, int Failures, long RetryAt)> _failed = [];
    private readonly Dictionary<DeliveryBatch, ObjectEncoder> _encoders = new(ReferenceEqualityComparer.Instance);
    private ulong _readFrom;

    /// <param name="prefix">The destination's evaluated Prefix (<see cref="S3Prefix.ForDestination"/>); AWS's default
    /// <c>yyyy/MM/dd/HH/</c> when null. Partition keys are not served yet.</param>
    public DirectPutDelivery(string name, long version, IShardLog log, BufferingHints hints, IObjectStore destination, ObjectCompression compression, DeliveryPosition position,
        S3Prefix? prefix = null)
    {
        _prefix = prefix ?? S3Prefix.ForDestination(null, null).Prefix;
        if (_prefix.HasPartitionKeys)
            throw new ArgumentException("Dynamic partitioning is not served yet: the prefix names partition keys.", nameof(prefix));
        _name = name;
        _version = version;
        _log = log;
        _buffers = new DeliveryBuffers(hints);
        _destination = destination;
        _compression = compression;
        _position = position;
        _readFrom = position.Of(0);
    }

    /// <summary>The last write that failed, for the operator; null when the last attempt succeeded.</summary>
    public Exception? LastFailure { get; private set; }

    /// <summary>
    /// One step at <paramref name="nowMillis"/>: retries failed writes that are due, reads and buffers every record the
    /// log holds past what was read, writes every batch that is full or due, records the position. Returns when the
    /// next step is due (a buffer's interval, a retry), Unix ms; null when nothing waits but new records.
    /// </summary>
    public async Task<long?> PumpAsync(long nowMillis, CancellationToken cancellationToken = default)
    {
        foreach (var failed in _failed.Where(f => f.RetryAt <= nowMillis).ToList())
        {
            _failed.Remove(failed);
            await WriteAsync(failed.Batch, failed.Failures, nowMillis, cancellationToken).ConfigureAwait(false);
        }
        while (_readFrom < _log.NextOffset)
        {
            var full = new List<DeliveryBatch>();
            using (var read = await _log.ReadAsync(_readFrom, ReadRecords, ReadBytes, 0, cancellationToken).ConfigureAwait(false))
            {
                if (read.Count == 0)
                    break;
                foreach (ref readonly var record in read.Records)
                    if (_buffers.Add("", new SourceRecord(0, record.Offset, record.ArrivalMillis, read.Data(record)), nowMillis) is { } filled)
                        full.Add(filled);
                _readFrom = read.NextOffset;
            }
            foreach (var batch in full)
                await WriteAsync(batch, 0, nowMillis, cancellationToken).ConfigureAwait(false);
            Encode();
        }
        foreach (var due in _buffers.TakeDue(nowMillis))
            await WriteAsync(due, 0, nowMillis, cancellationToken).ConfigureAwait(false);
        _position.Advance(0, _buffers.HeldFrom().TryGetValue(0, out ulong held) ? held : _readFrom);
        long? retry = _failed.Count == 0 ? null : _failed.Min(f => f.RetryAt);
        return _buffers.NextDueMillis is { } due2 && (retry is null || due2 < retry) ? due2 : retry;
    }

    /// <summary>Compresses what the filling buffers gained, where the compression streams (<see cref="ObjectEncoder"/>).</summary>
    private void Encode()
    {
        foreach (var batch in _buffers.Filling)
        {
            if (!_encoders.TryGetValue(batch, out var encoder))
            {
                if (ObjectEncoder.For(_compression) is not { } made)
                    return;
                _encoders[batch] = encoder = made;
            }
            encoder.Feed(batch.Payload);
        }
    }

    private async Task WriteAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        var instant = DateTimeOffset.FromUnixTimeMilliseconds(batch.OldestArrivalMillis);
        string key = _prefix.Evaluate(instant) + ObjectName.Suffix(_name, _version, instant, Guid.NewGuid(), _compression.Extension);
        try
        {
            if (_encoders.TryGetValue(batch, out var encoder))
                await _destination.WriteAsync(key, encoder.Finish(batch.Payload), ObjectCompression.Uncompressed, cancellationToken).ConfigureAwait(false); // compressed already
            else
                await _destination.WriteAsync(key, batch.Payload, _compression, cancellationToken).ConfigureAwait(false);
            LastFailure = null;
            _buffers.Done(batch);
            if (_encoders.Remove(batch, out var finished))
                finished.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LastFailure = e;
            int failures = failuresBefore + 1;
            double backoff = Math.Min(LongestRetry.TotalMilliseconds, FirstRetry.TotalMilliseconds * Math.Pow(2, failures - 1));
            _failed.Add((batch, failures, nowMillis + (long)(backoff / 2 + Random.Shared.NextDouble() * backoff / 2)));
        }
    }
}
