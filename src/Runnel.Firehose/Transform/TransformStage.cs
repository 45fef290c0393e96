using System.Globalization;
using System.Text.Json;
using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Transform;

/// <summary>The Lambda processor's settings (its parameters, with AWS's defaults).</summary>
public sealed record TransformSettings(string FunctionArn, int Retries, BufferingHints Hints)
{
    /// <summary>AWS's defaults: 3 retries, a 1 MB buffer, 60 s.</summary>
    public static TransformSettings From(string functionArn, IReadOnlyDictionary<string, string> parameters)
    {
        int retries = int.TryParse(parameters.GetValueOrDefault("NumberOfRetries"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 3;
        double megabytes = double.TryParse(parameters.GetValueOrDefault("BufferSizeInMBs"), NumberStyles.Float, CultureInfo.InvariantCulture, out double mb) ? mb : 1;
        int interval = int.TryParse(parameters.GetValueOrDefault("BufferIntervalInSeconds"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : 60;
        return new TransformSettings(functionArn, Math.Clamp(retries, 0, 300), BufferingHints.OfBytes((long)(Math.Clamp(megabytes, 0.2, 3) * 1_000_000), Math.Clamp(interval, 0, 900)));
    }
}

/// <summary>Where a record of a Kinesis stream source came from, as the transformation event's
/// <c>kinesisRecordMetadata</c> shows it; <paramref name="Subsequence"/> is the piece's index when the record was split
/// (a KPL aggregate's user records, sub-records), else null.</summary>
public sealed record KinesisRecordMetadata(string ShardId, string PartitionKey, string SequenceNumber, long ArrivalMillis, int? Subsequence)
{
    /// <summary>The record's id in the event: its sequence number, and the piece's index after a dot when it was split.</summary>
    public string RecordId => Subsequence is { } piece ? string.Create(CultureInfo.InvariantCulture, $"{SequenceNumber}.{piece}") : SequenceNumber;
}

/// <summary>What became of one record in a transformation.</summary>
public enum TransformResult { Ok, Dropped, ProcessingFailed }

/// <summary>A record after the function: its new data (Ok), or why it failed, with where it came from.</summary>
public sealed record TransformedRecord(int Source, ulong Position, long ArrivalMillis, ReadOnlyMemory<byte> Data, TransformResult Result,
    IReadOnlyDictionary<string, string>? PartitionKeys = null, string? ErrorCode = null, string? ErrorMessage = null, int AttemptsMade = 1);

/// <summary>
/// The Lambda processor (docs/adr/0002-firehose-delivery.md, 6): records are buffered by the processor's own hints,
/// then a buffer is one invocation with Firehose's event (<c>invocationId</c>, <c>deliveryStreamArn</c>, <c>region</c>,
/// <c>records: [{recordId, approximateArrivalTimestamp, data}]</c>, <c>sourceKinesisStreamArn</c> for a stream source);
/// each record comes back Ok (new data, and partition keys for <c>partitionKeyFromLambda</c>), Dropped, or
/// ProcessingFailed. A record id missing from the answer or repeated is a failure of that record
/// (<c>Lambda.MissingRecordId</c>, <c>Lambda.DuplicatedRecordId</c>); an invocation that fails is tried again, up to
/// <c>NumberOfRetries</c> more times, then every record of it failed (<c>Lambda.FunctionError</c>); an answer that
/// is not the status model fails them all at once (<c>Lambda.JsonProcessingException</c>). Records being transformed
/// hold the delivery stream's position like any buffered record. Not thread-safe: owned by the delivery.
/// </summary>
public sealed class TransformStage(ITransformFunction function, TransformSettings settings, string deliveryStreamArn, string region, string? sourceStreamArn)
{
    private readonly DeliveryBuffers _buffers = new(settings.Hints);
    private readonly List<DeliveryBatch> _full = [];
    private readonly Dictionary<(int Source, ulong Position), Queue<KinesisRecordMetadata>> _kinesis = [];

    public TransformSettings Settings { get; } = settings;

    /// <summary>Where the invocations are counted (ExecuteProcessing.*, SucceedProcessing.*); null for nowhere.</summary>
    public Runnel.Core.Metrics.DeliveryStreamMetrics? Metrics { get; set; }

    /// <param name="kinesis">Where the record came from in a Kinesis stream source; null for a DirectPut record.</param>
    public void Add(SourceRecord record, long nowMillis, KinesisRecordMetadata? kinesis = null)
    {
        if (kinesis is not null)
        {
            if (!_kinesis.TryGetValue((record.Source, record.Position), out var pieces))
                _kinesis[(record.Source, record.Position)] = pieces = new Queue<KinesisRecordMetadata>(1);
            pieces.Enqueue(kinesis); // the pieces of one record are buffered, and invoked, in order
        }
        if (_buffers.Add("", record, nowMillis) is { } full)
            _full.Add(full);
    }

    /// <summary>When the next buffer is due (now, when one is full); null when nothing waits.</summary>
    public long? NextDueMillis => _full.Count > 0 ? 0 : _buffers.NextDueMillis;

    /// <summary>Per source, the lowest position of a record waiting to be transformed.</summary>
    public IReadOnlyDictionary<int, ulong> HeldFrom() => _buffers.HeldFrom();

    /// <summary>Transforms every buffer that is full or due; their records, in order, with what became of each.</summary>
    public async Task<List<TransformedRecord>> FlushAsync(long nowMillis, CancellationToken cancellationToken)
    {
        var due = _full.Concat(_buffers.TakeDue(nowMillis)).ToList();
        _full.Clear();
        var results = new List<TransformedRecord>();
        foreach (var batch in due)
        {
            results.AddRange(await TransformAsync(batch, nowMillis, cancellationToken).ConfigureAwait(false));
            _buffers.Done(batch);
        }
        return results;
    }

    private async Task<List<TransformedRecord>> TransformAsync(DeliveryBatch batch, long nowMillis, CancellationToken cancellationToken)
    {
        var kinesis = Enumerable.Range(0, batch.Count).Select(i => TakeKinesis(batch.Origin(i))).ToList();
        var ids = Enumerable.Range(0, batch.Count).Select(i => kinesis[i]?.RecordId ?? RecordId(batch, i)).ToList();
        byte[] request = Event(batch, ids, kinesis);
        string? failure = null;
        for (int attempt = 1; attempt <= Settings.Retries + 1; attempt++)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            var invoked = await function.InvokeAsync(Settings.FunctionArn, request, cancellationToken).ConfigureAwait(false);
            long micros = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            if (invoked.Response is { } response)
            {
                var judged = Judge(batch, ids, response, attempt);
                var ok = judged.Where(r => r.Result == TransformResult.Ok).ToList();
                Metrics?.Processed(micros, success: true, ok.Count, ok.Sum(r => (long)r.Data.Length));
                return judged;
            }
            Metrics?.Processed(micros, success: false, 0, 0);
            failure = invoked.FunctionError;
            if (attempt <= Settings.Retries)
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, attempt - 1))), cancellationToken).ConfigureAwait(false);
        }
        return [.. Enumerable.Range(0, batch.Count).Select(i => Failed(batch, i, "Lambda.FunctionError",
            $"The Lambda function was successfully invoked but it returned an error result. {failure}".TrimEnd(), Settings.Retries + 1))];
    }

    private List<TransformedRecord> Judge(DeliveryBatch batch, List<string> ids, byte[] response, int attempts)
    {
        var answered = new Dictionary<string, (TransformResult Result, byte[]? Data, Dictionary<string, string>? Keys)>(StringComparer.Ordinal);
        var repeated = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var json = JsonDocument.Parse(response);
            foreach (var record in json.RootElement.GetProperty("records").EnumerateArray())
            {
                string id = record.GetProperty("recordId").GetString() ?? throw new JsonException("recordId is null");
                var result = record.GetProperty("result").GetString() switch
                {
                    "Ok" => TransformResult.Ok,
                    "Dropped" => TransformResult.Dropped,
                    "ProcessingFailed" => TransformResult.ProcessingFailed,
                    var other => throw new JsonException($"result '{other}' is not Ok, Dropped or ProcessingFailed"),
                };
                byte[]? data = record.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.String ? d.GetBytesFromBase64() : null;
                if (result == TransformResult.Ok && data is null)
                    throw new JsonException("The data field cannot be null when the SourceType is DirectPut or KinesisStreamAsSource and processing result is Ok.");
                Dictionary<string, string>? keys = null;
                if (record.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                    && metadata.TryGetProperty("partitionKeys", out var partitionKeys) && partitionKeys.ValueKind == JsonValueKind.Object)
                    keys = partitionKeys.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText(), StringComparer.Ordinal);
                if (!answered.TryAdd(id, (result, data, keys)))
                    repeated.Add(id);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return [.. Enumerable.Range(0, batch.Count).Select(i => Failed(batch, i, "Lambda.JsonProcessingException",
                $"The Lambda function's response does not follow the transformation status model: {e.Message}", attempts))];
        }
        var results = new List<TransformedRecord>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            var (source, position) = batch.Origin(i);
            if (repeated.Contains(ids[i]))
                results.Add(Failed(batch, i, "Lambda.DuplicatedRecordId", "Multiple records were returned with the same record Id. Ensure that the Lambda function returns a unique record Id for each record.", attempts));
            else if (!answered.TryGetValue(ids[i], out var answer))
                results.Add(Failed(batch, i, "Lambda.MissingRecordId", "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids.", attempts));
            else if (answer.Result == TransformResult.ProcessingFailed)
                results.Add(Failed(batch, i, "Lambda.ProcessingFailedStatus", "ProcessingFailed status set for record", attempts));
            else
                results.Add(new TransformedRecord(source, position, batch.ArrivalMillis(i), answer.Data ?? ReadOnlyMemory<byte>.Empty, answer.Result, answer.Keys));
        }
        return results;
    }

    private static TransformedRecord Failed(DeliveryBatch batch, int i, string code, string message, int attempts)
    {
        var (source, position) = batch.Origin(i);
        return new TransformedRecord(source, position, batch.ArrivalMillis(i), batch.Record(i), TransformResult.ProcessingFailed, null, code, message, attempts);
    }

    private KinesisRecordMetadata? TakeKinesis((int Source, ulong Position) origin)
    {
        if (!_kinesis.TryGetValue(origin, out var pieces))
            return null;
        var taken = pieces.Dequeue();
        if (pieces.Count == 0)
            _kinesis.Remove(origin);
        return taken;
    }

    /// <summary>A DirectPut record's id, unique in the invocation, opaque to the function (AWS's are long digit strings).</summary>
    private static string RecordId(DeliveryBatch batch, int i)
    {
        var (source, position) = batch.Origin(i);
        return string.Create(CultureInfo.InvariantCulture, $"{source:D6}{position:D20}{i:D6}");
    }

    private byte[] Event(DeliveryBatch batch, List<string> ids, List<KinesisRecordMetadata?> kinesis)
    {
        using var buffer = new MemoryStream((int)Math.Min(int.MaxValue / 2, batch.Bytes * 4 / 3 + batch.Count * 96L + 512));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("invocationId", Guid.NewGuid().ToString("D"));
            if (sourceStreamArn is not null)
                json.WriteString("sourceKinesisStreamArn", sourceStreamArn);
            json.WriteString("deliveryStreamArn", deliveryStreamArn);
            json.WriteString("region", region);
            json.WriteStartArray("records");
            for (int i = 0; i < batch.Count; i++)
            {
                json.WriteStartObject();
                json.WriteString("recordId", ids[i]);
                json.WriteNumber("approximateArrivalTimestamp", batch.ArrivalMillis(i));
                if (kinesis[i] is { } from)
                {
                    json.WriteStartObject("kinesisRecordMetadata");
                    json.WriteString("shardId", from.ShardId);
                    json.WriteString("partitionKey", from.PartitionKey);
                    json.WriteNumber("approximateArrivalTimestamp", from.ArrivalMillis);
                    json.WriteString("sequenceNumber", from.SequenceNumber);
                    json.WriteString("subsequenceNumber", from.Subsequence?.ToString(CultureInfo.InvariantCulture) ?? "");
                    json.WriteEndObject();
                }
                json.WriteBase64String("data", batch.Record(i).Span);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
