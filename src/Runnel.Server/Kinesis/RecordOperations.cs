using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using Runnel.Core.Errors;
using Runnel.Core.Iterators;
using Runnel.Core.Model;
using Runnel.Protocol.Requests;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>The data plane: PutRecord, PutRecords, GetShardIterator, GetRecords.</summary>
internal static class RecordOperations
{
    private const int DefaultGetRecordsLimit = 10000;
    /// <summary>An answer estimated at this size or more is streamed where HTTP/2 allows (<see cref="StreamedAnswer"/>); smaller ones keep a Content-Length.</summary>
    private const int StreamedAnswerBytes = 256 * 1024;
    private const long MaxGetRecordsBytes = 10L * 1024 * 1024;

    /// <summary>A PutRecords request carries at most 5 MiB of data and partition keys.</summary>
    private const long MaxPutRecordsBytes = 5L * 1024 * 1024;

    /// <summary>
    /// The stream's own record size limit, checked once the stream is known, with the validation message
    /// AWS gives for an oversized Data member. <paramref name="dataBytes"/> are the decoded sizes, in order.
    /// </summary>
    private static void CheckRecordSizes(StreamInfo stream, ReadOnlySpan<long> dataBytes, Func<int, string> path)
    {
        long max = stream.MaxRecordSizeKiB * 1024L;
        List<string>? errors = null;
        for (int i = 0; i < dataBytes.Length; i++)
            if (dataBytes[i] > max && (errors ??= []).Count < 10)
                errors.Add($"Value 'java.nio.HeapByteBuffer[pos=0 lim={dataBytes[i]} cap={dataBytes[i]}]' at '{path(i)}' failed to satisfy constraint: Member must have length less than or equal to {max}");
        if (errors is not null)
            throw KinesisErrors.Validation(Runnel.Protocol.Validation.RequestValidator.Describe(errors));
    }

    /// <summary>Microseconds since <paramref name="started"/> (a timestamp of the server's clock), for the latency metrics.</summary>
    private static long Micros(KinesisRequest r, long started) => (long)r.Streams.Clock.GetElapsedTime(started).TotalMicroseconds;

    public static async ValueTask PutRecord(KinesisRequest r)
    {
        long started = r.Streams.Clock.GetTimestamp();
        var stream = r.Writer.WritableStream(r.StreamName());
        var data = r.Member("Data")!.Value;
        long dataBytes = data.BlobLength;
        CheckRecordSizes(stream, [dataBytes], _ => "data");
        bool spread = stream.Distribution == RecordDistribution.Auto;
        using var records = new IncomingRecords(1, dataBytes) { Spread = spread };
        // A stream that spreads its records (AUTO) takes records without a partition key (the validator let them through).
        string partitionKey = r.String("PartitionKey") ?? "";
        AddRecord(records, partitionKey, System.Text.Encoding.UTF8.GetByteCount(partitionKey), r.String("ExplicitHashKey"), data);
        if (r.String("SequenceNumberForOrdering") is { } ordering)
        {
            if (spread)
                throw KinesisErrors.InvalidArgument($"SequenceNumberForOrdering is not supported on stream {stream.PlainName} under account {r.AccountOf(stream.Name)} because it uses the AUTO record distribution strategy.");
            if (!DecodedSequenceNumber.TryDecode(ordering, r.Streams.Now.ToUnixTimeSeconds(), out _))
                throw KinesisErrors.InvalidArgument($"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream {stream.PlainName} under account {r.AccountOf(stream.Name)} is invalid.");
        }
        r.StopIfDryRun();

        var outcome = await r.Writer.PutOneAsync(stream.Name, records, "PutRecord");
        var metrics = r.Streams.Metrics.Stream(stream.Name);
        if (outcome.ErrorCode is { } code)
        {
            bool throttled = code == "ProvisionedThroughputExceededException";
            metrics.PutRecordFailed(throttled, Micros(r, started));
            if (r.Streams.Metrics.Enabled)
                r.Streams.Metrics.Activity.Writer(stream.Name, r.Client).Wrote(0, 0, 1, r.Streams.Now.ToUnixTimeMilliseconds());
            throw throttled ? KinesisErrors.ProvisionedThroughputExceeded(outcome.ErrorMessage!) : new KinesisException(code, outcome.ErrorMessage!, 500);
        }
        metrics.PutRecord(dataBytes, Micros(r, started));
        if (r.Streams.Metrics.Enabled)
            r.Streams.Metrics.Activity.Writer(stream.Name, r.Client).Wrote(1, dataBytes, 0, outcome.ArrivalMillis);

        var w = r.Response;
        w.StartObject();
        w.String("ShardId", outcome.Shard!.ShardId);
        w.String("SequenceNumber", outcome.Shard.SequenceOf(outcome.Offset, outcome.ArrivalMillis).ToString());
        if (stream.Encryption?.Enabled == true)
            w.String("EncryptionType", "KMS"); // AWS sends it only for an encrypted stream
        w.EndObject();
    }

