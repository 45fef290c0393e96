using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// The AWS JSON 1.1 bodies the benchmark sends, written by hand with <see cref="Utf8JsonWriter"/>, and the
/// few answers it reads, scanned with <see cref="Utf8JsonReader"/> without building a document (a
/// GetRecords answer of 10,000 records is read once, on the same two cores as the server under test).
/// Stateless and thread-safe.
/// </summary>
public static class KinesisJson
{
    /// <summary>One record of a PutRecords body: its partition key and its raw (not yet base64) data.</summary>
    public readonly record struct Entry(string PartitionKey, byte[] Data);

    public static RequestBody ListStreams() => Build(w => w.WriteNumber("Limit", 1));

    public static RequestBody CreateStream(string stream, int shardCount) => Build(w =>
    {
        w.WriteString("StreamName", stream);
        w.WriteNumber("ShardCount", shardCount);
    });

    public static RequestBody DescribeStream(string stream) => Build(w => w.WriteString("StreamName", stream));

    public static RequestBody DeleteStream(string stream, bool enforceConsumerDeletion = false) => Build(w =>
    {
        w.WriteString("StreamName", stream);
        if (enforceConsumerDeletion)
            w.WriteBoolean("EnforceConsumerDeletion", true);
    });

    public static RequestBody DescribeStreamSummary(string stream) => Build(w => w.WriteString("StreamName", stream));

    public static RequestBody RegisterStreamConsumer(string streamArn, string name) => Build(w =>
    {
        w.WriteString("StreamARN", streamArn);
        w.WriteString("ConsumerName", name);
    });

    public static RequestBody DescribeStreamConsumer(string consumerArn) => Build(w => w.WriteString("ConsumerARN", consumerArn));

    /// <summary>A SubscribeToShard body: <paramref name="type"/> with <paramref name="sequenceNumber"/> for AT_/AFTER_SEQUENCE_NUMBER.</summary>
    public static RequestBody SubscribeToShard(string consumerArn, string shardId, string type, string? sequenceNumber = null) => Build(w =>
    {
        w.WriteString("ConsumerARN", consumerArn);
        w.WriteString("ShardId", shardId);
        w.WriteStartObject("StartingPosition");
        w.WriteString("Type", type);
        if (sequenceNumber is not null)
            w.WriteString("SequenceNumber", sequenceNumber);
        w.WriteEndObject();
    });

    public static RequestBody PutRecord(string stream, string partitionKey, byte[] data) => Build(w =>
    {
        w.WriteString("StreamName", stream);
        w.WriteString("PartitionKey", partitionKey);
        w.WriteBase64String("Data", data);
    });

    public static RequestBody PutRecords(string stream, IReadOnlyList<Entry> entries) => Build(w =>
    {
        w.WriteString("StreamName", stream);
        w.WriteStartArray("Records");
        foreach (var entry in entries)
        {
            w.WriteStartObject();
            w.WriteBase64String("Data", entry.Data);
            w.WriteString("PartitionKey", entry.PartitionKey);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    /// <summary>A GetShardIterator body: <paramref name="type"/> with <paramref name="startingSequenceNumber"/> for AT_/AFTER_SEQUENCE_NUMBER.</summary>
    public static RequestBody GetShardIterator(string stream, string shardId, string type, string? startingSequenceNumber = null) => Build(w =>
    {
        w.WriteString("StreamName", stream);
        w.WriteString("ShardId", shardId);
        w.WriteString("ShardIteratorType", type);
        if (startingSequenceNumber is not null)
            w.WriteString("StartingSequenceNumber", startingSequenceNumber);
    });

    public static RequestBody GetRecords(string shardIterator, int limit) => Build(w =>
    {
        w.WriteString("ShardIterator", shardIterator);
        w.WriteNumber("Limit", limit);
    });

    private static RequestBody Build(Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }
        return new RequestBody(buffer.WrittenSpan.ToArray());
    }

    /// <summary>The string value of the first property named <paramref name="name"/> at any depth, or null.</summary>
    public static string? ReadString(ReadOnlySpan<byte> json, string name)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(name))
                {
                    reader.Read();
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (an HTML or XML error page): nothing to read.
        }
        return null;
    }

