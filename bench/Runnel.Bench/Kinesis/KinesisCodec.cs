using System.Formats.Cbor;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// The bodies the throughput scenarios send and the answers they read, in one wire encoding: AWS JSON 1.1
/// (<see cref="Json"/>, what boto3 and the JavaScript SDK send) or CBOR (<see cref="Cbor"/>, the Java SDK's
/// default). Stateless and thread-safe.
/// </summary>
public abstract class KinesisCodec
{
    public static readonly KinesisCodec Json = new JsonCodec();

    public static readonly KinesisCodec Cbor = new CborCodec();

    public abstract string Name { get; }

    public abstract RequestBody PutRecords(string stream, IReadOnlyList<KinesisJson.Entry> entries);

    public abstract RequestBody GetShardIterator(string stream, string shardId, string type);

    public abstract RequestBody GetRecords(string shardIterator, int limit);

    /// <summary>A top-level integer member of an answer, or null.</summary>
    public abstract long? ReadInt64(KinesisResponse response, string name);

    /// <summary>A top-level string member of an answer, or null.</summary>
    public abstract string? ReadString(KinesisResponse response, string name);

    public abstract KinesisJson.RecordsPage ReadRecordsPage(KinesisResponse response);

    private sealed class JsonCodec : KinesisCodec
    {
        public override string Name => "JSON";

        public override RequestBody PutRecords(string stream, IReadOnlyList<KinesisJson.Entry> entries) => KinesisJson.PutRecords(stream, entries);

        public override RequestBody GetShardIterator(string stream, string shardId, string type) => KinesisJson.GetShardIterator(stream, shardId, type);

        public override RequestBody GetRecords(string shardIterator, int limit) => KinesisJson.GetRecords(shardIterator, limit);

        public override long? ReadInt64(KinesisResponse response, string name) => KinesisJson.ReadInt64(response.Body, name);

        public override string? ReadString(KinesisResponse response, string name) => KinesisJson.ReadString(response.Body, name);

        public override KinesisJson.RecordsPage ReadRecordsPage(KinesisResponse response) => KinesisJson.ReadRecordsPage(response.Body);
    }

    /// <summary>Definite-length maps and arrays, byte strings for blobs, as the Java SDK writes them.</summary>
    private sealed class CborCodec : KinesisCodec
    {
        public override string Name => "CBOR";

        public override RequestBody PutRecords(string stream, IReadOnlyList<KinesisJson.Entry> entries)
        {
            var w = new CborWriter(CborConformanceMode.Lax);
            w.WriteStartMap(2);
            w.WriteTextString("StreamName");
            w.WriteTextString(stream);
            w.WriteTextString("Records");
            w.WriteStartArray(entries.Count);
            foreach (var entry in entries)
            {
                w.WriteStartMap(2);
                w.WriteTextString("Data");
                w.WriteByteString(entry.Data);
                w.WriteTextString("PartitionKey");
                w.WriteTextString(entry.PartitionKey);
                w.WriteEndMap();
            }
            w.WriteEndArray();
            w.WriteEndMap();
            return new RequestBody(w.Encode(), RequestBody.Cbor);
        }

        public override RequestBody GetShardIterator(string stream, string shardId, string type) =>
            Map(("StreamName", stream), ("ShardId", shardId), ("ShardIteratorType", type));

        public override RequestBody GetRecords(string shardIterator, int limit)
        {
            var w = new CborWriter(CborConformanceMode.Lax);
            w.WriteStartMap(2);
            w.WriteTextString("ShardIterator");
            w.WriteTextString(shardIterator);
            w.WriteTextString("Limit");
            w.WriteInt32(limit);
            w.WriteEndMap();
            return new RequestBody(w.Encode(), RequestBody.Cbor);
        }

        private static RequestBody Map(params (string Name, string Value)[] members)
        {
            var w = new CborWriter(CborConformanceMode.Lax);
            w.WriteStartMap(members.Length);
            foreach (var (name, value) in members)
            {
                w.WriteTextString(name);
                w.WriteTextString(value);
            }
            w.WriteEndMap();
            return new RequestBody(w.Encode(), RequestBody.Cbor);
        }

        public override long? ReadInt64(KinesisResponse response, string name)
        {
            var reader = new CborReader(response.BodyMemory, CborConformanceMode.Lax);
            return Find(reader, name) && reader.PeekState() is CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger ? reader.ReadInt64() : null;
        }

        public override string? ReadString(KinesisResponse response, string name)
        {
            var reader = new CborReader(response.BodyMemory, CborConformanceMode.Lax);
            return Find(reader, name) && reader.PeekState() == CborReaderState.TextString ? reader.ReadTextString() : null;
        }

        public override KinesisJson.RecordsPage ReadRecordsPage(KinesisResponse response) => CborPage.Read(response.Body);

        /// <summary>Moves the reader to the value of the top-level member <paramref name="name"/>; false when there is none.</summary>
        private static bool Find(CborReader reader, string name)
        {
            try
            {
                reader.ReadStartMap();
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    if (reader.ReadTextString() == name)
                        return true;
                    reader.SkipValue();
                }
            }
            catch (CborContentException)
            {
                // Not CBOR (an error page): nothing to read.
            }
            return false;
        }
    }
}
