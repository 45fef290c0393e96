using System.Buffers.Binary;
using System.Text;
using Runnel.Protocol.EventStream;

namespace Runnel.Protocol.Tests;

/// <summary>The event-stream framing of SubscribeToShard (docs/formats/eventstream.md): published vectors,
/// round trips of every header type, and every length and checksum failure.</summary>
public class EventStreamTests
{
    // The AWS event-stream test vectors (aws-c-event-stream's encoded messages, as published in several SDKs'
    // tests): an empty message, and one with a content-type header and a JSON-ish payload.
    private const string EmptyMessage = "000000100000000005c248eb7d98c8ff";
    private const string ContentTypeMessage = "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f273a27626172277d8d9c08b1";

    [Fact]
    public void Published_vectors_decode_and_encode_byte_for_byte()
    {
        Assert.True(EventStreamCodec.TryRead(Convert.FromHexString(EmptyMessage), out var empty, out int consumed));
        Assert.Equal(16, consumed);
        Assert.Empty(empty!.Headers);
        Assert.True(empty.Payload.IsEmpty);
        Assert.Equal(EmptyMessage, Convert.ToHexString(EventStreamCodec.Encode([], [])).ToLowerInvariant());

        var bytes = Convert.FromHexString(ContentTypeMessage);
        Assert.True(EventStreamCodec.TryRead(bytes, out var message, out consumed));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal("application/json", message!.Header("content-type"));
        Assert.Equal("{'foo':'bar'}", Encoding.UTF8.GetString(message.Payload.Span));
        var encoded = EventStreamCodec.Encode([EventStreamHeader.String("content-type", "application/json")], "{'foo':'bar'}"u8);
        Assert.Equal(ContentTypeMessage, Convert.ToHexString(encoded).ToLowerInvariant());
    }

