using System.Globalization;
using System.Text;
using Runnel.Core.Model;
using Runnel.Storage.Records;

namespace Runnel.Functions.Mappings;

/// <summary>
/// The event Lambda gives a function for a batch of a Kinesis shard's records, exactly as Lambda writes it:
/// <c>{"Records": [{"kinesis": {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp"},
/// "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "SHARD:SEQUENCE", "eventName": "aws:kinesis:record",
/// "invokeIdentityArn", "awsRegion", "eventSourceARN"}]}</c>; with a tumbling window also <c>window</c>
/// (<c>start</c>, <c>end</c>), <c>state</c>, <c>shardId</c>, <c>eventSourceARN</c>, <c>isFinalInvokeForWindow</c> and
/// <c>isWindowTerminatedEarly</c>. KPL aggregates are given as they are (Lambda does not deaggregate). Thread-safe: stateless.
/// </summary>
public static class KinesisEvent
{
    /// <param name="read">The records read; null with an empty batch (a window's last invocation).</param>
    /// <param name="batch">Indexes of the read's records, in order.</param>
    /// <param name="window">The tumbling window the batch belongs to, or null.</param>
    public static byte[] Write(ReadResult? read, ReadOnlySpan<int> batch, ShardInfo shard, string streamArn, string role, string region, WindowInvocation? window = null)
    {
        var records = read is null ? [] : read.Records;
        var writer = new System.Buffers.ArrayBufferWriter<byte>(512 + batch.Length * 256);
        using (var json = new System.Text.Json.Utf8JsonWriter(writer))
        {
            json.WriteStartObject();
            json.WriteStartArray("Records");
            foreach (int i in batch)
            {
                var record = records[i];
                string sequence = shard.SequenceOf(record.Offset, record.ArrivalMillis).ToString();
                json.WriteStartObject();
                json.WriteStartObject("kinesis");
                json.WriteString("kinesisSchemaVersion", "1.0");
                json.WriteString("partitionKey", Encoding.UTF8.GetString(read!.PartitionKey(record)));
                json.WriteString("sequenceNumber", sequence);
                json.WriteBase64String("data", read.Data(record));
                json.WriteNumber("approximateArrivalTimestamp", record.ArrivalMillis / 1000m);
                json.WriteEndObject();
                json.WriteString("eventSource", "aws:kinesis");
                json.WriteString("eventVersion", "1.0");
                json.WriteString("eventID", $"{shard.ShardId}:{sequence}");
                json.WriteString("eventName", "aws:kinesis:record");
                json.WriteString("invokeIdentityArn", role);
                json.WriteString("awsRegion", region);
                json.WriteString("eventSourceARN", streamArn);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (window is { } w)
            {
                json.WriteStartObject("window");
                json.WriteString("start", Time(w.StartMillis));
                json.WriteString("end", Time(w.EndMillis));
                json.WriteEndObject();
                json.WritePropertyName("state");
                json.WriteRawValue(w.State, skipInputValidation: true);
                json.WriteString("shardId", shard.ShardId);
                json.WriteString("eventSourceARN", streamArn);
                json.WriteBoolean("isFinalInvokeForWindow", w.Final);
                json.WriteBoolean("isWindowTerminatedEarly", w.TerminatedEarly);
            }
            json.WriteEndObject();
        }
        return writer.WrittenSpan.ToArray();
    }

    private static string Time(long millis) =>
        DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>What a tumbling window adds to an invocation: its bounds, the state so far (a JSON object's text), and whether it is the window's last.</summary>
public readonly record struct WindowInvocation(long StartMillis, long EndMillis, string State, bool Final, bool TerminatedEarly);
