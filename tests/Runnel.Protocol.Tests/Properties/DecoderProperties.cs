using System.Text;
using System.Text.Json;
using CsCheck;
using Runnel.Protocol.EventStream;
using Runnel.Protocol.Requests;

namespace Runnel.Protocol.Tests.Properties;

/// <summary>
/// Bad input at scale, for the decoders every request passes through: random bytes and mutations of valid bodies
/// (bits flipped, bytes inserted, removed, truncated) are either read or refused with the one exception type the
/// endpoint turns into AWS's error; nothing else is thrown, nothing hangs, and what is read can be walked whole.
/// Event-stream messages round-trip, and damaged ones are refused. CsCheck prints the seed of a failure to replay.
/// </summary>
public sealed class DecoderProperties
{
    private static readonly byte[][] ValidJson =
    [
        """{"StreamName":"orders","ShardCount":2,"Tags":{"a":"b"}}"""u8.ToArray(),
        """{"Records":[{"Data":"AAEC","PartitionKey":"k","ExplicitHashKey":"170141183460469231731687303715884105728"}],"StreamName":"s"}"""u8.ToArray(),
        """{"ShardIterator":"AQAAAaJE3Hy5AAAAAAAAAAEAAAAAAAAAAAAAAAIBZcM1oWhZdAJRwThsOQ1KtN4=","Limit":10000}"""u8.ToArray(),
        """{"StartingPosition":{"Type":"AT_TIMESTAMP","Timestamp":1.7e9},"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1"}"""u8.ToArray(),
    ];

    private static readonly byte[][] ValidCbor =
    [
        // {"StreamName": "orders", "ShardCount": 2}
        [0xA2, 0x6A, .. "StreamName"u8, 0x66, .. "orders"u8, 0x6A, .. "ShardCount"u8, 0x02],
        // {"Records": [{"Data": h'000102', "PartitionKey": "k"}], "StreamName": "s"} with an indefinite map inside
        [0xA2, 0x67, .. "Records"u8, 0x81, 0xBF, 0x64, .. "Data"u8, 0x43, 0, 1, 2, 0x6C, .. "PartitionKey"u8, 0x61, (byte)'k', 0xFF, 0x6A, .. "StreamName"u8, 0x61, (byte)'s'],
        // {"Timestamp": 1(1700000000)} and a float
        [0xA2, 0x69, .. "Timestamp"u8, 0xC1, 0x1A, 0x65, 0x53, 0xF1, 0x00, 0x65, .. "Limit"u8, 0xFB, 0x40, 0x59, 0, 0, 0, 0, 0, 0],
    ];

