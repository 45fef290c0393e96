using System.Formats.Cbor;
using System.Text;
using System.Text.Json;
using Runnel.Protocol.Cbor;
using Runnel.Protocol.Requests;

namespace Runnel.Protocol.Tests;

public class CborTests
{
    /// <summary>A CBOR body read into the request model, written back out as the JSON it means.</summary>
    internal static byte[] ViaModel(byte[] cbor)
    {
        using var document = RequestDocument.ParseCbor(cbor);
        return Encoding.UTF8.GetBytes(document.Root.GetRawText());
    }

    [Fact]
    public void Java_sdk_style_request_reads_into_the_request_model()
    {
        // An indefinite-length map, a byte-string blob and a tag-1 timestamp in epoch milliseconds,
        // as the AWS SDK for Java writes them.
        var w = new CborWriter(CborConformanceMode.Lax);
        w.WriteStartMap(null);
        w.WriteTextString("StreamName"); w.WriteTextString("orders");
        w.WriteTextString("Data"); w.WriteByteString([0, 1, 2, 255]);
        w.WriteTextString("Timestamp"); w.WriteTag(CborTag.UnixTimeSeconds); w.WriteInt64(1_700_000_000_123);
        w.WriteTextString("Limit"); w.WriteInt32(25);
        w.WriteTextString("Flag"); w.WriteBoolean(true);
        w.WriteTextString("Keys"); w.WriteStartArray(null); w.WriteTextString("a"); w.WriteEndArray();
        w.WriteEndMap();

        using var doc = RequestDocument.ParseCbor(w.Encode());
        var root = doc.Root;
        Assert.Equal("orders", root.GetProperty("StreamName").GetString());
        Assert.Equal(RequestKind.Bytes, root.GetProperty("Data").Kind); // no base64 on the way
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, root.GetProperty("Data").Utf8.ToArray());
        Assert.Equal(4, root.GetProperty("Data").BlobLength);
        Assert.Equal(1_700_000_000_123, root.GetProperty("Timestamp").GetTimestampMillis());
        Assert.Equal(25, root.GetProperty("Limit").GetDouble());
        Assert.Equal(RequestKind.True, root.GetProperty("Flag").Kind);
        Assert.Equal("a", root.GetProperty("Keys").EnumerateArray().Single().GetString());
        using var json = JsonDocument.Parse(ViaModel(w.Encode()));
        Assert.Equal(1_700_000_000.123m, json.RootElement.GetProperty("Timestamp").GetDecimal());
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, json.RootElement.GetProperty("Data").GetBytesFromBase64());
    }

    [Fact]
    public void Untagged_integer_timestamps_are_milliseconds_too()
    {
        var w = new CborWriter(CborConformanceMode.Lax);
        w.WriteStartMap(null);
        w.WriteTextString("Timestamp"); w.WriteInt64(1_700_000_000_500);
        w.WriteTextString("Limit"); w.WriteInt64(1_700_000_000_500);
        w.WriteEndMap();
        using var doc = RequestDocument.ParseCbor(w.Encode());
        Assert.Equal(1_700_000_000_500, doc.Root.GetProperty("Timestamp").GetTimestampMillis());
        Assert.Equal(1_700_000_000.5, doc.Root.GetProperty("Timestamp").GetDouble());
        Assert.Equal(1_700_000_000_500, doc.Root.GetProperty("Limit").GetDouble());
    }

    [Theory]
    [InlineData(new byte[] { 0xBF })] // unterminated map
    [InlineData(new byte[] { 0xA1, 0x01, 0x02 })] // integer key
    [InlineData(new byte[] { 0x61 })] // truncated string
    [InlineData(new byte[] { 0xA0, 0xA0 })] // two documents
    [InlineData(new byte[] { 0xA1, 0x61, 0x61, 0x3B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // -2^64: beyond a long
    public void Malformed_cbor_is_rejected(byte[] body) =>
        Assert.Throws<FormatException>(() => RequestDocument.ParseCbor(body));

    [Fact]
    public void Error_bodies_are_byte_identical_to_aws()
    {
        var writer = new CborWireWriter();
        writer.StartObject();
        writer.String("__type", "UnknownOperationException");
        writer.EndObject();
        var expected = new List<byte> { 0xBF, 0x66 };
        expected.AddRange("__type"u8.ToArray());
        expected.AddRange([0x78, 0x19]);
        expected.AddRange("UnknownOperationException"u8.ToArray());
        expected.Add(0xFF);
        Assert.Equal(expected.ToArray(), writer.Complete().ToArray());
    }

    [Fact]
    public void Responses_carry_byte_strings_and_millisecond_timestamps()
    {
        var writer = new CborWireWriter();
        writer.StartObject();
        writer.Blob("Data", [9, 8, 7]);
        writer.Timestamp("ApproximateArrivalTimestamp", 1_700_000_000_123);
        writer.EndObject();
        var reader = new CborReader(writer.Complete(), CborConformanceMode.Lax);
        reader.ReadStartMap();
        Assert.Equal("Data", reader.ReadTextString());
        Assert.Equal(new byte[] { 9, 8, 7 }, reader.ReadByteString());
        Assert.Equal("ApproximateArrivalTimestamp", reader.ReadTextString());
        Assert.Equal(CborTag.UnixTimeSeconds, reader.ReadTag());
        Assert.Equal(1_700_000_000_123, reader.ReadInt64());
    }

    [Fact]
    public void Every_value_is_written_in_its_shortest_form_and_reads_back()
    {
        var writer = new CborWireWriter(16); // small: the buffer must grow
        string long300 = new('x', 300), long70k = new('y', 70_000), unicode = "caf\u00e9 \u2713 \U0001F600";
        writer.StartObject();
        long[] numbers = [0L, 23, 24, 255, 256, 65_535, 65_536, uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue, -1, -24, -25, -256, -257, long.MinValue];
        for (int i = 0; i < numbers.Length; i++)
            writer.Number($"n{i}", numbers[i]);
        writer.String("s", long300);
        writer.String("l", long70k);
        writer.String("u", unicode);
        writer.Utf8String("b", System.Text.Encoding.UTF8.GetBytes(unicode));
        writer.Boolean("t", true);
        writer.Boolean("f", false);
        writer.Null("z");
        writer.StartArray("a");
        writer.String("one");
        writer.StartObject();
        writer.Blob("d", new byte[300]);
        writer.EndObject();
        writer.EndArray();
        writer.EndObject();
        var bytes = writer.Complete();
        var reader = new CborReader(bytes, CborConformanceMode.Strict, allowMultipleRootLevelValues: false);
        reader.ReadStartMap();
        for (int i = 0; i < numbers.Length; i++)
        {
            Assert.Equal($"n{i}", reader.ReadTextString());
            Assert.Equal(numbers[i], reader.ReadInt64()); // Strict mode refuses any integer not in its shortest form
        }
        Assert.Equal(("s", long300), (reader.ReadTextString(), reader.ReadTextString()));
        Assert.Equal(("l", long70k), (reader.ReadTextString(), reader.ReadTextString()));
        Assert.Equal(("u", unicode), (reader.ReadTextString(), reader.ReadTextString()));
        Assert.Equal(("b", unicode), (reader.ReadTextString(), reader.ReadTextString()));
        Assert.Equal(("t", true), (reader.ReadTextString(), reader.ReadBoolean()));
        Assert.Equal(("f", false), (reader.ReadTextString(), reader.ReadBoolean()));
        Assert.Equal("z", reader.ReadTextString());
        reader.ReadNull();
        Assert.Equal("a", reader.ReadTextString());
        Assert.Null(reader.ReadStartArray());
        Assert.Equal("one", reader.ReadTextString());
        reader.ReadStartMap();
        Assert.Equal(("d", 300), (reader.ReadTextString(), reader.ReadByteString().Length));
        reader.ReadEndMap();
        reader.ReadEndArray();
        reader.ReadEndMap();
        Assert.Equal(0, reader.BytesRemaining);

        writer.Reset(); // a second document in the same writer starts from nothing
        writer.StartObject();
        writer.EndObject();
        Assert.Equal(new byte[] { 0xBF, 0xFF }, writer.Complete().ToArray());
        writer.Dispose();
    }

    [Fact]
    public void Json_timestamps_are_epoch_seconds_with_milliseconds()
    {
        var writer = new Json.JsonWireWriter();
        writer.StartObject();
        writer.Timestamp("T", 1_700_000_000_123);
        writer.Blob("D", [1, 2, 3]);
        writer.EndObject();
        Assert.Equal("""{"T":1700000000.123,"D":"AQID"}""", System.Text.Encoding.UTF8.GetString(writer.Complete().Span));
    }
}
