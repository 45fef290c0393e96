using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// Where a stream's answer is gathered, in one array rented from <see cref="ArrayPool{T}.Shared"/>: grown by doubling
/// when a payload does not fit, with its free room past what was written open to <see cref="H2cReceiver"/>'s reads
/// ahead. The read loop's alone until the answer is taken.
/// </summary>
internal class AnswerBuffer
{
    private byte[] _body = [];
    private int _length;

    /// <summary>Bytes of the body written so far.</summary>
    public int Length => _length;

    public ReadOnlySpan<byte> Body => _body.AsSpan(0, _length);

    /// <summary>Makes room for <paramref name="size"/> bytes in all (an answer that said its length).</summary>
    public void EnsureCapacity(int size)
    {
        if (_body.Length < size)
            Grow(size);
    }

    /// <summary>Room for the next <paramref name="count"/> bytes of the body, grown if need be; they count as written.</summary>
    public Memory<byte> Reserve(int count)
    {
        if (_length + count > _body.Length)
            Grow(_body.Length == 0 ? FirstSize(count) : Math.Max(_length + count, _body.Length * 2));
        var room = _body.AsMemory(_length, count);
        _length += count;
        return room;
    }

    /// <summary>Up to <paramref name="max"/> bytes of the buffer's free room, starting <paramref name="skip"/> bytes
    /// past what was written; empty when there is no such room. Nothing counts as written until <see cref="Written"/>.</summary>
    public ArraySegment<byte> FreeRoom(int skip, int max)
    {
        int from = _length + skip;
        return from >= _body.Length ? default : new ArraySegment<byte>(_body, from, Math.Min(max, _body.Length - from));
    }

    /// <summary>The next <paramref name="count"/> bytes of the free room hold body bytes now.</summary>
    public void Written(int count) => _length += count;

    /// <summary>The first array's size, for a first payload of <paramref name="count"/> bytes.</summary>
    protected virtual int FirstSize(int count) => count;

    /// <summary>Hands the array (at least 256 bytes) and the body's length over; the buffer starts empty again.</summary>
    protected (byte[] Body, int Length) Take()
    {
        var taken = (_body.Length > 0 ? _body : ArrayPool<byte>.Shared.Rent(256), _length);
        _body = [];
        _length = 0;
        return taken;
    }

    private void Grow(int size)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(size, 256));
        _body.AsSpan(0, _length).CopyTo(larger);
        if (_body.Length > 0)
            ArrayPool<byte>.Shared.Return(_body);
        _body = larger;
    }
}

/// <summary>
/// The receiving side of an <see cref="H2cConnection"/>: frame headers and control frames through a buffer, and
/// DATA payloads straight from the socket into the answer they belong to, as HttpClient reads an HTTP/1.1 answer
/// whose length it knows. A server sends a large answer as a run of full-sized DATA frames of one stream, so while
/// a payload is read the next frames are read too, each frame header into a slot of its own and each payload into
/// the answer's buffer right after the one before: one receive, no copy. When a header turns out to belong to
/// another stream or another frame type, or its frame is shorter, the bytes read past it go into the buffer and are
/// parsed as usual. Before this the connection read through a 64 KiB BufferedStream, and every byte of an answer was
/// copied once more: 8.8% of the load generator's samples in an h2c drain, a copy HTTP/1.1 does not pay
/// (docs/benchmarks.md). Used by the connection's read loop only: not thread-safe.
/// </summary>
internal sealed class H2cReceiver(Socket socket)
{
    public const int FrameHeader = 9;
    private const byte DataType = 0x0, EndStreamFlag = 0x1, PaddedFlag = 0x8;

    /// <summary>The DATA payloads a server sends this client are at most this long: SETTINGS_MAX_FRAME_SIZE, which it leaves at the default.</summary>
    private const int FrameBytes = 16_384;

    /// <summary>Frames read ahead at once, each into the answer's buffer.</summary>
    private const int AheadFrames = 8;

    private readonly byte[] _buffer = new byte[(AheadFrames + 1) * (FrameHeader + FrameBytes) + (64 * 1024)];
    private readonly byte[][] _headers = [.. Enumerable.Range(0, AheadFrames).Select(_ => new byte[FrameHeader])];
    private readonly List<ArraySegment<byte>> _segments = new(1 + (2 * AheadFrames));
    private readonly ArraySegment<byte>[] _ahead = new ArraySegment<byte>[AheadFrames];
    private int _start, _end;

