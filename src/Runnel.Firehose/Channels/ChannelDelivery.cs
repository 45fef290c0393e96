using System.Globalization;
using System.Text;
using System.Text.Json;
using Runnel.Core.Model;
using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;

namespace Runnel.Firehose.Channels;

/// <summary>
/// The delivery of one channel to its S3 destination: the stream's records from the moment the channel became ACTIVE
/// (no backfill), each checked against the channel's RecordFormatType (JSON must parse, STRING must be UTF-8,
/// BYTE_ARRAY is taken as it is), buffered until the data freshness interval passes or the buffer holds
/// <see cref="ObjectBytes"/>, and written as one object named by the OutputKeyTemplate with a unique suffix. JSON and
/// STRING records end with a newline each (unless they end with one already); BYTE_ARRAY records are concatenated unchanged. A record that fails its
/// check is not written: an entry naming it (stream, shard, sequence number, error) goes to the dead-letter queue's
/// bucket under its ErrorOutputPrefix (docs/formats/firehose.md, "Channel objects"). A failed write is retried with
/// backoff for as long as the stream keeps the records. Not thread-safe: one pump at a time.
/// </summary>
public sealed class ChannelDelivery : BufferedDelivery
{
    /// <summary>The size at which an object is written before the freshness interval ends: 64 MiB.</summary>
    public const int ObjectMiB = 64;
    public const long ObjectBytes = ObjectMiB << 20;

    /// <summary>The buffer of dead-letter entries (a partition no record's buffer uses).</summary>
    private const string DeadLetters = "\0dlq";
    private static readonly byte[] Newline = "\n"u8.ToArray();

    private readonly Channel _channel;
    private readonly ChannelKeyTemplate _template;
    private readonly ObjectCompression _compression;
    private readonly IObjectStore _destination;
    private readonly IObjectStore _deadLetterStore;
    private readonly string _deadLetterPrefix;
    private readonly Func<StreamInfo?> _stream;
    private readonly string _format;

    /// <param name="stream">The source stream as it is now (for the shard ids and sequence numbers dead-letter entries name).</param>
    /// <param name="freshness">How long records are buffered before an object is written: the channel's data freshness unless the server overrides it.</param>
    public ChannelDelivery(Channel channel, IRecordSource source, DeliveryPosition position, Func<StreamInfo?> stream, IObjectStore destination, IObjectStore deadLetterStore,
        TimeSpan? freshness = null)
        : base(source, new BufferingHints(ObjectMiB, (int)(freshness?.TotalSeconds ?? channel.DataFreshnessSeconds)), position)
    {
        _channel = channel;
        _stream = stream;
        var storage = channel.Destination["StorageConfiguration"]!;
        string compression = (string)storage["CompressionType"]!;
        _compression = ObjectCompression.ForChannel(compression) ?? throw new ArgumentException($"Compression {compression} is not a channel's.", nameof(channel));
        _template = ChannelKeyTemplate.Parse((string)storage["OutputKeyTemplate"]!, compression, channel.Name, channel.Id, channel.StreamName);
        _destination = destination;
        _deadLetterStore = deadLetterStore;
        _deadLetterPrefix = (string?)channel.Destination["DeadLetterQueueS3Configuration"]?["ErrorOutputPrefix"] ?? ChannelDefaults.ErrorOutputPrefix(channel.Name, channel.Id);
        _format = (string)channel.RecordConfiguration["RecordFormatType"]!;
    }

    /// <summary>Where the channel's own metrics go (AWS/Kinesis DeliveryToS3.*, by channel); null for nowhere.</summary>
    public Runnel.Core.Metrics.ChannelMetrics? ChannelMetrics { get; set; }

    protected override bool ReportsFreshness => ChannelMetrics is not null;

    protected override void Waiting(long freshnessSeconds) => ChannelMetrics?.Waiting(freshnessSeconds);

    protected override DeliveryBatch? Add(SourceRecord record, long nowMillis, IReadOnlyDictionary<string, string>? lambdaKeys)
    {
        var problem = Problem(record.Data);
        ChannelMetrics?.Read(record.Data.Length, matched: problem is null);
        if (problem is null)
            return Buffers.Add("", record, nowMillis, _format == "BYTE_ARRAY" || record.Data.EndsWith(Newline) ? default : Newline);
        var entry = DeadLetterEntry(record, problem.Value.Code, problem.Value.Message, nowMillis);
        return Buffers.Add(DeadLetters, new SourceRecord(record.Source, record.Position, record.ArrivalMillis, entry), nowMillis);
    }

    /// <summary>Why a record does not match the channel's record format, or null when it does.</summary>
    private (string Code, string Message)? Problem(ReadOnlySpan<byte> data)
    {
        switch (_format)
        {
            case "STRING":
                return System.Text.Unicode.Utf8.IsValid(data) ? null : ("INVALID_STRING", "The record is not valid UTF-8 text.");
            case "JSON":
                try
                {
                    var reader = new Utf8JsonReader(data, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
                    if (!reader.Read() || !reader.TrySkip() || reader.Read())
                        return ("INVALID_JSON", "The record is not one JSON value.");
                    return null;
                }
                catch (JsonException e)
                {
                    return ("INVALID_JSON", $"The record is not valid JSON: {e.Message}");
                }
            default:
                return null;
        }
    }

    /// <summary>A dead-letter entry: one JSON document per line naming the record and why it was not delivered (never its data).</summary>
    private byte[] DeadLetterEntry(SourceRecord record, string code, string message, long nowMillis)
    {
        var shard = _stream()?.FindShard(record.Source);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("channelARN", _channel.Arn);
            json.WriteString("streamARN", _channel.StreamArn);
            json.WriteString("shardId", ShardId.Format(record.Source));
            if (shard is not null)
                json.WriteString("sequenceNumber", shard.SequenceOf(record.Position, record.ArrivalMillis).ToString());
            json.WriteNumber("approximateArrivalTimestamp", record.ArrivalMillis);
            json.WriteString("recordFormatType", _format);
            json.WriteString("errorCode", code);
            json.WriteString("errorMessage", message);
            json.WriteNumber("attemptEndingTimestamp", nowMillis);
            json.WriteEndObject();
        }
        System.Buffers.BuffersExtensions.Write(buffer, Newline);
        return buffer.WrittenSpan.ToArray();
    }

    protected override async Task<Exception?> AttemptAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        var instant = DateTimeOffset.FromUnixTimeMilliseconds(batch.OldestArrivalMillis);
        string suffix = "-" + Guid.NewGuid().ToString("D");
        try
        {
            if (batch.Partition == DeadLetters)
            {
                await _deadLetterStore.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"{_deadLetterPrefix}{instant:yyyy'/'MM'/'dd'/'HH'/'}{_channel.Name}-{_channel.Id}{instant:'-'yyyy'-'MM'-'dd'-'HH'-'mm}{suffix}.json"),
                    batch.Payload, ObjectCompression.Uncompressed, cancellationToken).ConfigureAwait(false);
                ChannelMetrics?.DeadLettered(true, batch.Count);
            }
            else
            {
                await _destination.WriteAsync(_template.Evaluate(instant, suffix), batch.Payload, _compression, cancellationToken).ConfigureAwait(false);
                ChannelMetrics?.Delivered(true, batch.Count, batch.Bytes);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (batch.Partition == DeadLetters)
                ChannelMetrics?.DeadLettered(false, batch.Count);
            else
                ChannelMetrics?.Delivered(false, batch.Count, batch.Bytes);
            return e; // retried while the stream keeps the records
        }
    }
}