    /// <summary>A body: random bytes, or a valid one mutated up to eight times.</summary>
    private static Gen<byte[]> Bodies(byte[][] valid) => Gen.Frequency(
        (1, Gen.Byte.Array[0, 300]),
        (3, Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Select(Gen.Int[0, 3], Gen.Int, Gen.Byte).Array[1, 8], (i, edits) => Mutate(valid[i], edits))));

    private static byte[] Mutate(byte[] body, (int Kind, int At, byte Value)[] edits)
    {
        var bytes = new List<byte>(body);
        foreach (var (kind, at, value) in edits)
        {
            int position = bytes.Count == 0 ? 0 : (int)((uint)at % (uint)bytes.Count);
            switch (kind)
            {
                case 0 when bytes.Count > 0: bytes[position] ^= (byte)(1 << (value & 7)); break;
                case 1: bytes.Insert(position, value); break;
                case 2 when bytes.Count > 0: bytes.RemoveAt(position); break;
                case 3: bytes.RemoveRange(position, bytes.Count - position); break;
            }
        }
        return [.. bytes];
    }

    /// <summary>Reads a body as the endpoint does: a document, or null for a refusal the endpoint answers as SerializationException.</summary>
    private static RequestDocument? Read(byte[] body, bool cbor)
    {
        try
        {
            return cbor ? RequestDocument.ParseCbor(body) : RequestDocument.ParseJson(body);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return null;
        }
    }

    [Fact]
    public void JSON_bodies_are_read_or_refused_and_never_throw_anything_else() =>
        Bodies(ValidJson).Sample(body =>
        {
            using var document = Read(body, cbor: false);
            if (document is not null)
                _ = document.Root.GetRawText(); // walk every node
        }, iter: Iterations.Count);

    [Fact]
    public void CBOR_bodies_are_read_or_refused_and_never_throw_anything_else() =>
        Bodies(ValidCbor).Sample(body =>
        {
            using var document = Read(body, cbor: true);
            if (document is not null)
                _ = document.Root.GetRawText();
        }, iter: Iterations.Count);

    /// <summary>Bodies whose heads claim far more than they hold: CBOR strings, arrays and maps of 2^32 and 2^63 items,
    /// JSON strings and arrays left open; a decoder that sized anything by a claim would allocate it.</summary>
    private static readonly Gen<(byte[] Body, bool Cbor)> Claims = Gen.Frequency(
        (1, Gen.Select(Gen.Int[0, 7].Select(i => new byte[] { 0x5A, 0x5B, 0x7A, 0x7B, 0x9A, 0x9B, 0xBA, 0xBB }[i]), Gen.Byte.Array[0, 40], (head, rest) =>
            ((byte[])[0xA1, 0x64, .. "Data"u8, head, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, .. rest], true))),
        (1, Gen.Select(Gen.Int[1, 2000], Gen.Bool, (n, quote) =>
            (Encoding.UTF8.GetBytes("{\"Data\":" + (quote ? "\"" + new string('A', n) : new string('[', Math.Min(n, 60)))), false))));

    /// <summary>What reading a body may allocate at most (the pooled node and side arrays, an exception and its
    /// message): a fixed allowance and a bounded amount per byte of the body, never what the body claims.</summary>
    private static long AllocationBound(int bodyLength) => 64 * 1024 + 64L * bodyLength;

    [Fact]
    public void Reading_a_body_allocates_in_proportion_to_its_size_never_to_what_it_claims() =>
        Gen.Frequency((2, Bodies(ValidJson).Select(b => (b, false))), (2, Bodies(ValidCbor).Select(b => (b, true))), (1, Claims)).Sample(t =>
        {
            Read(t.Item1, t.Item2)?.Dispose(); // the pools have their arrays after the first reads
            long before = GC.GetAllocatedBytesForCurrentThread();
            Read(t.Item1, t.Item2)?.Dispose();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= AllocationBound(t.Item1.Length), $"{allocated} bytes allocated reading a {t.Item1.Length}-byte {(t.Item2 ? "CBOR" : "JSON")} body");
        }, iter: Iterations.Count);

    [Fact]
    public void The_valid_bodies_themselves_are_read()
    {
        foreach (var body in ValidJson)
            Assert.NotNull(Read(body, cbor: false));
        foreach (var body in ValidCbor)
            Assert.NotNull(Read(body, cbor: true));
    }

    private static readonly Gen<EventStreamHeader> Headers = Gen.Frequency(
        (3, Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 20], Gen.String[Gen.Char.AlphaNumeric, 0, 40], EventStreamHeader.String)),
        (1, Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 20], Gen.Bool, EventStreamHeader.Boolean)),
        (1, Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 20], Gen.Int, EventStreamHeader.Integer)));

    [Fact]
    public void Event_stream_messages_round_trip_and_damaged_ones_are_refused() =>
        Gen.Select(Headers.Array[0, 6], Gen.Byte.Array[0, 2000], Gen.Int, (headers, payload, at) => (headers, payload, at)).Sample(t =>
        {
            byte[] message = EventStreamCodec.Encode(t.headers, t.payload);
            Assert.True(EventStreamCodec.TryRead(message, out var read, out int consumed));
            Assert.Equal(message.Length, consumed);
            Assert.Equal(t.payload, read!.Payload.ToArray());
            Assert.Equal(t.headers.Select(h => h.Name), read.Headers.Select(h => h.Name));

            // Any one bit flipped: refused as not a message (a CRC covers every byte), or taken for a longer one.
            var damaged = (byte[])message.Clone();
            int position = (int)((uint)t.at % (uint)damaged.Length);
            damaged[position] ^= (byte)(1 << (t.at & 7));
            try
            {
                if (EventStreamCodec.TryRead(damaged, out var wrong, out _))
                    Assert.Fail($"a message with bit {t.at & 7} of byte {position} flipped was read as {wrong!.Payload.Length} payload bytes");
            }
            catch (EventStreamFormatException)
            {
            }
        }, iter: Iterations.Count);

    [Fact]
    public void Random_bytes_are_never_taken_for_an_event_stream_message_without_their_checksums() =>
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            try
            {
                if (EventStreamCodec.TryRead(bytes, out _, out int consumed))
                    Assert.InRange(consumed, 16, bytes.Length);
            }
            catch (EventStreamFormatException)
            {
            }
        }, iter: Iterations.Count);
}
