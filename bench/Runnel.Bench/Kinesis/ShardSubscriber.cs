using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// The benchmark's own light SubscribeToShard reader: one subscription per shard for one consumer, kept open
/// (resubscribed after its continuation when the server ends it), event-stream frames cut by their length
/// prefix without checking CRCs, and records counted from the payload without building documents. With
/// <see cref="OnRecordKey"/> set it reads each record's partition key too (the fan-out latency phase carries
/// the put's timestamp there). Counters are updated atomically; one instance per consumer.
/// </summary>
public sealed class ShardSubscriber(KinesisHttpClient client, string consumerArn, IReadOnlyList<string> shardIds, string startingType)
{
    private static readonly byte[] SequenceNumberName = "\"SequenceNumber\""u8.ToArray();
    private long _records;
    private long _events;
    private long _opened;
    private long _firstRecordTimestamp;
    private long _lastRecordTimestamp;

    /// <summary>Called for every record with its partition key and the Stopwatch time it arrived (from several threads).</summary>
    public Action<string, long>? OnRecordKey { get; init; }

    public long Records => Interlocked.Read(ref _records);

    public long Events => Interlocked.Read(ref _events);

    /// <summary>Subscriptions the server accepted (initial-response received), counting resubscriptions.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Stopwatch timestamps of the first and the latest record received (0 before any).</summary>
    public (long First, long Last) RecordTimes => (Interlocked.Read(ref _firstRecordTimestamp), Interlocked.Read(ref _lastRecordTimestamp));

    /// <summary>Subscribes to every shard and reads until <paramref name="stop"/>; the returned task ends after that.</summary>
    public Task RunAsync(CancellationToken stop) => Task.WhenAll(shardIds.Select(shard => Task.Run(() => ReadShardAsync(shard, stop))));

    private async Task ReadShardAsync(string shardId, CancellationToken stop)
    {
        string type = startingType;
        string? continuation = null;
        var buffer = new byte[1 << 20];
        while (!stop.IsCancellationRequested)
        {
            using var response = await client.OpenAsync("SubscribeToShard", KinesisJson.SubscribeToShard(consumerArn, shardId, type, continuation), stop).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // Within 5 s of the previous subscription AWS (and Runnel) refuse a new one: wait and retry.
                await Task.Delay(500, stop).ConfigureAwait(false);
                continue;
            }
            await using var body = await response.Content.ReadAsStreamAsync(stop).ConfigureAwait(false);
            int filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2);
                int n = await body.ReadAsync(buffer.AsMemory(filled), stop).ConfigureAwait(false);
                if (n == 0)
                    break;
                filled += n;
                int start = 0;
                while (filled - start >= 12)
                {
                    int total = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start));
                    if (filled - start < total)
                        break;
                    if (Handle(buffer.AsSpan(start, total), out string? next))
                        continuation = next ?? continuation;
                    start += total;
                }
                buffer.AsSpan(start, filled - start).CopyTo(buffer);
                filled -= start;
            }
            if (continuation is null)
                return; // the shard ended, or it never sent a continuation
            type = "AFTER_SEQUENCE_NUMBER";
        }
    }

    /// <summary>Counts the records of one SubscribeToShardEvent message; false for any other message.</summary>
    private bool Handle(ReadOnlySpan<byte> message, out string? continuation)
    {
        continuation = null;
        int headersLength = BinaryPrimitives.ReadInt32BigEndian(message[4..]);
        var headers = message.Slice(12, headersLength);
        var payload = message[(12 + headersLength)..^4];
        if (headers.IndexOf("SubscribeToShardEvent"u8) < 0)
        {
            if (headers.IndexOf("initial-response"u8) >= 0)
                Interlocked.Increment(ref _opened);
            return false;
        }
        long now = Stopwatch.GetTimestamp();
        int count = 0;
        if (OnRecordKey is { } onKey)
        {
            var reader = new Utf8JsonReader(payload);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                    continue;
                if (reader.ValueTextEquals("PartitionKey"))
                {
                    reader.Read();
                    onKey(reader.GetString()!, now);
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
}
