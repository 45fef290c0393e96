using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Runnel.Bench.Kinesis;

namespace Runnel.Bench.Tests;

/// <summary>
/// The load generator's HTTP/2 receiving side reads runs of DATA frames straight into the answers they belong to,
/// guessing that the next frame continues the same stream (<see cref="H2cReceiver"/>). Every guess that fails must
/// leave the bytes to be parsed as usual: frames of streams taking turns, short frames, padded ones, control frames
/// between them, the stream's end in the middle of a run, and all of it arriving in pieces of any size.
/// </summary>
public class H2cReceiverTests
{
    private const int Full = 16_384;

    [Theory]
    [InlineData(1, 1 << 20)]   // whole frames at once, answers with room to read ahead into
    [InlineData(2, 4096)]      // small pieces, answers that must grow (no room to read ahead)
    [InlineData(3, 37)]        // tiny pieces: reads that end inside headers and payloads
    [InlineData(4, 200_000)]
    public async Task Interleaved_frames_arriving_in_pieces_land_in_their_answers(int seed, int piece)
    {
        var random = new Random(seed);
        var (wire, expected, dataBytes) = Frames(random);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();
        server.NoDelay = true;

        var sending = Task.Run(async () =>
        {
            for (int at = 0; at < wire.Length;)
            {
                int n = Math.Min(wire.Length - at, 1 + random.Next(piece));
                await server.SendAsync(wire.AsMemory(at, n), SocketFlags.None);
                at += n;
                if (random.Next(64) == 0)
                    await Task.Delay(1); // let the reader catch up: its reads then end inside a frame
            }
        });

        var receiver = new H2cReceiver(client);
        var answers = expected.Keys.ToDictionary(id => id, id => new Answer(id == 3 ? 0 : 64 * 1024));
        long counted = 0;
        async Task ReadAllAsync()
        {
            var ended = new HashSet<int>();
            var header = new byte[H2cReceiver.FrameHeader];
            while (ended.Count < expected.Count)
            {
                await receiver.ReadExactlyAsync(header);
                int length = (header[0] << 16) | (header[1] << 8) | header[2];
                byte type = header[3], flags = header[4];
                int id = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5));
                if (type != 0)
                {
                    await receiver.ReadExactlyAsync(new byte[length]);
                    continue;
                }
                Assert.DoesNotContain(id, ended);
                bool end = (flags & 0x1) != 0;
                if ((flags & 0x8) != 0)
                {
                    var pad = new byte[1];
                    await receiver.ReadExactlyAsync(pad);
                    await receiver.ReadExactlyAsync(answers[id].Reserve(length - 1 - pad[0]));
                    await receiver.ReadExactlyAsync(new byte[pad[0]]);
                    counted += length;
                }
                else
                {
                    var (bytes, streamEnded) = await receiver.ReadDataAsync(answers[id], id, length, end);
                    counted += bytes;
                    end = streamEnded;
                }
                if (end)
                    ended.Add(id);
            }
        }
        await ReadAllAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await sending;

        Assert.Equal(dataBytes, counted);
        foreach (var (id, bytes) in expected)
            Assert.Equal(bytes, answers[id].Bytes.ToArray());
    }

    /// <summary>
    /// Three streams' DATA frames, mostly full-sized runs of one stream, with the other streams' frames, short
    /// frames, padded frames and PINGs between them, each stream ending with END_STREAM; and what each stream's
    /// answer must hold, and the DATA payload bytes in all (padding included, as flow control counts them).
    /// </summary>
    private static (byte[] Wire, Dictionary<int, byte[]> Expected, long DataBytes) Frames(Random random)
    {
        var wire = new MemoryStream();
        var expected = new Dictionary<int, MemoryStream> { [1] = new(), [3] = new(), [5] = new() };
        var left = new Dictionary<int, int> { [1] = 40, [3] = 25, [5] = 10 }; // frames before each stream's last
        long dataBytes = 0;
        int current = 1;
        while (left.Count > 0)
        {
            if (!left.ContainsKey(current) || random.Next(6) == 0)
                current = left.Keys.ElementAt(random.Next(left.Count));
            if (random.Next(15) == 0)
                Frame(wire, 6, 0, 0, new byte[8]); // a PING
            bool last = --left[current] == 0;
            int kind = random.Next(10);
            int length = kind switch { 0 => random.Next(Full), 1 => 0, _ => Full };
            var data = new byte[length];
            random.NextBytes(data);
            byte flags = last ? (byte)0x1 : (byte)0;
            if (kind == 2 && length > 300)
            {
                // Padded: a pad length byte, the data less what the padding takes, the padding.
                int pad = random.Next(1, 256);
                data[0] = (byte)pad;
                expected[current].Write(data, 1, length - 1 - pad);
                Frame(wire, 0, (byte)(flags | 0x8), current, data);
            }
            else
            {
                expected[current].Write(data);
                Frame(wire, 0, flags, current, data);
            }
            dataBytes += length;
            if (last)
                left.Remove(current);
        }
        return (wire.ToArray(), expected.ToDictionary(e => e.Key, e => e.Value.ToArray()), dataBytes);
    }

    private static void Frame(MemoryStream wire, byte type, byte flags, int streamId, byte[] payload)
    {
        var header = new byte[H2cReceiver.FrameHeader];
        header[0] = (byte)(payload.Length >> 16);
        header[1] = (byte)(payload.Length >> 8);
        header[2] = (byte)payload.Length;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(5), streamId);
        wire.Write(header);
        wire.Write(payload);
    }

    /// <summary>An answer's buffer with the room to read ahead into that the connection's would have, or none.</summary>
    private sealed class Answer : AnswerBuffer
    {
        public Answer(int capacity) => EnsureCapacity(capacity);

        public ReadOnlySpan<byte> Bytes => Body;
    }
}
