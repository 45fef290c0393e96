using System.Globalization;
using System.Text.Json;
using Runnel.Core.Metrics;

namespace Runnel.Server.Metrics;

/// <summary>
/// What one node of a cluster served, as it publishes it for the others' pipeline views (the metadata document of kind
/// <see cref="Kind"/>, key the node's id; byte layout in docs/formats/activity.md): its writers and readers with their
/// counters since the node started, each stream's counters, and the delivery streams whose delivery runs there.
/// Immutable.
/// </summary>
public sealed record ActivitySnapshot(
    string Node,
    long AtMillis,
    IReadOnlyList<ActivitySnapshot.Writer> Writers,
    IReadOnlyList<ActivitySnapshot.Reader> Readers,
    IReadOnlyList<ActivitySnapshot.Stream> Streams,
    IReadOnlyList<ActivitySnapshot.Delivery> Deliveries)
{
    /// <summary>The document kind the snapshots are stored under.</summary>
    public const string Kind = "activity";

    /// <summary>The format's version (<c>"v"</c>); a reader skips a snapshot of a version it does not know.</summary>
    public const int Version = 1;

    public sealed record Writer(string Stream, ClientId Client, long Records, long Bytes, long Requests, long FailedRecords, long LastSeenMillis);

    /// <summary>A reader of one shard; <paramref name="Position"/> null before it read or subscribed.</summary>
    public sealed record Reader(string Stream, int Shard, ReaderKind Kind, string Name, ClientId Client, long Records, long Reads, long Errors, ulong? Position, long LastSeenMillis);

    /// <summary>A stream's counters on the node: records and bytes put, records read (GetRecords and subscriptions), errors
    /// (throttled writes and reads, failed records).</summary>
    public sealed record Stream(string Name, long IncomingRecords, long IncomingBytes, long OutgoingRecords, long Errors);

    /// <summary>A delivery stream's counters on the node, and where its delivery (when it runs there) has read its Kinesis
    /// stream source to (<paramref name="SourceStream"/> null when it does not).</summary>
    public sealed record Delivery(string Name, long IncomingRecords, long ReadRecords, long DeliveredRecords, long FailedAttempts,
        string? SourceStream, IReadOnlyDictionary<int, ulong> ReadTo);

    /// <summary>This node's snapshot now: every writer and reader its activity lists at <paramref name="nowMillis"/>.</summary>
    public static ActivitySnapshot Take(string node, MetricRegistry registry, long nowMillis)
    {
        var writers = registry.Activity.Writers(nowMillis)
            .Select(w => new Writer(w.StreamName, w.Client, w.Records, w.Bytes, w.Requests, w.FailedRecords.Value, w.LastSeenMillis)).ToList();
        var readers = registry.Activity.Readers(nowMillis)
            .Select(r => new Reader(r.StreamName, r.ShardIndex, r.Kind, r.Name, r.Client, r.Records, r.Reads, r.Errors.Value, r.Position, r.LastSeenMillis)).ToList();
        var streams = registry.Streams.Select(s => new Stream(s.StreamName, s[StreamMetric.IncomingRecords].Sum, s[StreamMetric.IncomingBytes].Sum,
            s[StreamMetric.GetRecordsRecords].Sum + registry.Consumers.Where(c => c.StreamName == s.StreamName).Sum(c => c[ConsumerMetric.SubscribeToShardEventRecords].Sum),
            s[StreamMetric.WriteProvisionedThroughputExceeded].Sum + s[StreamMetric.ReadProvisionedThroughputExceeded].Sum + s[StreamMetric.PutRecordsFailedRecords].Sum)).ToList();
        var deliveries = registry.DeliveryStreams.Select(d => new Delivery(d.DeliveryStreamName, d[FirehoseMetric.IncomingRecords].Sum,
            d[FirehoseMetric.DataReadFromKinesisStreamRecords].Sum, d[FirehoseMetric.DeliveryRecords].Sum,
            d[FirehoseMetric.DeliverySuccess].Count - d[FirehoseMetric.DeliverySuccess].Sum,
            d.Source?.StreamName, d.Source?.ReadTo ?? new Dictionary<int, ulong>())).ToList();
        return new ActivitySnapshot(node, nowMillis, writers, readers, streams, deliveries);
    }

    /// <summary>The document's body: UTF-8 JSON (docs/formats/activity.md).</summary>
    public byte[] Encode()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            json.WriteString("node", Node);
            json.WriteNumber("at", AtMillis);
            json.WriteStartArray("writers");
            foreach (var w in Writers)
            {
                json.WriteStartObject();
                json.WriteString("stream", w.Stream);
                json.WriteString("accessKey", w.Client.AccessKey);
                json.WriteString("userAgent", w.Client.UserAgent);
                json.WriteNumber("records", w.Records);
                json.WriteNumber("bytes", w.Bytes);
                json.WriteNumber("requests", w.Requests);
                json.WriteNumber("failedRecords", w.FailedRecords);
                json.WriteNumber("lastSeen", w.LastSeenMillis);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("readers");
            foreach (var r in Readers)
            {
                json.WriteStartObject();
                json.WriteString("stream", r.Stream);
                json.WriteNumber("shard", r.Shard);
                json.WriteString("kind", ReaderLags.KindLabel(r.Kind));
                json.WriteString("name", r.Name);
                json.WriteString("accessKey", r.Client.AccessKey);
                json.WriteString("userAgent", r.Client.UserAgent);
                json.WriteNumber("records", r.Records);
                json.WriteNumber("reads", r.Reads);
                json.WriteNumber("errors", r.Errors);
                if (r.Position is { } position)
                    json.WriteNumber("position", position);
                else
                    json.WriteNull("position");
                json.WriteNumber("lastSeen", r.LastSeenMillis);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("streams");
            foreach (var s in Streams)
            {
                json.WriteStartObject();
                json.WriteString("name", s.Name);
                json.WriteNumber("incomingRecords", s.IncomingRecords);
                json.WriteNumber("incomingBytes", s.IncomingBytes);
                json.WriteNumber("outgoingRecords", s.OutgoingRecords);
                json.WriteNumber("errors", s.Errors);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("deliveries");
            foreach (var d in Deliveries)
            {
                json.WriteStartObject();
                json.WriteString("name", d.Name);
                json.WriteNumber("incomingRecords", d.IncomingRecords);
                json.WriteNumber("readRecords", d.ReadRecords);
                json.WriteNumber("deliveredRecords", d.DeliveredRecords);
                json.WriteNumber("failedAttempts", d.FailedAttempts);
                if (d.SourceStream is { } source)
                    json.WriteString("source", source);
                else
                    json.WriteNull("source");
                json.WriteStartObject("readTo");
                foreach (var (shard, offset) in d.ReadTo.OrderBy(p => p.Key))
                    json.WriteNumber(shard.ToString(CultureInfo.InvariantCulture), offset);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A snapshot from its document's body; null when it is not one this version reads (a newer node's, or damaged).</summary>
    public static ActivitySnapshot? Decode(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.GetProperty("v").GetInt32() != Version)
                return null;
            var writers = root.GetProperty("writers").EnumerateArray().Select(w => new Writer(w.GetProperty("stream").GetString()!,
                new ClientId(w.GetProperty("accessKey").GetString()!, w.GetProperty("userAgent").GetString()!), w.GetProperty("records").GetInt64(),
                w.GetProperty("bytes").GetInt64(), w.GetProperty("requests").GetInt64(), w.GetProperty("failedRecords").GetInt64(), w.GetProperty("lastSeen").GetInt64())).ToList();
            var readers = root.GetProperty("readers").EnumerateArray().Select(r => new Reader(r.GetProperty("stream").GetString()!, r.GetProperty("shard").GetInt32(),
                r.GetProperty("kind").GetString() switch { "consumer" => ReaderKind.Consumer, "iterator" => ReaderKind.Iterator, var other => throw new FormatException($"reader kind '{other}'") },
                r.GetProperty("name").GetString()!, new ClientId(r.GetProperty("accessKey").GetString()!, r.GetProperty("userAgent").GetString()!),
                r.GetProperty("records").GetInt64(), r.GetProperty("reads").GetInt64(), r.GetProperty("errors").GetInt64(),
                r.GetProperty("position").ValueKind == JsonValueKind.Null ? null : r.GetProperty("position").GetUInt64(), r.GetProperty("lastSeen").GetInt64())).ToList();
            var streams = root.GetProperty("streams").EnumerateArray().Select(s => new Stream(s.GetProperty("name").GetString()!, s.GetProperty("incomingRecords").GetInt64(),
                s.GetProperty("incomingBytes").GetInt64(), s.GetProperty("outgoingRecords").GetInt64(), s.GetProperty("errors").GetInt64())).ToList();
            var deliveries = root.GetProperty("deliveries").EnumerateArray().Select(d => new Delivery(d.GetProperty("name").GetString()!,
                d.GetProperty("incomingRecords").GetInt64(), d.GetProperty("readRecords").GetInt64(), d.GetProperty("deliveredRecords").GetInt64(),
                d.GetProperty("failedAttempts").GetInt64(), d.GetProperty("source").GetString(),
                d.GetProperty("readTo").EnumerateObject().ToDictionary(p => int.Parse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture), p => p.Value.GetUInt64()))).ToList();
            return new ActivitySnapshot(root.GetProperty("node").GetString()!, root.GetProperty("at").GetInt64(), writers, readers, streams, deliveries);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }
}
