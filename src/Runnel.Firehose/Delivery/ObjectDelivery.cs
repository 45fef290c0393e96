using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;
using Runnel.Storage;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// The delivery of one delivery stream to objects (an S3 destination: a bucket, or a directory laid out as one): each
/// due batch written as one object named as AWS names them, under the Prefix evaluated at its oldest record's arrival
/// (and its partition's keys with dynamic partitioning; records that cannot be partitioned go to the error output),
/// GZIP compressed as the records arrive. A failed write is retried (<see cref="BufferedDelivery"/>) for as long as
/// the records are kept: Firehose retries an S3 delivery for 24 hours. Not thread-safe: one pump at a time.
/// </summary>
public sealed class ObjectDelivery : BufferedDelivery
{
    private readonly string _name;
    private readonly long _version;
    private readonly IObjectStore _destination;
    private readonly ObjectCompression _compression;
    private readonly S3Prefix _prefix;
    private readonly S3Prefix _errorPrefix;
    private readonly List<(bool FromLambda, string Key)> _partitionKeys; // the prefix's, read once: every record is partitioned by them
    private readonly RecordProcessing _processing;
    private readonly Dictionary<string, Dictionary<string, string>> _partitionValues = new(StringComparer.Ordinal);

    /// <summary>AWS's default limit of dynamic partitions buffering at once; a record of one more goes to the error output.</summary>
    public const int MaxActivePartitions = 500;

    /// <summary>The buffers of failed records start with NUL (a partition's key never does), then their error output type.</summary>
    private const string PartitioningFailed = "\0partitioning-failed";
    private readonly ParquetConversion? _conversion;
    private readonly HashSet<DeliveryBatch> _converted = new(ReferenceEqualityComparer.Instance);
    private static readonly byte[] Newline = "\n"u8.ToArray();
    private readonly Dictionary<DeliveryBatch, ObjectEncoder> _encoders = new(ReferenceEqualityComparer.Instance);

    /// <param name="prefix">The destination's evaluated Prefix (<see cref="S3Prefix.ForDestination"/>); AWS's default
    /// <c>yyyy/MM/dd/HH/</c> when null.</param>
    public ObjectDelivery(string name, long version, IShardLog log, BufferingHints hints, IObjectStore destination, ObjectCompression compression, DeliveryPosition position,
        S3Prefix? prefix = null)
        : this(name, version, new DirectPutSource(log, position.Of(0)), hints, destination, compression, position, prefix)
    {
    }

    /// <param name="prefix">The destination's evaluated Prefix; with partition keys (<c>partitionKeyFromQuery</c>),
    /// <paramref name="processing"/> must give them.</param>
    /// <param name="errorPrefix">Where records that cannot be partitioned go (<see cref="S3Prefix.ForDestination"/>'s second).</param>
    public ObjectDelivery(string name, long version, IRecordSource source, BufferingHints hints, IObjectStore destination, ObjectCompression compression, DeliveryPosition position,
        S3Prefix? prefix = null, S3Prefix? errorPrefix = null, RecordProcessing? processing = null, bool kplSource = false, Transform.TransformStage? transform = null,
        ParquetConversion? conversion = null)
        : base(source, hints, position, (processing ?? RecordProcessing.None).Splitter(kplSource), transform)
    {
        _conversion = conversion;
        _prefix = prefix ?? S3Prefix.ForDestination(null, null).Prefix;
        _errorPrefix = errorPrefix ?? S3Prefix.ForDestination(null, null).ErrorOutput;
        _processing = processing ?? RecordProcessing.None;
        var keys = _partitionKeys = [.. _prefix.PartitionKeys];
        if (keys.Any(k => k.FromLambda) && transform is null)
            throw new ArgumentException("partitionKeyFromLambda needs a Lambda transformation.", nameof(prefix));
        if (keys.Any(k => !k.FromLambda) && (_processing.Query is not { } query || keys.Any(k => !k.FromLambda && !query.Keys.Contains(k.Key))))
            throw new ArgumentException("The prefix names partition keys the MetadataExtraction query does not give.", nameof(processing));
        _name = name;
        _version = version;
        _destination = destination;
        _compression = compression;
    }

    /// <summary>Every batch taken out is written or waiting to be retried now: the keys of partitions neither fills are done with.</summary>
    protected override void Settled()
    {
        foreach (string done in _partitionValues.Keys.Where(p => !Buffers.IsFilling(p) && !Retrying.Any(b => b.Partition == p)).ToList())
            _partitionValues.Remove(done);
    }

