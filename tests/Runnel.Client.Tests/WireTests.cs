using System.Formats.Cbor;
using Runnel.Client.Internal.Wire;
using Runnel.Protocol.EventStream;
using ClientFormatException = Runnel.Client.Internal.EventStream.EventStreamFormatException;
using EventStreamReader = Runnel.Client.Internal.EventStream.EventStreamReader;

namespace Runnel.Client.Tests;

/// <summary>
/// The client's own codecs: the event-stream reader against messages framed by Runnel's server codec (an independent
/// writer), the smallest message of the format's specification and each kind of damage; timestamps and blobs in CBOR
/// (tag 1 around milliseconds or seconds) and JSON (epoch seconds with a fraction).
/// </summary>
public sealed class WireTests
{
    private static EventStreamReader Reader(params byte[][] messages) => new(new MemoryStream([.. messages.SelectMany(m => m)]));

    [Fact(Timeout = 10_000)]
    public async Task Messages_framed_by_the_servers_codec_are_read_with_every_header_type()
    {
        byte[] payload = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];
        byte[] first = EventStreamCodec.Encode(
        [
            EventStreamHeader.String(":message-type", "event"),
            EventStreamHeader.Boolean("t", true),
            EventStreamHeader.Boolean("f", false),
            EventStreamHeader.Byte("b", -1),
            EventStreamHeader.Short("s", 300),
            EventStreamHeader.Integer("i", 70000),
            EventStreamHeader.Long("l", long.MaxValue),
            EventStreamHeader.ByteArray("a", new byte[] { 1, 2, 3 }),
            EventStreamHeader.Timestamp("ts", DateTimeOffset.UnixEpoch),
            EventStreamHeader.String(":event-type", "SubscribeToShardEvent"),
        ], payload);
        byte[] second = EventStreamCodec.Encode([], []);
        Assert.Equal(Convert.FromHexString("000000100000000005c248eb7d98c8ff"), second); // the specification's smallest message

        var reader = Reader(first, second);
        var message = await reader.ReadAsync(default);
        Assert.NotNull(message);
        Assert.Equal(("event", "SubscribeToShardEvent"), (message.Header(":message-type"), message.Header(":event-type")));
        Assert.Equal(payload, message.Payload);
        var empty = await reader.ReadAsync(default);
        Assert.Equal((0, 0), (empty!.Headers.Count, empty.Payload.Length));
        Assert.Null(await reader.ReadAsync(default));
    }

    [Fact(Timeout = 10_000)]
    public async Task Damaged_and_truncated_messages_are_refused()
    {
        byte[] good = EventStreamCodec.Encode([EventStreamHeader.String(":message-type", "event")], "{}"u8);
        for (int at = 0; at < good.Length; at++)
        {
            byte[] damaged = [.. good];
            damaged[at] ^= 0x10;
            await Assert.ThrowsAsync<ClientFormatException>(async () => await Reader(damaged).ReadAsync(default));
        }
        for (int length = 1; length < good.Length; length++)
            await Assert.ThrowsAsync<ClientFormatException>(async () => await Reader(good[..length]).ReadAsync(default));
    }

    [Fact]
    public void CBOR_timestamps_are_tag_1_milliseconds_or_seconds_and_blobs_byte_strings()
    {
        var cbor = new CborWriter();
        cbor.WriteStartMap(null);
        cbor.WriteTextString("Millis");
        cbor.WriteTag(CborTag.UnixTimeSeconds);
        cbor.WriteInt64(1_700_000_000_123);
        cbor.WriteTextString("Seconds");
        cbor.WriteTag(CborTag.UnixTimeSeconds);
        cbor.WriteDouble(1_700_000_000.5);
        cbor.WriteTextString("Data");
        cbor.WriteByteString([0, 255]);
        cbor.WriteTextString("Big");
        cbor.WriteUInt64(ulong.MaxValue);
        cbor.WriteEndMap();
        var node = CborAnswerReader.Parse(cbor.Encode());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), node.Timestamp("Millis"));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_500), node.Timestamp("Seconds"));
        Assert.Equal(new byte[] { 0, 255 }, node.Blob("Data"));
        Assert.Equal(ulong.MaxValue, node["Big"].Number);

        // What the client writes reads back alike, through the server's reader too (tag 1 integer = milliseconds).
        using var writer = new CborRequestWriter();
        writer.StartObject();
        writer.Timestamp("Timestamp", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
        writer.Blob("Data", [1, 2]);
        writer.EndObject();
        var back = CborAnswerReader.Parse(writer.Body().ToArray());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), back.Timestamp("Timestamp"));
        Assert.Equal(new byte[] { 1, 2 }, back.Blob("Data"));
    }

    [Fact]
    public void A_JSON_body_larger_than_its_first_buffer_grows_in_pooled_arrays_and_keeps_every_byte()
    {
        var blob = new byte[3 * 1024 * 1024 + 7];
        new Random(5).NextBytes(blob);
        using var writer = new JsonRequestWriter(JsonRequestWriter.Json11);
        writer.StartObject();
        writer.String("StreamName", "s");
        writer.Blob("Data", blob);
        writer.String("Long", new string('é', 100));
        writer.String("Escaped", "a\"quoted\" " + new string('x', 100));
        writer.EndObject();
        // Long strings stay slices of the body until read: as bytes (base64) or as text, escaped or not.
        var node = JsonAnswerReader.Parse(writer.Body());
        Assert.Equal("s", node.String("StreamName"));
        Assert.Equal(blob, node.Blob("Data"));
        Assert.Equal(new string('é', 100), node.String("Long"));
        Assert.Equal("a\"quoted\" " + new string('x', 100), node.String("Escaped"));
        Assert.Throws<FormatException>(() => JsonAnswerReader.Parse(System.Text.Encoding.UTF8.GetBytes($"{{\"Data\":\"{new string('A', 99)}!\"}}")).Blob("Data"));
    }

    [Fact]
    public void JSON_timestamps_are_epoch_seconds_with_a_fraction_and_blobs_base64()
    {
        using var writer = new JsonRequestWriter(JsonRequestWriter.Json11);
        writer.StartObject();
        writer.Timestamp("Timestamp", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
        writer.Blob("Data", [0, 255]);
        writer.EndObject();
        Assert.Equal("""{"Timestamp":1700000000.123,"Data":"AP8="}""", System.Text.Encoding.UTF8.GetString(writer.Body().Span));

        var node = JsonAnswerReader.Parse("""{"A":1700000000.123,"B":1.7E9,"Data":"AP8=","List":[1,"x",null,true]}"""u8.ToArray());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), node.Timestamp("A"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), node.Timestamp("B"));
        Assert.Equal(new byte[] { 0, 255 }, node.Blob("Data"));
        Assert.Equal(["x"], node.Strings("List"));
    }
}