    public static async ValueTask PutRecords(KinesisRequest r)
    {
        long started = r.Streams.Clock.GetTimestamp();
        var stream = r.Writer.WritableStream(r.StreamName());
        var entries = r.Member("Records")!.Value.EnumerateArray().ToArray();
        // Each record's partition key and sizes (data, key), read and measured once for the checks and the writer.
        var dataBytes = new long[entries.Length];
        var keys = new string[entries.Length];
        var keyBytes = new int[entries.Length];
        long requestBytes = 0, totalData = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            dataBytes[i] = entries[i].GetProperty("Data").BlobLength;
            keys[i] = entries[i].TryGetProperty("PartitionKey", out var key) && key.Kind == RequestKind.String ? key.GetString() : ""; // none on AUTO streams
            keyBytes[i] = System.Text.Encoding.UTF8.GetByteCount(keys[i]);
            totalData += dataBytes[i];
            requestBytes += dataBytes[i] + keyBytes[i];
        }
        CheckRecordSizes(stream, dataBytes, i => $"records.{i + 1}.member.data");
        // 5 MiB per request, as long documented; 10 MiB once the stream takes records over 1 MiB.
        bool large = stream.MaxRecordSizeKiB > StreamInfo.DefaultMaxRecordSizeKiB;
        if (requestBytes > (large ? 2 * MaxPutRecordsBytes : MaxPutRecordsBytes))
            throw KinesisErrors.InvalidArgument(large ? "Records size exceeds 10 MB limit" : "Records size exceeds 5 MB limit");

        using var records = new IncomingRecords(entries.Length, totalData) { Spread = stream.Distribution == RecordDistribution.Auto };
        for (int i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            string? explicitHashKey = entry.TryGetProperty("ExplicitHashKey", out var ehk) && ehk.Kind == RequestKind.String ? ehk.GetString() : null;
            AddRecord(records, keys[i], keyBytes[i], explicitHashKey, entry.GetProperty("Data"));
        }
        r.StopIfDryRun();
        var outcomes = await r.Writer.PutAsync(stream.Name, records, "PutRecords");
        long storedBytes = 0;
        int stored = 0, throttled = 0;
        for (int i = 0; i < outcomes.Length; i++)
        {
            if (outcomes[i].ErrorCode is null)
            {
                stored++;
                storedBytes += dataBytes[i];
            }
            else if (outcomes[i].ErrorCode == "ProvisionedThroughputExceededException")
                throttled++;
        }
        r.Streams.Metrics.Stream(stream.Name).PutRecords(storedBytes, outcomes.Length, stored, throttled, Micros(r, started));
        if (r.Streams.Metrics.Enabled)
            r.Streams.Metrics.Activity.Writer(stream.Name, r.Client).Wrote(stored, storedBytes, outcomes.Length - stored, r.Streams.Now.ToUnixTimeMilliseconds());