    /// <summary>Buffers a record (processed) in its partition: the query's keys and the function's (<paramref name="lambdaKeys"/>).</summary>
    protected override DeliveryBatch? Add(SourceRecord record, long nowMillis, IReadOnlyDictionary<string, string>? lambdaKeys)
    {
        var keys = _partitionKeys;
        if (keys.Count == 0)
            return Buffers.Add("", record, nowMillis, _processing.AppendNewline ? Newline : default);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? problem = null;
        if (_processing.Query is { } query)
        {
            if (query.Evaluate(record.Data.ToArray(), out problem) is { } queried)
                foreach (var (key, value) in queried)
                    values["q:" + key] = value;
        }
        foreach (var (fromLambda, key) in keys.Where(k => k.FromLambda))
        {
            if (lambdaKeys?.GetValueOrDefault(key) is { } value)
                values["l:" + key] = value;
            else
                problem ??= $"The Lambda function gave no value for the partition key '{key}'.";
        }
        string? errorCode = problem is null ? null : "DynamicPartitioning.MetadataExtractionFailed";
        string partition = "";
        if (problem is null)
        {
            partition = string.Join('\u001f', keys.Select(k => values[(k.FromLambda ? "l:" : "q:") + k.Key]));
            if (!Buffers.IsFilling(partition) && Buffers.Filling.Count(b => !b.Partition.StartsWith('\0')) >= MaxActivePartitions)
            {
                errorCode = "DynamicPartitioning.ActivePartitionExceeded";
                problem = $"{MaxActivePartitions} partitions are buffering already, the most a Firehose stream may have.";
            }
            else
                _partitionValues[partition] = values;
        }
        if (errorCode is null)
            return Buffers.Add(partition, record, nowMillis, _processing.AppendNewline ? Newline : default);
        byte[] error = ErrorRecord(record.Data, record.ArrivalMillis, nowMillis, errorCode, problem ?? "");
        return Buffers.Add(PartitioningFailed, new SourceRecord(record.Source, record.Position, record.ArrivalMillis, error), nowMillis);
    }

    /// <summary>Compresses what the filling buffers gained, where the compression streams (<see cref="ObjectEncoder"/>).</summary>
    protected override void Buffered()
    {
        foreach (var batch in Buffers.Filling)
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

    protected override async Task<Exception?> AttemptAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        var instant = DateTimeOffset.FromUnixTimeMilliseconds(batch.OldestArrivalMillis);
        string prefix = batch.Partition.StartsWith('\0')
            ? _errorPrefix.Evaluate(instant, errorOutputType: batch.Partition[1..])
            : _prefix.Evaluate(instant, (fromLambda, key) => _partitionValues[batch.Partition][(fromLambda ? "l:" : "q:") + key]);
        if (_conversion is not null && !batch.Partition.StartsWith('\0'))
            return await ConvertAsync(batch, prefix, instant, failuresBefore, nowMillis, cancellationToken).ConfigureAwait(false);
        string key = prefix + ObjectName.Suffix(_name, _version, instant, Guid.NewGuid(), _compression.Extension);
        try
        {
            if (_encoders.TryGetValue(batch, out var encoder))
                await _destination.WriteAsync(key, encoder.Finish(batch.Payload), ObjectCompression.Uncompressed, cancellationToken).ConfigureAwait(false); // compressed already
            else
                await _destination.WriteAsync(key, batch.Payload, _compression, cancellationToken).ConfigureAwait(false);
            if (!batch.Partition.StartsWith('\0'))
                Metrics?.ObjectWritten();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e; // S3 delivery is retried as long as the records are kept
        }
    }

    /// <summary>The batch as a Parquet object, and the records that did not convert in the error output; each written once.</summary>
    private async Task<Exception?> ConvertAsync(DeliveryBatch batch, string prefix, DateTimeOffset instant, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        try
        {
            var (file, failed) = await _conversion!.ConvertAsync(batch, cancellationToken).ConfigureAwait(false);
            if (!_converted.Contains(batch))
            {
                long failedBytes = failed.Sum(f => (long)batch.Record(f.Index).Length);
                Metrics?.Converted(batch.Count - failed.Count, batch.Bytes - failedBytes, failed.Count, failedBytes);
            }
            if (file is not null && !_converted.Contains(batch))
            {
                await _destination.WriteAsync(prefix + ObjectName.Suffix(_name, _version, instant, Guid.NewGuid(), ".parquet"), file, ObjectCompression.Uncompressed, cancellationToken).ConfigureAwait(false);
                _converted.Add(batch);
                Metrics?.ObjectWritten();
            }
            if (failed.Count > 0)
            {
                var lines = new System.Buffers.ArrayBufferWriter<byte>();
                foreach (var (i, code, message) in failed)
                {
                    using (var json = new System.Text.Json.Utf8JsonWriter(lines))
                    {
                        json.WriteStartObject();
                        json.WriteNumber("attemptsMade", failuresBefore + 1);
                        json.WriteNumber("arrivalTimestamp", batch.ArrivalMillis(i));
                        json.WriteString("lastErrorCode", code);
                        json.WriteString("lastErrorMessage", message);
                        json.WriteNumber("attemptEndingTimestamp", nowMillis);
                        json.WriteBase64String("rawData", batch.Record(i).Span);
                        json.WriteStartObject("dataCatalogTable");
                        json.WriteString("databaseName", _conversion.Database);
                        json.WriteString("tableName", _conversion.Table);
                        json.WriteEndObject();
                        json.WriteEndObject();
                    }
                    System.Buffers.BuffersExtensions.Write(lines, Newline);
                }
                string key = _errorPrefix.Evaluate(instant, errorOutputType: "format-conversion-failed") + ObjectName.Suffix(_name, _version, instant, Guid.NewGuid(), _compression.Extension);
                await _destination.WriteAsync(key, lines.WrittenMemory, _compression, cancellationToken).ConfigureAwait(false);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e;
        }
    }

    protected override void Forget(DeliveryBatch batch)
    {
        _converted.Remove(batch);
        if (_encoders.Remove(batch, out var finished))
            finished.Dispose();
    }
}
