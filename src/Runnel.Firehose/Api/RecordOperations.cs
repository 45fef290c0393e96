using System.Buffers;
using System.Buffers.Text;
using Runnel.Firehose.Catalog;
using Runnel.Protocol.Requests;
using Runnel.Storage;
using Runnel.Storage.Records;

namespace Runnel.Firehose.Api;

/// <summary>
/// PutRecord and PutRecordBatch: records appended to the DirectPut stream's own log, answered once the append is
/// acknowledged under the server's fsync policy, as PutRecords is (docs/adr/0002-firehose.md). The delivery engine
/// reads them from there. The batch's count (500) and each record's size (1,000 KiB) are the model's constraints,
/// checked before; its total (4 MiB) is checked here, before anything is written.
/// </summary>
internal static class RecordOperations
{
    /// <summary>The most a PutRecordBatch may carry in all (AWS: "4 MB", 4 MiB in practice: four records of 1,000 KiB pass).</summary>
    public const long MaxBatchBytes = 4L << 20;

    public static async ValueTask PutRecord(FirehoseRequest r)
    {
        long started = r.Service.Clock.GetTimestamp();
        var stream = Writable(r);
        var data = r.Member("Record")!.Value.GetProperty("Data");
        using var batch = new RecordBatch(RecordBatch.FramedSize(0, 0, (int)data.BlobLength));
        Add(batch, data);
        var (stored, refused) = await AppendAsync(r.Service, stream, batch, "PutRecord").ConfigureAwait(false);
        var appended = stored ?? throw FirehoseErrors.ServiceUnavailable(StorageFailureMessage(refused));
        r.Service.Metrics.DeliveryStream(stream.Name).Put(false, 1, data.BlobLength, (long)r.Service.Clock.GetElapsedTime(started).TotalMicroseconds);
        var w = r.Response;
        w.StartObject();
        w.String("RecordId", RecordIds.Of(stream.LogId!.Value, appended.FirstOffset));
        w.Boolean("Encrypted", stream.Encryption?.Status == DeliveryStreamStatus.Enabled);
        w.EndObject();
    }

    public static async ValueTask PutRecordBatch(FirehoseRequest r)
    {
        long started = r.Service.Clock.GetTimestamp();
        var stream = Writable(r);
        var records = r.Member("Records")!.Value;
        long total = 0;
        int framed = 0;
        foreach (var record in records.EnumerateArray())
        {
            long length = record.GetProperty("Data").BlobLength;
            total += length;
            framed += RecordBatch.FramedSize(0, 0, (int)length);
        }
        if (total > MaxBatchBytes)
            throw FirehoseErrors.InvalidArgument("Records size exceeds 4 MB limit");
        using var batch = new RecordBatch(framed);
        foreach (var record in records.EnumerateArray())
            Add(batch, record.GetProperty("Data"));
        var (appended, refused) = await AppendAsync(r.Service, stream, batch, "PutRecordBatch").ConfigureAwait(false);
        if (appended is not null)
            r.Service.Metrics.DeliveryStream(stream.Name).Put(true, batch.Count, total, (long)r.Service.Clock.GetElapsedTime(started).TotalMicroseconds);
        // A batch is one append to one log: stored whole, or (the disk refused it) not at all, each record then
        // failing on its own as AWS reports a record it could not take, so that a client puts exactly those again.
        string? failure = appended is null ? StorageFailureMessage(refused) : null;
        var w = r.Response;
        w.StartObject();
        w.Number("FailedPutCount", appended is null ? batch.Count : 0);
        w.Boolean("Encrypted", stream.Encryption?.Status == DeliveryStreamStatus.Enabled);
        w.StartArray("RequestResponses");
        for (int i = 0; i < batch.Count; i++)
        {
            w.StartObject();
            if (appended is { } result)
            {
                w.String("RecordId", RecordIds.Of(stream.LogId!.Value, result.FirstOffset + (ulong)i));
            }
            else
            {
                w.String("ErrorCode", "ServiceUnavailableException");
                w.String("ErrorMessage", failure!);
            }
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }

    /// <summary>The named stream, if records may be put to it: a DirectPut stream that is ACTIVE.</summary>
    private static DeliveryStream Writable(FirehoseRequest r)
    {
        var stream = r.Stream();
        if (stream.Type != DeliveryStreamType.DirectPut)
            throw FirehoseErrors.NotDirectPut();
        if (stream.Status != DeliveryStreamStatus.Active)
            throw FirehoseErrors.NotFound(stream.Name, r.Service.Options.AccountId); // AWS: "an exception"; as Kinesis does for a stream not ACTIVE
        return stream;
    }

    private static void Add(RecordBatch batch, RequestValue data)
    {
        var bytes = data.Utf8;
        if (data.Kind == RequestKind.Bytes)
        {
            batch.Add([], [], bytes);
            return;
        }
        byte[] decoded = ArrayPool<byte>.Shared.Rent(Base64.GetMaxDecodedFromUtf8Length(bytes.Length));
        try
        {
            if (Base64.DecodeFromUtf8(bytes, decoded, out _, out int written) != OperationStatus.Done)
                throw new InvalidOperationException("Data passed validation but is not base64.");
            batch.Add([], [], decoded.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }

    /// <summary>Appends the batch to the stream's log. When the disk (or the cluster's storage) refused it, nothing was
    /// stored: no result, and the condition, which the service's <see cref="FirehoseService.Health"/> has recorded.
    /// Anything else is thrown.</summary>
    private static async ValueTask<(AppendResult? Appended, StorageFaultKind Refused)> AppendAsync(FirehoseService service, DeliveryStream stream, RecordBatch batch, string operation)
    {
        AppendResult appended;
        try
        {
            var log = await service.Logs.OpenAsync(stream.LogId!.Value, 0).ConfigureAwait(false);
            batch.SealWith = service.Keys?.SealingKey(stream.LogId.Value, stream.AtRest); // encryption on: sealed at rest
            appended = await log.AppendAsync(batch).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not Runnel.Core.Errors.KinesisException
            && (service.Health is { } health ? health.Failed(operation, e) : StorageFault.Classify(e)) is { } fault)
        {
            return (null, fault);
        }
        service.Health?.Succeeded();
        service.Appended(stream.Name);
        return (appended, default);
    }

    /// <summary>The message of a put the disk refused: the condition, and that nothing was stored (as Kinesis's puts say it).</summary>
    private static string StorageFailureMessage(StorageFaultKind fault) => $"The service is unavailable: {StorageFault.ClientDetail(fault)}.";
}

/// <summary>
/// The RecordId a put answers: opaque to clients, as on AWS; Runnel's is the base64 of a version byte, the log's id
/// and the record's offset in it (AWS's are 224 characters; nothing may be read from either).
/// </summary>
public static class RecordIds
{
    public static string Of(long logId, ulong offset)
    {
        Span<byte> bytes = stackalloc byte[18];
        bytes[0] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes[1..], logId);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[9..], offset);
        bytes[17] = 0;
        return Convert.ToBase64String(bytes);
    }
}
