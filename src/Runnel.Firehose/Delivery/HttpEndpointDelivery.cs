using System.Buffers;
using System.Text.Json;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// The delivery of one delivery stream to an HTTP endpoint, AWS's contract (docs/adr/0002-firehose-delivery.md, 5), or
/// to another endpoint that takes a batch per request (<see cref="IEndpointDestination"/>: Splunk's HEC): each due
/// batch is one request, its request id kept across the batch's attempts; a failed attempt is retried with
/// backoff until <c>RetryOptions.DurationInSeconds</c> has passed since the first failure, then the batch's records go
/// to the S3 backup as error records (<c>http-endpoint-failed</c>, <c>splunk-failed</c>); a 413 from an HTTP endpoint
/// is not retried and its batch is dropped, as Firehose does. With <c>S3BackupMode</c> AllData (Splunk: AllEvents),
/// every delivered batch is also written to the backup as an object.
/// Not thread-safe: one pump at a time.
/// </summary>
public sealed class HttpEndpointDelivery(
    string name, long version, IRecordSource source, BufferingHints hints, DeliveryPosition position, IEndpointDestination endpoint, TimeSpan retryDuration,
    IObjectStore backup, ObjectCompression backupCompression, (S3Prefix Prefix, S3Prefix ErrorOutput) backupPrefixes, bool backupAllData, Action<string> warn,
    RecordSplitter? splitter = null, Transform.TransformStage? transform = null)
    : BufferedDelivery(source, hints, position, splitter, transform)
{
    private readonly Dictionary<DeliveryBatch, (string RequestId, long? FirstFailureMillis, string? LastError)> _attempts = new(ReferenceEqualityComparer.Instance);

    protected override DeliveryBatch? Add(SourceRecord record, long nowMillis, IReadOnlyDictionary<string, string>? lambdaKeys) => Buffers.Add("", record, nowMillis);

    protected override async Task<Exception?> AttemptAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        if (batch.Partition.StartsWith('\0')) // records the transformation failed: to the backup, as error records
            return await WriteErrorsAsync(backup, backupPrefixes.ErrorOutput, backupCompression, name, version, batch, cancellationToken).ConfigureAwait(false);
        if (!_attempts.TryGetValue(batch, out var attempt))
            _attempts[batch] = attempt = (Guid.NewGuid().ToString("D"), null, null);
        if (attempt.FirstFailureMillis is { } first && nowMillis - first >= retryDuration.TotalMilliseconds)
            return await BackUpFailedAsync(batch, failuresBefore, nowMillis, attempt.LastError ?? "", cancellationToken).ConfigureAwait(false);

        var outcome = await endpoint.SendAsync(batch, attempt.RequestId, nowMillis, cancellationToken).ConfigureAwait(false);
        switch (outcome.Result)
        {
            case HttpDeliveryResult.Delivered:
                if (backupAllData)
                    return await WriteBackupAsync(batch.Payload, backupPrefixes.Prefix.Evaluate(At(batch)), backupCompression, batch, cancellationToken).ConfigureAwait(false);
                return null;
            case HttpDeliveryResult.Permanent:
                warn($"Firehose {name}: {endpoint.Describe} refused a batch of {batch.Count} records for good ({outcome.ErrorCode}: {outcome.ErrorMessage}); as Firehose does, it is not retried and not backed up.");
                return null;
            default:
                // The error record names an answer the endpoint gave as AWS's does: DestinationException, with the answer.
                string error = outcome.ErrorCode == "HttpEndpoint.ResponseReceivedStatusCode"
                    ? $"HttpEndpoint.DestinationException: Received the following response from the endpoint destination. {outcome.ErrorMessage}"
                    : $"{outcome.ErrorCode}: {outcome.ErrorMessage}";
                _attempts[batch] = attempt with { FirstFailureMillis = attempt.FirstFailureMillis ?? nowMillis, LastError = error };
                if (retryDuration <= TimeSpan.Zero)
                    return await BackUpFailedAsync(batch, failuresBefore + 1, nowMillis, error, cancellationToken).ConfigureAwait(false);
                return new IOException($"Delivery to {endpoint.Describe} failed ({error}); retried until {retryDuration.TotalSeconds:0} s after the first failure, then backed up to S3.");
        }
    }

    protected override void Forget(DeliveryBatch batch) => _attempts.Remove(batch);

    /// <summary>The batch's records as error records in the backup, one JSON line each; null once written.</summary>
    private async Task<Exception?> BackUpFailedAsync(DeliveryBatch batch, int attemptsMade, long nowMillis, string lastError, CancellationToken cancellationToken)
    {
        var lines = new ArrayBufferWriter<byte>((int)Math.Min(int.MaxValue / 2, batch.Bytes * 4 / 3 + batch.Count * 256L));
        for (int i = 0; i < batch.Count; i++)
        {
            using (var json = new Utf8JsonWriter(lines))
            {
                json.WriteStartObject();
                json.WriteNumber("attemptsMade", Math.Max(1, attemptsMade));
                json.WriteNumber("arrivalTimestamp", batch.ArrivalMillis(i));
                json.WriteString("errorCode", lastError.Split(':', 2)[0]);
                json.WriteString("errorMessage", lastError.Split(':', 2) is [_, var message] ? message.Trim() : lastError);
                json.WriteNumber("attemptEndingTimestamp", nowMillis);
                json.WriteBase64String("rawData", batch.Record(i).Span);
                if (endpoint.NamesEvents)
                {
                    var (source, position) = batch.Origin(i);
                    json.WriteString("EventId", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{source}.{position}.{i}"));
                }
                json.WriteEndObject();
            }
            BuffersExtensions.Write(lines, "\n"u8);
        }
        var failed = await WriteBackupAsync(lines.WrittenMemory, backupPrefixes.ErrorOutput.Evaluate(At(batch), errorOutputType: endpoint.ErrorOutputType), backupCompression, batch, cancellationToken).ConfigureAwait(false);
        if (failed is null)
            warn($"Firehose {name}: {batch.Count} records could not be delivered to {endpoint.Describe} within {retryDuration.TotalSeconds:0} s ({lastError}); they are in the S3 backup ({backup.Location}).");
        return failed;
    }

    private Task<Exception?> WriteBackupAsync(ReadOnlyMemory<byte> payload, string prefix, ObjectCompression compression, DeliveryBatch batch, CancellationToken cancellationToken) =>
        WriteObjectAsync(backup, prefix, payload, compression, name, version, batch, cancellationToken);
}
