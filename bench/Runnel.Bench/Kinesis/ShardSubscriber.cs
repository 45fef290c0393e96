using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// The benchmark's own light SubscribeToShard reader: one subscription per shard for one consumer, kept open
/// (resubscribed after its continuation when the server ends it, as every 5 minutes; subscribed again after a
/// refusal or a broken connection, from where it was), event-stream frames cut by their length prefix without
/// checking CRCs, and records counted from the payload without building documents. With
/// <see cref="OnRecordKey"/> set it reads each record's partition key too (the fan-out latency phase carries
/// the put's timestamp there), with <see cref="OnRecord"/> each record's sequence number (the soak counts
/// deliveries by it). Counters are updated atomically; one instance per consumer.
/// </summary>
public sealed class ShardSubscriber(KinesisHttpClient client, string consumerArn, IReadOnlyList<string> shardIds, string startingType)
{
    private static readonly byte[] SequenceNumberName = "\"SequenceNumber\""u8.ToArray();
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(500);
    private long _records;
    private long _events;
    private long _opened;
    private long _failures;
    private long _firstRecordTimestamp;
    private long _lastRecordTimestamp;

    /// <summary>Called for every record with its partition key and the Stopwatch time it arrived (from several threads).</summary>
    public Action<string, long>? OnRecordKey { get; init; }

    /// <summary>Called for every record with its shard id and sequence number, in order within a shard (one thread per shard at a time).</summary>
    public Action<string, string>? OnRecord { get; init; }

    /// <summary>Called with the kind of each failed subscription attempt ("400 ResourceInUseException", "HttpRequestException"),
    /// which is then made again after a pause (from several threads).</summary>
    public Action<string>? OnFailure { get; init; }

    public long Records => Interlocked.Read(ref _records);

    public long Events => Interlocked.Read(ref _events);

    /// <summary>Subscriptions the server accepted (initial-response received), counting resubscriptions.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Subscription attempts refused or broken off by an error (each made again).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Stopwatch timestamps of the first and the latest record received (0 before any).</summary>
    public (long First, long Last) RecordTimes => (Interlocked.Read(ref _firstRecordTimestamp), Interlocked.Read(ref _lastRecordTimestamp));

    /// <summary>Subscribes to every shard and reads until <paramref name="stop"/>; the returned task ends after that.</summary>
    public Task RunAsync(CancellationToken stop) => Task.WhenAll(shardIds.Select(shard => Task.Run(() => ReadShardAsync(shard, stop))));

