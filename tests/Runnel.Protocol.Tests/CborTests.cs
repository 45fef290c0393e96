using System.Formats.Cbor;
using System.Text.Json;
using Runnel.Protocol.Cbor;

namespace Runnel.Protocol.Tests;

public class CborTests
{
    [Fact]
    public void Java_sdk_style_request_becomes_the_equivalent_json()
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

        using var doc = JsonDocument.Parse(CborToJson.Transcode(w.Encode()));
        var root = doc.RootElement;
        Assert.Equal("orders", root.GetProperty("StreamName").GetString());
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, root.GetProperty("Data").GetBytesFromBase64());
        Assert.Equal(1_700_000_000.123m, root.GetProperty("Timestamp").GetDecimal());
        Assert.Equal(25, root.GetProperty("Limit").GetInt32());
        Assert.True(root.GetProperty("Flag").GetBoolean());
        Assert.Equal("a", root.GetProperty("Keys")[0].GetString());
    }

    [Fact]
    public void Untagged_integer_timestamps_are_milliseconds_too()
    {
        var w = new CborWriter(CborConformanceMode.Lax);
        w.WriteStartMap(null);
        w.WriteTextString("Timestamp"); w.WriteInt64(1_700_000_000_500);
        w.WriteTextString("Limit"); w.WriteInt64(1_700_000_000_500);
        w.WriteEndMap();
        using var doc = JsonDocument.Parse(CborToJson.Transcode(w.Encode()));
        Assert.Equal(1_700_000_000.5m, doc.RootElement.GetProperty("Timestamp").GetDecimal());
        Assert.Equal(1_700_000_000_500, doc.RootElement.GetProperty("Limit").GetInt64());
    }

    [Theory]
    [InlineData(new byte[] { 0xBF })] // unterminated map
    [InlineData(new byte[] { 0xA1, 0x01, 0x02 })] // integer key
    [InlineData(new byte[] { 0x61 })] // truncated string
    [InlineData(new byte[] { 0xA0, 0xA0 })] // two documents
    [InlineData(new byte[] { 0xA1, 0x61, 0x61, 0x3B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // -2^64: beyond a long
    public void Malformed_cbor_is_rejected(byte[] body) =>
        Assert.Throws<FormatException>(() => CborToJson.Transcode(body));

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