    /// <summary>Fills <paramref name="destination"/> from the buffer, and from the socket when the buffer runs out.</summary>
    public async ValueTask ReadExactlyAsync(Memory<byte> destination)
    {
        while (destination.Length > 0)
        {
            if (_start == _end)
                await FillAsync().ConfigureAwait(false);
            int n = Math.Min(destination.Length, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(destination.Span);
            _start += n;
            destination = destination[n..];
        }
    }

    /// <summary>
    /// Reads the payload of a DATA frame of <paramref name="streamId"/> (<paramref name="length"/> bytes, not padded)
    /// into <paramref name="answer"/>, and following DATA frames of the same stream while they come in one run.
    /// Returns the payload bytes of every frame read (for the connection's window) and whether one of them ended the
    /// stream; what follows the last one is left for <see cref="ReadExactlyAsync"/>.
    /// </summary>
    public async ValueTask<(long Bytes, bool Ended)> ReadDataAsync(AnswerBuffer answer, int streamId, int length, bool endStream)
    {
        long bytes = length;
        var pending = answer.Reserve(length);
        bool ended = endStream;
        while (true)
        {
            if (pending.Length > 0 && _start < _end)
            {
                // What the buffer already holds of the payload.
                int n = Math.Min(pending.Length, _end - _start);
                _buffer.AsSpan(_start, n).CopyTo(pending.Span);
                _start += n;
                pending = pending[n..];
                continue;
            }
            if (pending.Length == 0 && (ended || _start < _end))
                return (bytes, ended);

            // The buffer is empty: the rest of this payload, then the frames after it, read in place.
            _start = _end = 0;
            _segments.Clear();
            if (pending.Length > 0)
                _segments.Add(Segment(pending));
            int frames = 0;
            if (!ended)
            {
                for (int skip = 0; frames < AheadFrames; frames++, skip += FrameBytes)
                {
                    var room = answer.FreeRoom(skip, FrameBytes);
                    if (room.Count < FrameBytes)
                        break;
                    _ahead[frames] = room;
                    _segments.Add(_headers[frames]);
                    _segments.Add(room);
                }
            }
            if (_segments.Count == 0)
                return (bytes, ended); // no room to read ahead into: the next frame comes through the buffer
            int received = await socket.ReceiveAsync(_segments, SocketFlags.None).ConfigureAwait(false);
            if (received == 0)
                throw new EndOfStreamException("the server closed the connection");
            int used = Math.Min(received, pending.Length);
            pending = pending[used..];
            received -= used;
            for (int frame = 0; frame < frames && received > 0; frame++)
            {
                var header = _headers[frame];
                int got = Math.Min(received, FrameHeader);
                received -= got;
                if (got < FrameHeader)
                {
                    Keep(header.AsSpan(0, got));
                    break;
                }
                int frameLength = (header[0] << 16) | (header[1] << 8) | header[2];
                byte type = header[3], flags = header[4];
                int id = (int)(BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(5)) & 0x7FFF_FFFF);
                int payload = Math.Min(received, FrameBytes);
                received -= payload;
                if (type != DataType || id != streamId || (flags & PaddedFlag) != 0 || frameLength > FrameBytes)
                {
                    // Not the run of this stream's data: this frame and everything read after it are parsed as usual.
                    Keep(header);
                    Keep(_ahead[frame].AsSpan(0, payload));
                    KeepAhead(frame + 1, frames, received);
                    break;
                }
                bytes += frameLength;
                ended = (flags & EndStreamFlag) != 0;
                int mine = Math.Min(payload, frameLength);
                answer.Written(mine);
                if (mine < frameLength)
                {
                    pending = answer.Reserve(frameLength - mine); // the read ended inside this payload
                    break;
                }
                if (payload > frameLength || ended)
                {
                    // A shorter frame, or the stream's last: what was read past it belongs to the frames after.
                    Keep(_ahead[frame].AsSpan(frameLength, payload - frameLength));
                    KeepAhead(frame + 1, frames, received);
                    break;
                }
            }
        }
    }

    /// <summary>Moves the bytes read into the slots after <paramref name="from"/> (<paramref name="count"/> of them, in
    /// order: header, payload, header...) into the buffer.</summary>
    private void KeepAhead(int from, int frames, int count)
    {
        for (int frame = from; frame < frames && count > 0; frame++)
        {
            int got = Math.Min(count, FrameHeader);
            Keep(_headers[frame].AsSpan(0, got));
            count -= got;
            int payload = Math.Min(count, FrameBytes);
            Keep(_ahead[frame].AsSpan(0, payload));
            count -= payload;
        }
    }

    /// <summary>Appends bytes that were read ahead to the buffer (empty whenever a read ahead begins).</summary>
    private void Keep(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.AsSpan(_end));
        _end += bytes.Length;
    }

    private async ValueTask FillAsync()
    {
        _start = _end = 0;
        int received = await socket.ReceiveAsync(_buffer.AsMemory(0, 64 * 1024), SocketFlags.None).ConfigureAwait(false);
        if (received == 0)
            throw new EndOfStreamException("the server closed the connection");
        _end = received;
    }

    private static ArraySegment<byte> Segment(Memory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(memory, out var segment)
            ? segment
            : throw new InvalidOperationException("an answer's buffer is an array");
}
