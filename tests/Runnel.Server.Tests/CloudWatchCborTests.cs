using System.Formats.Cbor;
using System.Text;
using Runnel.Server.CloudWatch;

namespace Runnel.Server.Tests;

/// <summary>
/// CloudWatch's RPC v2 CBOR translation: a request's CBOR read as the JSON 1.0 document the operations read (tag-1
/// timestamps as epoch seconds, botocore's truncated integers and the JS SDK's fractions alike), and a JSON 1.0 answer
/// written as CBOR (timestamps tagged, AWS's doubles as doubles, counts as integers).
/// </summary>
public sealed class CloudWatchCborTests
{
    [Fact]
    public void A_requests_cbor_reads_as_json_with_timestamps_as_epoch_seconds()
    {
        var cbor = new CborWriter();
        cbor.WriteStartMap(4);
        cbor.WriteTextString("StartTime");
        cbor.WriteTag(CborTag.UnixTimeSeconds);
        cbor.WriteUInt32(0x69db6d20); // botocore's bytes for 2026-04-12T10:00Z
        cbor.WriteTextString("EndTime");
        cbor.WriteTag(CborTag.UnixTimeSeconds);
        cbor.WriteDouble(1775991600.5);
        cbor.WriteTextString("Statistics");
        cbor.WriteStartArray(1);
        cbor.WriteTextString("Sum");
        cbor.WriteEndArray();
        cbor.WriteTextString("Unit");
        cbor.WriteSimpleValue(CborSimpleValue.Undefined);
        cbor.WriteEndMap();
        string json = Encoding.UTF8.GetString(CborEndpoint.ToJson(cbor.Encode()));
        Assert.Equal("""{"StartTime":1775988000,"EndTime":1775991600.5,"Statistics":["Sum"],"Unit":null}""", json);
        Assert.Equal("{}", Encoding.UTF8.GetString(CborEndpoint.ToJson(ReadOnlyMemory<byte>.Empty)));
        var error = Assert.Throws<CloudWatchException>(() => CborEndpoint.ToJson(new byte[] { 0xa1, 0x61 }));
        Assert.Equal("SerializationException", error.Code);
    }

    [Fact]
    public void A_json_answer_writes_as_cbor_with_tagged_timestamps()
    {
        byte[] cbor = CborEndpoint.ToCbor(Encoding.UTF8.GetBytes("""{"Datapoints":[{"Timestamp":1775988000,"Sum":42.0,"SampleCount":3.0,"Unit":"Count"}],"Label":"x","Timestamps":[1.5],"Period":60}"""));
        var reader = new CborReader(cbor);
        reader.ReadStartMap();
        Assert.Equal("Datapoints", reader.ReadTextString());
        reader.ReadStartArray();
        reader.ReadStartMap();
        Assert.Equal("Timestamp", reader.ReadTextString());
        Assert.Equal(CborTag.UnixTimeSeconds, reader.ReadTag());
        Assert.Equal(1775988000L, reader.ReadInt64());
        Assert.Equal("Sum", reader.ReadTextString());
        Assert.Equal(CborReaderState.DoublePrecisionFloat, reader.PeekState());
        Assert.Equal(42.0, reader.ReadDouble());
        Assert.Equal("SampleCount", reader.ReadTextString());
        Assert.Equal(3.0, reader.ReadDouble());
        Assert.Equal("Unit", reader.ReadTextString());
        Assert.Equal("Count", reader.ReadTextString());
        reader.ReadEndMap();
        reader.ReadEndArray();
        Assert.Equal("Label", reader.ReadTextString());
        Assert.Equal("x", reader.ReadTextString());
        Assert.Equal("Timestamps", reader.ReadTextString());
        reader.ReadStartArray();
        Assert.Equal(CborTag.UnixTimeSeconds, reader.ReadTag());
        Assert.Equal(1.5, reader.ReadDouble());
        reader.ReadEndArray();
        Assert.Equal("Period", reader.ReadTextString());
        Assert.Equal(CborReaderState.UnsignedInteger, reader.PeekState());
        Assert.Equal(60, reader.ReadInt32());
        reader.ReadEndMap();
    }
}
