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
        var appended = await AppendAsync(r.Service, stream, batch).ConfigureAwait(false);
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
        var appended = await AppendAsync(r.Service, stream, batch).ConfigureAwait(false);
        r.Service.Metrics.DeliveryStream(stream.Name).Put(true, batch.Count, total, (long)r.Service.Clock.GetElapsedTime(started).TotalMicroseconds);
        var w = r.Response;
        w.StartObject();
        w.Number("FailedPutCount", 0);
        w.Boolean("Encrypted", stream.Encryption?.Status == DeliveryStreamStatus.Enabled);
        w.StartArray("RequestResponses");
        for (int i = 0; i < batch.Count; i++)
        {
            w.StartObject();
            w.String("RecordId", RecordIds.Of(stream.LogId!.Value, appended.FirstOffset + (ulong)i));
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

    private static async ValueTask<AppendResult> AppendAsync(FirehoseService service, DeliveryStream stream, RecordBatch batch)
    {
        var log = await service.Logs.OpenAsync(stream.LogId!.Value, 0).ConfigureAwait(false);
        batch.SealWith = service.Keys?.SealingKey(stream.LogId.Value, stream.AtRest); // encryption on: sealed at rest
        var appended = await log.AppendAsync(batch).ConfigureAwait(false);
        service.Appended(stream.Name);
        return appended;
    }
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