    [Fact]
    public void Checksums_are_zlib_CRC32_not_CRC32C()
    {
        Assert.Equal(0xCBF43926u, System.IO.Hashing.Crc32.HashToUInt32("123456789"u8));
        var empty = Convert.FromHexString(EmptyMessage);
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(empty.AsSpan(0, 8)), BinaryPrimitives.ReadUInt32BigEndian(empty.AsSpan(8)));
    }

    [Fact]
    public void Every_header_type_round_trips()
    {
        var uuid = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        EventStreamHeader[] headers =
        [
            EventStreamHeader.Boolean("true", true),
            EventStreamHeader.Boolean("false", false),
            EventStreamHeader.Byte("byte", -7),
            EventStreamHeader.Short("short", -12_345),
            EventStreamHeader.Integer("int", int.MinValue),
            EventStreamHeader.Long("long", long.MaxValue),
            EventStreamHeader.ByteArray("bytes", new byte[] { 0, 1, 2, 255 }),
            EventStreamHeader.String(":event-type", "SubscribeToShardEvent"),
            EventStreamHeader.Timestamp("time", DateTimeOffset.FromUnixTimeMilliseconds(1_764_633_600_123)),
            EventStreamHeader.Uuid("uuid", uuid),
        ];
        var encoded = EventStreamCodec.Encode(headers, "payload"u8);
        Assert.Equal(EventStreamCodec.PreludeBytes + EventStreamCodec.HeadersLength(headers) + 7 + 4, encoded.Length);
        Assert.True(EventStreamCodec.TryRead(encoded, out var message, out _, enforceServiceLimits: true));
        Assert.Equal(headers.Length, message!.Headers.Count);
        for (int i = 0; i < headers.Length; i++)
        {
            Assert.Equal(headers[i].Name, message.Headers[i].Name);
            Assert.Equal(headers[i].Type, message.Headers[i].Type);
            Assert.Equal(headers[i].Number, message.Headers[i].Number);
            Assert.Equal(headers[i].Text, message.Headers[i].Text);
            Assert.Equal(headers[i].Bytes.ToArray(), message.Headers[i].Bytes.ToArray());
        }
        Assert.Equal("payload", Encoding.UTF8.GetString(message.Payload.Span));
    }

    [Fact]
    public void A_stream_of_messages_is_read_one_by_one_and_every_prefix_asks_for_more()
    {
        var one = EventStreamCodec.Encode([EventStreamHeader.String(":message-type", "event")], "first"u8);
        var two = EventStreamCodec.Encode([EventStreamHeader.String(":message-type", "event")], "second"u8);
        byte[] stream = [.. one, .. two];
        for (int prefix = 0; prefix < one.Length; prefix++)
            Assert.False(EventStreamCodec.TryRead(stream.AsSpan(0, prefix), out _, out _));
        Assert.True(EventStreamCodec.TryRead(stream, out var first, out int consumed));
        Assert.True(EventStreamCodec.TryRead(stream.AsSpan(consumed), out var second, out _));
        Assert.Equal("first", Encoding.UTF8.GetString(first!.Payload.Span));
        Assert.Equal("second", Encoding.UTF8.GetString(second!.Payload.Span));
    }

    public static TheoryData<string, int, byte, string> Damages => new()
    {
        // name, byte to change, XOR mask, what the error says
        { "total length", 3, 0x01, "Prelude checksum" },
        { "headers length", 7, 0x01, "Prelude checksum" },
        { "prelude crc", 11, 0x01, "Prelude checksum" },
        { "a header byte", 14, 0x01, "Message checksum" },
        { "the payload", 62, 0x20, "Message checksum" },
        { "message crc", 87, 0x80, "Message checksum" }, // the last byte of the 88-byte message
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_damaged_byte_is_refused_by_the_checksum_that_covers_it(string what, int at, byte mask, string error)
    {
        var bytes = EventStreamCodec.Encode([EventStreamHeader.String(":event-type", "SubscribeToShardEvent"), EventStreamHeader.String(":message-type", "event")], "{\"Records\":[]}"u8);
        Assert.Equal(88, bytes.Length);
        Assert.True(at < bytes.Length, what);
        bytes[at] ^= mask;
        var e = Assert.Throws<EventStreamFormatException>(() => EventStreamCodec.TryRead(bytes, out _, out _));
        Assert.StartsWith(error, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(15, 0, "shorter than the 16-byte minimum")]
    [InlineData(20, 5, "do not fit in a message")]
    public void Impossible_lengths_with_a_valid_prelude_checksum_are_refused(uint total, uint headers, string error)
    {
        var bytes = new byte[Math.Max(total, 16)];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, total);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), headers);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, 8)));
        var e = Assert.Throws<EventStreamFormatException>(() => EventStreamCodec.TryRead(bytes, out _, out _));
        Assert.Contains(error, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00", "name of length 0")]
    [InlineData("0161", "runs past the end")]
    [InlineData("01610a", "unknown value type 10")]
    [InlineData("0161070005616263", "runs past the end")]
    public void Malformed_headers_are_refused(string headersHex, string error)
    {
        var bytes = WithHeaders(Convert.FromHexString(headersHex));
        var e = Assert.Throws<EventStreamFormatException>(() => EventStreamCodec.TryRead(bytes, out _, out _));
        Assert.Contains(error, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Service_limits_bind_the_writer_and_a_reader_only_when_asked()
    {
        var big = new byte[EventStreamCodec.MaxPayloadBytes + 1];
        Assert.Throws<ArgumentException>(() => EventStreamCodec.Encode([], big));
        var manyHeaders = Enumerable.Range(0, 5).Select(i => EventStreamHeader.ByteArray("h" + i, new byte[30_000])).ToArray();
        Assert.Throws<ArgumentException>(() => EventStreamCodec.Encode(manyHeaders, []));

        // A message over the payload limit, framed by hand: a client reads it, a service refuses it.
        var bytes = new byte[EventStreamCodec.MinMessageBytes + big.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, 8)));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(bytes.Length - 4), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)));
        Assert.True(EventStreamCodec.TryRead(bytes, out var message, out _));
        Assert.Equal(big.Length, message!.Payload.Length);
        Assert.Throws<EventStreamFormatException>(() => EventStreamCodec.TryRead(bytes, out _, out _, enforceServiceLimits: true));
    }

    /// <summary>A message with these raw header bytes and valid checksums.</summary>
    private static byte[] WithHeaders(byte[] headers)
    {
        var bytes = new byte[EventStreamCodec.MinMessageBytes + headers.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), (uint)headers.Length);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, 8)));
        headers.CopyTo(bytes, 12);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(bytes.Length - 4), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;
    }
}