    private async Task ReadShardAsync(string shardId, CancellationToken stop)
    {
        var position = new Position(startingType);
        while (!stop.IsCancellationRequested)
        {
            string? failure;
            try
            {
                failure = await SubscribeOnceAsync(shardId, position, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (!stop.IsCancellationRequested && e is HttpRequestException or IOException or OperationCanceledException)
            {
                failure = e.GetType().Name;
            }
            if (failure is not null)
            {
                // Within 5 s of the previous subscription AWS (and Runnel) refuse a new one; a connection may break: wait and retry.
                Interlocked.Increment(ref _failures);
                OnFailure?.Invoke(failure);
                await Task.Delay(RetryPause, stop).ConfigureAwait(false);
                continue;
            }
            if (position.Continuation is null)
                return; // the shard ended, or it never sent a continuation
        }
    }

    /// <summary>
    /// Where the next subscription of a shard starts (the starting type until an event gave a continuation, then
    /// after it, so that a subscription made again after a broken connection neither repeats nor skips records),
    /// and the buffer its events are read into. Used by one shard's reader at a time.
    /// </summary>
    private sealed class Position(string startingType)
    {
        public string? Continuation { get; set; }
        public string Type => Continuation is null ? startingType : "AFTER_SEQUENCE_NUMBER";
        public byte[] Buffer { get; set; } = new byte[1 << 20];
    }

    /// <summary>One subscription, read until the server ends it; the kind of failure when it was refused, else null.</summary>
    private async Task<string?> SubscribeOnceAsync(string shardId, Position position, CancellationToken stop)
    {
        using var response = await client.OpenAsync("SubscribeToShard", KinesisJson.SubscribeToShard(consumerArn, shardId, position.Type, position.Continuation), stop).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            byte[] error = await response.Content.ReadAsByteArrayAsync(stop).ConfigureAwait(false);
            return KinesisResponse.ErrorKind(response.StatusCode, error);
        }
        await using var body = await response.Content.ReadAsStreamAsync(stop).ConfigureAwait(false);
        byte[] buffer = position.Buffer;
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
                position.Buffer = buffer;
            }
            int n = await body.ReadAsync(buffer.AsMemory(filled), stop).ConfigureAwait(false);
            if (n == 0)
                return null;
            filled += n;
            int start = 0;
            while (filled - start >= 12)
            {
                int total = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start));
                if (filled - start < total)
                    break;
                if (Handle(buffer.AsSpan(start, total), shardId, out string? next))
                    position.Continuation = next ?? position.Continuation;
                start += total;
            }
            buffer.AsSpan(start, filled - start).CopyTo(buffer);
            filled -= start;
        }
    }

    /// <summary>Counts the records of one SubscribeToShardEvent message; false for any other message (an
    /// initial-response is counted in <see cref="Opened"/>, an exception event, which ends the subscription, in
    /// <see cref="Failures"/>).</summary>
    private bool Handle(ReadOnlySpan<byte> message, string shardId, out string? continuation)
    {
        continuation = null;
        int headersLength = BinaryPrimitives.ReadInt32BigEndian(message[4..]);
        var headers = message.Slice(12, headersLength);
        var payload = message[(12 + headersLength)..^4];
        if (headers.IndexOf("SubscribeToShardEvent"u8) < 0)
        {
            if (headers.IndexOf("initial-response"u8) >= 0)
            {
                Interlocked.Increment(ref _opened);
            }
            else if (StringHeader(headers, ":exception-type"u8) is { } exception)
            {
                Interlocked.Increment(ref _failures);
                OnFailure?.Invoke("exception event " + exception);
            }
            return false;
        }
        long now = Stopwatch.GetTimestamp();
        int count = 0;
        if (OnRecordKey is not null || OnRecord is not null)
        {
            var reader = new Utf8JsonReader(payload);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                    continue;
                if (reader.ValueTextEquals("PartitionKey"))
                {
                    reader.Read();
                    OnRecordKey?.Invoke(reader.GetString()!, now);
                }
                else if (reader.ValueTextEquals("SequenceNumber"))
                {
                    reader.Read();
                    OnRecord?.Invoke(shardId, reader.GetString()!);
                    count++;
                }
                else if (reader.ValueTextEquals("ContinuationSequenceNumber"))
                {
                    reader.Read();
                    continuation = reader.GetString();
                }
            }
        }
        else
        {
            for (var rest = payload; rest.IndexOf(SequenceNumberName) is var at and >= 0; rest = rest[(at + SequenceNumberName.Length)..])
                count++;
            int c = payload.LastIndexOf("\"ContinuationSequenceNumber\":\""u8);
            if (c >= 0)
            {
                var value = payload[(c + 30)..];
                continuation = Encoding.ASCII.GetString(value[..value.IndexOf((byte)'"')]);
            }
        }
        Interlocked.Increment(ref _events);
        if (count > 0)
        {
            Interlocked.CompareExchange(ref _firstRecordTimestamp, now, 0);
            Interlocked.Exchange(ref _lastRecordTimestamp, now);
            Interlocked.Add(ref _records, count);
        }
        return true;
    }

    /// <summary>The value of a string header (type 7) of an event-stream message, or null: each header is a
    /// 1-byte name length, the name, a 1-byte type and, for strings, a 2-byte length and the UTF-8 value.</summary>
    private static string? StringHeader(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> name)
    {
        while (headers.Length > 2)
        {
            int nameLength = headers[0];
            var current = headers.Slice(1, nameLength);
            byte type = headers[1 + nameLength];
            var rest = headers[(2 + nameLength)..];
            if (type != 7)
                return null; // only string headers are sent with events; anything else ends the search
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
            if (current.SequenceEqual(name))
                return Encoding.UTF8.GetString(rest.Slice(2, valueLength));
            headers = rest[(2 + valueLength)..];
        }
        return null;
    }
}
