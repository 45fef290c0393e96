using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;

namespace Runnel.Firehose.Delivery;

/// <summary>What an OpenSearch or Elasticsearch destination is configured with.</summary>
/// <param name="Endpoint">The cluster's URL (<c>ClusterEndpoint</c>, or the server's mapping of its <c>DomainARN</c>).</param>
/// <param name="Rotation">IndexRotationPeriod: NoRotation, OneHour, OneDay (the default), OneWeek, OneMonth.</param>
/// <param name="GenerateIds">DocumentIdOptions FIREHOSE_DEFAULT (ids stable across attempts) rather than NO_DOCUMENT_ID.</param>
/// <param name="FailedType">The error output type of its failed documents (<c>AmazonOpenSearchService-failed</c>, <c>elasticsearch-failed</c>).</param>
public sealed record SearchSettings(Uri Endpoint, string IndexName, string? TypeName, string Rotation, bool GenerateIds, TimeSpan RetryDuration, string FailedType,
    bool BackupAllDocuments);

/// <summary>
/// The delivery of one delivery stream to OpenSearch or Elasticsearch (docs/adr/0002-firehose-delivery.md, 7): each due
/// batch is indexed by <c>_bulk</c> requests, one <c>index</c> action per record naming its index (IndexName with
/// the rotation's suffix from the record's arrival); documents the cluster refuses for good (a 4xx other than 429)
/// go to the S3 backup as error records, those it could not take now (429, 5xx) and requests that fail whole are
/// tried again until the retry duration has passed since the first failure, then backed up as failed. With
/// AllDocuments every record is also written to the backup. Not thread-safe: one pump at a time.
/// </summary>
public sealed class SearchDelivery(
    string name, long version, IRecordSource source, BufferingHints hints, DeliveryPosition position, HttpClient http, SearchSettings settings,
    IObjectStore backup, ObjectCompression backupCompression, (S3Prefix Prefix, S3Prefix ErrorOutput) backupPrefixes, Action<string> warn, RecordSplitter? splitter = null,
    Transform.TransformStage? transform = null)
    : BufferedDelivery(source, hints, position, splitter, transform)
{
    private sealed class Progress(int count)
    {
        public readonly bool[] Done = new bool[count];
        public readonly List<(int Index, string Code, string Message)> Failed = [];
        public long? FirstFailureMillis;
        public string? LastError;
        public bool BackedUpAll;
    }

    private readonly Dictionary<DeliveryBatch, Progress> _progress = new(ReferenceEqualityComparer.Instance);

    protected override DeliveryBatch? Add(SourceRecord record, long nowMillis, IReadOnlyDictionary<string, string>? lambdaKeys) => Buffers.Add("", record, nowMillis);

    protected override void Forget(DeliveryBatch batch) => _progress.Remove(batch);

    /// <summary>The index a record goes to: IndexName with the rotation's suffix from its arrival (UTC).</summary>
    public static string IndexFor(string indexName, string rotation, long arrivalMillis)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(arrivalMillis).UtcDateTime;
        return rotation switch
        {
            "NoRotation" => indexName,
            "OneHour" => indexName + at.ToString("-yyyy-MM-dd-HH", CultureInfo.InvariantCulture),
            "OneWeek" => string.Create(CultureInfo.InvariantCulture, $"{indexName}-{ISOWeek.GetYear(at)}-w{ISOWeek.GetWeekOfYear(at):D2}"),
            "OneMonth" => indexName + at.ToString("-yyyy-MM", CultureInfo.InvariantCulture),
            _ => indexName + at.ToString("-yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
    }

    protected override async Task<Exception?> AttemptAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        if (batch.Partition.StartsWith('\0')) // records the transformation failed: to the backup, as error records
            return await WriteErrorsAsync(backup, backupPrefixes.ErrorOutput, backupCompression, name, version, batch, cancellationToken).ConfigureAwait(false);
        if (!_progress.TryGetValue(batch, out var progress))
            _progress[batch] = progress = new Progress(batch.Count);
        if (settings.BackupAllDocuments && !progress.BackedUpAll)
        {
            if (await WriteAsync(batch.Payload, backupPrefixes.Prefix.Evaluate(At(batch)), batch, cancellationToken).ConfigureAwait(false) is { } failed)
                return failed;
            progress.BackedUpAll = true;
        }
        var pending = Enumerable.Range(0, batch.Count).Where(i => !progress.Done[i]).ToList();
        if (pending.Count > 0 && progress.FirstFailureMillis is { } first && nowMillis - first >= settings.RetryDuration.TotalMilliseconds)
        {
            foreach (int i in pending)
            {
                progress.Failed.Add((i, "OS.RetryDurationExceeded", progress.LastError ?? "The cluster did not take the document within the retry duration."));
                progress.Done[i] = true;
            }
            pending.Clear();
        }
        if (pending.Count > 0)
        {
            string? error = await IndexAsync(batch, pending, progress, cancellationToken).ConfigureAwait(false);
            if (error is not null || progress.Done.Any(d => !d))
            {
                progress.FirstFailureMillis ??= nowMillis;
                progress.LastError = error ?? progress.LastError;
                return new IOException($"Indexing in {settings.Endpoint} failed ({progress.LastError}); retried until {settings.RetryDuration.TotalSeconds:0} s after the first failure, then backed up to S3.");
            }
        }
        if (progress.Failed.Count > 0)
        {
            if (await WriteAsync(FailedRecords(batch, progress, failuresBefore + 1, nowMillis),
                backupPrefixes.ErrorOutput.Evaluate(At(batch), errorOutputType: settings.FailedType), batch, cancellationToken).ConfigureAwait(false) is { } failed)
                return failed;
            warn($"Firehose {name}: {progress.Failed.Count} documents were not indexed ({progress.Failed[0].Code}: {progress.Failed[0].Message}); they are in the S3 backup ({backup.Location}).");
        }
        return null;
    }

    /// <summary>One <c>_bulk</c> request for the pending records; marks what it settled; the request's error, if it failed whole.</summary>
    private async Task<string?> IndexAsync(DeliveryBatch batch, List<int> pending, Progress progress, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>((int)Math.Min(int.MaxValue / 2, batch.Bytes + pending.Count * 128L));
        foreach (int i in pending)
        {
            using (var action = new Utf8JsonWriter(body))
            {
                action.WriteStartObject();
                action.WriteStartObject("index");
                action.WriteString("_index", IndexFor(settings.IndexName, settings.Rotation, batch.ArrivalMillis(i)));
                if (!string.IsNullOrEmpty(settings.TypeName))
                    action.WriteString("_type", settings.TypeName);
                if (settings.GenerateIds)
                    action.WriteString("_id", DocumentId(batch, i));
                action.WriteEndObject();
                action.WriteEndObject();
            }
            body.Write("\n"u8);
            var document = batch.Record(i).Span.TrimEnd("\r\n"u8);
            body.Write(document);
            body.Write("\n"u8);
        }
        using var content = new ByteArrayContent(body.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        try
        {
            using var response = await http.PostAsync(new Uri(settings.Endpoint, "_bulk"), content, cancellationToken).ConfigureAwait(false);
            byte[] answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return $"OS.{(int)response.StatusCode}: the cluster answered {(int)response.StatusCode} to the bulk request";
            using var json = JsonDocument.Parse(answer);
            var items = json.RootElement.GetProperty("items").EnumerateArray().ToList();
            if (items.Count != pending.Count)
                return $"OS.InvalidResponse: the bulk answer has {items.Count} items for {pending.Count} documents";
            for (int k = 0; k < items.Count; k++)
            {
                var result = items[k].EnumerateObject().First().Value;
                int status = result.GetProperty("status").GetInt32();
                if (status is >= 200 and < 300)
                    progress.Done[pending[k]] = true;
                else if (status != 429 && status < 500)
                {
                    string reason = result.TryGetProperty("error", out var e) ? e.GetRawText() : $"status {status}";
                    progress.Failed.Add((pending[k], status.ToString(CultureInfo.InvariantCulture), reason));
                    progress.Done[pending[k]] = true;
                }
                else
                    progress.LastError = $"OS.{status}: the cluster could not take a document now";
            }
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return $"OS.ConnectionFailed: {e.Message}";
        }
    }

    /// <summary>A record's document id, the same on every attempt and after a restart: its source, position and place among the pieces of that position.</summary>
    private static string DocumentId(DeliveryBatch batch, int i)
    {
        var (source, position) = batch.Origin(i);
        int piece = 0;
        for (int j = i - 1; j >= 0 && batch.Origin(j) == (source, position); j--)
            piece++;
        return string.Create(CultureInfo.InvariantCulture, $"{source}.{position}.{piece}");
    }

    private byte[] FailedRecords(DeliveryBatch batch, Progress progress, int attempts, long nowMillis)
    {
        var lines = new ArrayBufferWriter<byte>();
        foreach (var (i, code, message) in progress.Failed)
        {
            using (var json = new Utf8JsonWriter(lines))
            {
                json.WriteStartObject();
                json.WriteNumber("attemptsMade", attempts);
                json.WriteNumber("arrivalTimestamp", batch.ArrivalMillis(i));
                json.WriteString("errorCode", code);
                json.WriteString("errorMessage", message);
                json.WriteNumber("attemptEndingTimestamp", nowMillis);
                if (settings.GenerateIds)
                    json.WriteString("esDocumentId", DocumentId(batch, i));
                json.WriteString("esIndexName", IndexFor(settings.IndexName, settings.Rotation, batch.ArrivalMillis(i)));
                json.WriteString("esTypeName", settings.TypeName ?? "");
                json.WriteBase64String("rawData", batch.Record(i).Span);
                json.WriteEndObject();
            }
            lines.Write("\n"u8);
        }
        return lines.WrittenSpan.ToArray();
    }

    private Task<Exception?> WriteAsync(ReadOnlyMemory<byte> payload, string prefix, DeliveryBatch batch, CancellationToken cancellationToken) =>
        WriteObjectAsync(backup, prefix, payload, backupCompression, name, version, batch, cancellationToken);
}