    /// <summary>Every string value of properties named <paramref name="name"/>, at any depth, in order.</summary>
    public static List<string> ReadStrings(ReadOnlySpan<byte> json, string name)
    {
        var values = new List<string>();
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(name))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                    values.Add(reader.GetString()!);
            }
        }
        return values;
    }

    /// <summary>The integer value of the first property named <paramref name="name"/>, or null. Stops
    /// reading there: PutRecords answers lead with FailedRecordCount, so the 500 results are not scanned.</summary>
    public static long? ReadInt64(ReadOnlySpan<byte> json, string name)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(name))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : null;
            }
        }
        return null;
    }

    /// <summary>What a GetRecords answer says: how many records, where to read next, how far behind.</summary>
    public readonly record struct RecordsPage(int Count, string? NextShardIterator, long MillisBehindLatest);

    /// <summary>
    /// Reads a GetRecords answer. When <paramref name="onPartitionKey"/> is given it is called with each
    /// record's partition key, in order (the latency scenario carries a record's id there); likewise
    /// <paramref name="onSequenceNumber"/> with each record's sequence number (the soak counts deliveries by it).
    /// </summary>
    public static RecordsPage ReadRecordsPage(ReadOnlySpan<byte> json, Action<string>? onPartitionKey = null, Action<string>? onSequenceNumber = null)
    {
        var reader = new Utf8JsonReader(json);
        int count = 0;
        string? next = null;
        long behind = 0;
        reader.Read(); // the top-level object
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("Records"))
            {
                reader.Read(); // StartArray
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    count++;
                    if (onPartitionKey is null && onSequenceNumber is null)
                    {
                        reader.Skip();
                        continue;
                    }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var member = onPartitionKey is not null && reader.ValueTextEquals("PartitionKey") ? onPartitionKey
                            : onSequenceNumber is not null && reader.ValueTextEquals("SequenceNumber") ? onSequenceNumber
                            : null;
                        reader.Read();
                        if (member is not null)
                            member(reader.GetString()!);
                        else
                            reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("NextShardIterator"))
            {
                reader.Read();
                next = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("MillisBehindLatest"))
            {
                reader.Read();
                behind = reader.GetInt64();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new RecordsPage(count, next, behind);
    }

    /// <summary>
    /// Reads a PutRecords answer's results in order: <paramref name="onStored"/> gets each stored record's shard id
    /// and sequence number, <paramref name="onRefused"/> each refused record's ErrorCode.
    /// </summary>
    public static void ReadPutRecordsResults(ReadOnlySpan<byte> json, Action<string, string> onStored, Action<string> onRefused)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read(); // the top-level object
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("Records"))
            {
                reader.Read();
                reader.Skip();
                continue;
            }
            reader.Read(); // StartArray
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                string? shardId = null, sequenceNumber = null, errorCode = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isShard = reader.ValueTextEquals("ShardId"), isSequence = reader.ValueTextEquals("SequenceNumber"), isError = reader.ValueTextEquals("ErrorCode");
                    reader.Read();
                    string? value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    if (isShard)
                        shardId = value;
                    else if (isSequence)
                        sequenceNumber = value;
                    else if (isError)
                        errorCode = value;
                    else
                        reader.Skip();
                }
                if (errorCode is null && shardId is not null && sequenceNumber is not null)
                    onStored(shardId, sequenceNumber);
                else
                    onRefused(errorCode ?? "a result without ShardId and SequenceNumber");
            }
        }
    }

    /// <summary>Readable text of a body, for error reports.</summary>
    public static string Text(ReadOnlySpan<byte> json) => Encoding.UTF8.GetString(json[..Math.Min(json.Length, 300)]);
}