        var w = r.Response;
        w.StartObject();
        w.Number("FailedRecordCount", outcomes.Length - stored);
        w.StartArray("Records");
        Span<byte> sequence = stackalloc byte[SequenceNumber.Length];
        SequenceNumber previous = default;
        foreach (var outcome in outcomes)
        {
            w.StartObject();
            if (outcome.ErrorCode is { } code)
            {
                w.String("ErrorCode", code);
                w.String("ErrorMessage", outcome.ErrorMessage!);
            }
            else
            {
                var number = outcome.Shard!.SequenceOf(outcome.Offset, outcome.ArrivalMillis);
                number.FormatUtf8After(previous, sequence);
                previous = number;
                w.Utf8String("SequenceNumber", sequence);
                w.String("ShardId", outcome.Shard.ShardId);
            }
            w.EndObject();
        }
        w.EndArray();
        if (stream.Encryption?.Enabled == true)
            w.String("EncryptionType", "KMS"); // AWS sends it only for an encrypted stream
        w.EndObject();
    }

    /// <summary>
    /// Puts the Data member straight from the request bytes into the request's record buffer: a CBOR byte string
    /// copied as it is, a JSON base64 string decoded (the validator checked it is canonical base64).
    /// </summary>
    private static void AddRecord(IncomingRecords records, string partitionKey, int partitionKeyBytes, string? explicitHashKey, RequestValue data)
    {
        var bytes = data.Utf8;
        if (data.Kind == RequestKind.Bytes)
        {
            bytes.CopyTo(records.DataSpace(bytes.Length));
            records.Add(partitionKey, partitionKeyBytes, explicitHashKey, bytes.Length);
            return;
        }
        var space = records.DataSpace(Base64.GetMaxDecodedFromUtf8Length(bytes.Length));
        if (Base64.DecodeFromUtf8(bytes, space, out _, out int written) != OperationStatus.Done)
            throw new InvalidOperationException("Data passed validation but is not base64.");
        records.Add(partitionKey, partitionKeyBytes, explicitHashKey, written);
    }

    public static async ValueTask GetShardIterator(KinesisRequest r)
    {
        string key = r.StreamName();
        var (name, account) = r.Shown(key);
        string shardIdText = r.String("ShardId")!;
        if (!TryNormalizeShardId(shardIdText, out int shardIndex))
            throw KinesisErrors.ResourceNotFound($"Could not find shard {shardIdText} in stream {name} under account {account}.");
        string shardId = ShardId.Format(shardIndex);
        var stream = r.Streams.Find(key);
        var shard = stream?.FindShard(shardIndex);
        if (stream is not null && shard is null)
        {
            await r.Streams.CatchUpAsync(); // a child another node's reshard made a moment ago?
            stream = r.Streams.Find(key);
            shard = stream?.FindShard(shardIndex);
        }
        if (stream is null || shard is null || stream.Status == StreamStatus.Creating)
            throw KinesisErrors.ResourceNotFound($"Shard {shardId} in stream {name} under account {account} does not exist");

        var log = r.Streams.Shard(stream, shard);
        if (!log.Throughput.TryGetIterator(r.Streams.PreciseNowMillis))
            throw KinesisErrors.ProvisionedThroughputExceeded(KinesisErrors.StreamRateExceeded(key, account));
        ulong offset = await StartingPositions.OffsetAsync("GetShardIterator", r.String("ShardIteratorType")!, r.String("StartingSequenceNumber"), r.TimestampMillis("Timestamp"), stream, shard, log, r.Streams.Now, account);
        r.StopIfDryRun();

        var w = r.Response;
        w.StartObject();
        w.String("ShardIterator", r.Streams.Iterators.Encode(new ShardPosition(stream.Name, stream.Id, shardIndex, offset, r.Streams.Now.ToUnixTimeMilliseconds())));
        w.EndObject();
        return;
    }

    /// <summary>AWS's reading of a shard id: the digits after the first '-', 0..2^31-1.</summary>
    public static bool TryNormalizeShardId(string text, out int index)
    {
        index = -1;
        int dash = text.IndexOf('-', StringComparison.Ordinal);
        string digits = dash >= 0 ? text[(dash + 1)..] : text;
        if (digits.Length == 0 || digits.Any(c => c is < '0' or > '9'))
            return false;
        if (!long.TryParse(digits.TrimStart('0') is { Length: > 0 } d ? d : "0", NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > int.MaxValue)
            return false;
        index = (int)value;
        return true;
    }

    public static async ValueTask GetRecords(KinesisRequest r)
    {
        long started = r.Streams.Clock.GetTimestamp();
        string token = r.String("ShardIterator")!;
        if (!r.Streams.Iterators.TryDecode(token, out var position))
            throw KinesisErrors.InvalidArgument("Invalid ShardIterator.");
        var now = r.Streams.Now;
        var issued = DateTimeOffset.FromUnixTimeMilliseconds(position.IssuedAtMillis);
        if (now - issued > ShardIteratorCodec.Lifetime)
        {
            ReaderFailed(r, position);
            throw KinesisErrors.ExpiredIterator(
                $"Iterator expired. The iterator was created at time {JavaDate(issued)} while right now it is {JavaDate(now)} which is further in the future than the tolerated delay of 300000 milliseconds.");
        }
        string account = r.AccountOf(position.StreamName);
        string shardId = ShardId.Format(position.ShardIndex);
        var stream = r.Streams.Find(position.StreamName);
        var shard = stream?.FindShard(position.ShardIndex);
        if (stream is null || shard is null)
            throw KinesisErrors.ResourceNotFound($"Shard {shardId} in stream {KinesisRequest.Plain(position.StreamName)} under account {account} does not exist");
        if (r.String("StreamARN") is { } arn && arn != r.Streams.ArnOf(stream.Name))
        {
            ReaderFailed(r, position);
            throw KinesisErrors.InvalidArgument("StreamARN does not match the stream of the ShardIterator.");
        }

        r.StopIfDryRun();
        var log = r.Streams.Shard(stream, shard);
        var throughput = log.Throughput;
        var metrics = r.Streams.Metrics.Stream(stream.Name);
        if (!throughput.TryRead(r.Streams.PreciseNowMillis))
        {
            metrics.GetRecordsThrottled(Micros(r, started));
            ReaderFailed(r, position);
            throw KinesisErrors.ProvisionedThroughputExceeded(KinesisErrors.StreamRateExceeded(stream.Name, account));
        }
        int limit = (int)(r.Integer("Limit") ?? DefaultGetRecordsLimit);
        ulong end = shard.EndOffset ?? ulong.MaxValue;
        long minArrival = (now - TimeSpan.FromHours(stream.RetentionHours)).ToUnixTimeMilliseconds();
        ulong from = position.Offset;
        using var result = from < end ? await log.ReadAsync(from, limit, MaxGetRecordsBytes, minArrival) : null;

        // A large answer goes out as it is written where the transport allows (HTTP/2); otherwise into a buffer
        // reserved once at about its size.
        int estimated = result is null ? 0 : WireRecords.EstimatedBytes(result);
        bool streaming = estimated >= StreamedAnswerBytes && await r.TryStreamAsync();
        var w = r.Response;
        if (!streaming && result is not null)
            w.Reserve(estimated);
        w.StartObject();
        w.StartArray("Records");
        long lastArrival = result is null ? 0
            : streaming ? await WireRecords.WriteStreamedAsync(r.Streamed!, result, end, shard)
            : WireRecords.Write(w, result, end, shard);
        w.EndArray();
        throughput.Delivered(result?.Count ?? 0, result?.PayloadBytes ?? 0, r.Streams.PreciseNowMillis);
        ulong next = Math.Min(result?.NextOffset ?? from, end);
        if (next < end)
            w.String("NextShardIterator", r.Streams.Iterators.Encode(position with { Offset = next, IssuedAtMillis = now.ToUnixTimeMilliseconds() }));
        bool caughtUp = next >= Math.Min(end, log.NextOffset);
        long behind = caughtUp || lastArrival == 0 ? 0 : Math.Max(0, now.ToUnixTimeMilliseconds() - lastArrival);
        w.Number("MillisBehindLatest", behind);
        metrics.GetRecords(result?.PayloadBytes ?? 0, result?.Count ?? 0, behind, Micros(r, started));
        if (r.Streams.Metrics.Enabled)
        {
            log.IteratorAge.Add(behind);
            r.Streams.Metrics.Activity.Iterator(stream.Name, shard.Index, r.Client).Read(result?.Count ?? 0, next, now.ToUnixTimeMilliseconds());
        }
        if (next >= end)
        {
            WireRecords.ChildShards(w, stream.Shards.Where(s => s.ParentIndex == shard.Index || s.AdjacentParentIndex == shard.Index));
        }
        w.EndObject();
        return;
    }

    /// <summary>
    /// A GetRecords call of a client that failed for its iterator (expired, for another stream) or the shard's read
    /// limit: counted against the client as a reader of the iterator's shard, which stands at the iterator's offset.
    /// An iterator that cannot be decoded names no shard and is counted nowhere but in the answer.
    /// </summary>
    private static void ReaderFailed(KinesisRequest r, ShardPosition position)
    {
        if (r.Streams.Metrics.Enabled)
            r.Streams.Metrics.Activity.Iterator(position.StreamName, position.ShardIndex, r.Client).Failed(position.Offset, r.Streams.Now.ToUnixTimeMilliseconds());
    }

    /// <summary>Java's Date.toString() in UTC, which AWS uses in iterator messages: "Thu Jan 22 01:22:02 UTC 2015".</summary>
    private static string JavaDate(DateTimeOffset t) =>
        t.UtcDateTime.ToString("ddd MMM dd HH:mm:ss 'UTC' yyyy", CultureInfo.InvariantCulture);
}
