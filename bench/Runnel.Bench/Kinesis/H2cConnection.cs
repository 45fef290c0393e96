using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// A lean HTTP/2 client connection (h2c with prior knowledge, RFC 9113) for the load generator: many requests in
/// flight on one connection, each answered into one pooled buffer. It exists because .NET's HttpClient spends
/// about twice the CPU per byte on an HTTP/2 answer that it spends over HTTP/1.1 (a copy and a wake-up per 16 KiB
/// frame); on a machine whose two cores the load generator shares with the server, that took the server's CPU and
/// measured the client (docs/benchmarks.md). It reads DATA frames into the answer's buffer directly
/// (<see cref="H2cReceiver"/>). What it sends is what the SDKs send: 16 KiB frames at most (it does not raise
/// SETTINGS_MAX_FRAME_SIZE), HPACK literals; it gives the server windows as large as HTTP/2 allows, so
/// the server never waits for a WINDOW_UPDATE, and honours the server's windows for request bodies. No TLS, no
/// push (disabled), no priorities. Thread-safe.
/// </summary>
public sealed class H2cConnection : IAsyncDisposable
{
    private const int FrameHeader = 9;
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, PushPromise = 0x5, Ping = 0x6, GoAway = 0x7,
        WindowUpdate = 0x8, Continuation = 0x9;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;
    private const int MaxWindow = int.MaxValue; // 2^31 - 1, the largest window HTTP/2 allows
    private const long ConnectionWindowRefill = 256L << 20;
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly H2cReceiver _input;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _state = new(); // streams, windows, settings
    private readonly Dictionary<int, H2Stream> _streams = [];
    private readonly HpackDecoder _hpack = new();
    private readonly Task _reader;
    private int _nextStreamId = 1;
    private long _connectionSendWindow = 65_535;
    private int _initialStreamSendWindow = 65_535;
    private int _maxFrameSize = 16_384;
    private int _maxConcurrentStreams = int.MaxValue;
    private long _receivedSinceRefill;
    private TaskCompletionSource _windowOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;

    private H2cConnection(Socket socket)
    {
        _socket = socket;
        _network = new NetworkStream(socket, ownsSocket: true);
        _input = new H2cReceiver(socket);
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>True until the connection failed or the server sent GOAWAY; then a new one is needed.</summary>
    public bool IsUsable => Volatile.Read(ref _failure) is null;

    public static async Task<H2cConnection> ConnectAsync(Uri endpoint, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint.Host, endpoint.Port, cancellation).ConfigureAwait(false);
            // The preface, our SETTINGS (no push, the largest stream window) and the connection window opened wide.
            var hello = new byte[Preface.Length + FrameHeader + 12 + FrameHeader + 4];
            Preface.CopyTo(hello, 0);
            int at = Preface.Length;
            WriteFrameHeader(hello.AsSpan(at), 12, Settings, 0, 0);
            at += FrameHeader;
            BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(at), 0x2); // SETTINGS_ENABLE_PUSH
            BinaryPrimitives.WriteUInt32BigEndian(hello.AsSpan(at + 2), 0);
            BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(at + 6), 0x4); // SETTINGS_INITIAL_WINDOW_SIZE
            BinaryPrimitives.WriteUInt32BigEndian(hello.AsSpan(at + 8), MaxWindow);
            at += 12;
            WriteFrameHeader(hello.AsSpan(at), 4, WindowUpdate, 0, 0);
            BinaryPrimitives.WriteUInt32BigEndian(hello.AsSpan(at + FrameHeader), MaxWindow - 65_535);
            await socket.SendAsync(hello, cancellation).ConfigureAwait(false);
            return new H2cConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a POST to "/" with the given headers (lower-case names, as HTTP/2 requires) and body, and waits for the
    /// whole answer. The answer's body is in a buffer rented from <see cref="ArrayPool{T}.Shared"/>, which the
    /// <see cref="KinesisResponse"/> returns.
    /// </summary>
    public async Task<KinesisResponse> PostAsync(string authority, IReadOnlyList<(string Name, string Value)> headers, ReadOnlyMemory<byte> body,
        BodySizeHints hints, string operation, CancellationToken cancellation)
    {
        var block = HeaderBlock(authority, headers, body.Length);
        var stream = new H2Stream(hints.For(operation));
        await _writeLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            lock (_state)
            {
                ThrowIfFailed();
                if (_streams.Count >= _maxConcurrentStreams)
                    throw new InvalidOperationException($"more than the server's {_maxConcurrentStreams} concurrent streams in flight on one connection");
                stream.Id = _nextStreamId;
                _nextStreamId += 2;
                stream.SendWindow = _initialStreamSendWindow;
                _streams.Add(stream.Id, stream);
            }
            await WriteHeadersAsync(stream.Id, block, endStream: body.IsEmpty, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }

        using var cancel = cancellation.Register(() => stream.Fail(new OperationCanceledException(cancellation)));
        for (int sent = 0; sent < body.Length;)
        {
            int allowed = await ReserveSendWindowAsync(stream, body.Length - sent, cancellation).ConfigureAwait(false);
            await _writeLock.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                await WriteDataAsync(stream.Id, body.Slice(sent, allowed), endStream: sent + allowed == body.Length, cancellation).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
            sent += allowed;
        }
        try
        {
            await stream.Completion.ConfigureAwait(false);
        }
        finally
        {
            lock (_state)
                _streams.Remove(stream.Id);
        }
        if (!stream.Sized)
            hints.Saw(operation, stream.Length);
        return stream.TakeResponse();
    }

    private static byte[] HeaderBlock(string authority, IReadOnlyList<(string Name, string Value)> headers, int contentLength)
    {
        // Every field as a literal without indexing: what a minimal encoder may always send.
        var block = new ArrayBufferWriter<byte>(512);
        Literal(block, ":method", "POST");
        Literal(block, ":scheme", "http");
        Literal(block, ":path", "/");
        Literal(block, ":authority", authority);
        foreach (var (name, value) in headers)
            Literal(block, name, value);
        Literal(block, "content-length", contentLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return block.WrittenSpan.ToArray();
    }

    private static void Literal(ArrayBufferWriter<byte> block, string name, string value)
    {
        block.GetSpan(1)[0] = 0x00;
        block.Advance(1);
        LiteralString(block, name);
        LiteralString(block, value);
    }

    private static void LiteralString(ArrayBufferWriter<byte> block, string text)
    {
        int length = Encoding.ASCII.GetByteCount(text);
        var span = block.GetSpan(length + 6);
        int at = 0;
        if (length < 0x7F)
        {
            span[at++] = (byte)length;
        }
        else
        {
            span[at++] = 0x7F;
            for (int rest = length - 0x7F; ; rest >>= 7)
            {
                if (rest < 0x80)
                {
                    span[at++] = (byte)rest;
                    break;
                }
                span[at++] = (byte)((rest & 0x7F) | 0x80);
            }
        }
        Encoding.ASCII.GetBytes(text, span[at..]);
        block.Advance(at + length);
    }

    private async Task WriteHeadersAsync(int streamId, byte[] block, bool endStream, CancellationToken cancellation)
    {
        int frameSize = Volatile.Read(ref _maxFrameSize);
        var frames = new ArrayBufferWriter<byte>(block.Length + FrameHeader * 2);
        for (int at = 0; at < block.Length || at == 0;)
        {
            int length = Math.Min(frameSize, block.Length - at);
            bool first = at == 0, last = at + length == block.Length;
            byte flags = (byte)((last ? EndHeaders : 0) | (first && endStream ? EndStream : 0));
            var span = frames.GetSpan(FrameHeader + length);
            WriteFrameHeader(span, length, first ? Headers : Continuation, flags, streamId);
            block.AsSpan(at, length).CopyTo(span[FrameHeader..]);
            frames.Advance(FrameHeader + length);
            at += length;
            if (last)
                break;
        }
        await _network.WriteAsync(frames.WrittenMemory, cancellation).ConfigureAwait(false);
    }

    private async Task WriteDataAsync(int streamId, ReadOnlyMemory<byte> data, bool endStream, CancellationToken cancellation)
    {
        int frameSize = Volatile.Read(ref _maxFrameSize);
        int frameCount = Math.Max(1, (data.Length + frameSize - 1) / frameSize);
        byte[] frames = ArrayPool<byte>.Shared.Rent(data.Length + frameCount * FrameHeader);
        try
        {
            int at = 0, written = 0;
            do
            {
                int length = Math.Min(frameSize, data.Length - at);
                bool last = at + length == data.Length;
                WriteFrameHeader(frames.AsSpan(written), length, Data, last && endStream ? EndStream : (byte)0, streamId);
                data.Span.Slice(at, length).CopyTo(frames.AsSpan(written + FrameHeader));
                written += FrameHeader + length;
                at += length;
            }
            while (at < data.Length);
            await _network.WriteAsync(frames.AsMemory(0, written), cancellation).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frames);
        }
    }

    /// <summary>Waits until the connection's and the stream's send windows both allow some bytes; takes up to <paramref name="wanted"/>.</summary>
    private async Task<int> ReserveSendWindowAsync(H2Stream stream, int wanted, CancellationToken cancellation)
    {
        while (true)
        {
            Task opened;
            lock (_state)
            {
                ThrowIfFailed();
                stream.ThrowIfFailed();
                long allowed = Math.Min(wanted, Math.Min(_connectionSendWindow, stream.SendWindow));
                if (allowed > 0)
                {
                    _connectionSendWindow -= allowed;
                    stream.SendWindow -= allowed;
                    return (int)allowed;
                }
                opened = _windowOpened.Task;
            }
            await opened.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    private void WindowOpened()
    {
        var opened = _windowOpened;
        _windowOpened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        opened.TrySetResult();
    }

    private async Task ReadLoopAsync()
    {
        var header = new byte[FrameHeader];
        try
        {
            while (true)
            {
                await _input.ReadExactlyAsync(header).ConfigureAwait(false);
                int length = (header[0] << 16) | (header[1] << 8) | header[2];
                byte type = header[3], flags = header[4];
                int streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(5)) & 0x7FFF_FFFF);
                switch (type)
                {
                    case Data:
                        await ReadDataAsync(streamId, length, flags).ConfigureAwait(false);
                        break;
                    case Headers:
                        await ReadHeadersAsync(streamId, length, flags).ConfigureAwait(false);
                        break;
                    case Settings:
                        await ReadSettingsAsync(length, flags).ConfigureAwait(false);
                        break;
                    case WindowUpdate:
                        ReadWindowUpdate(streamId, await ReadPayloadAsync(length).ConfigureAwait(false));
                        break;
                    case Ping:
                        var ping = await ReadPayloadAsync(length).ConfigureAwait(false);
                        if ((flags & Ack) == 0)
                            SendControl(Ping, Ack, 0, ping);
                        break;
                    case RstStream:
                        var code = await ReadPayloadAsync(length).ConfigureAwait(false);
                        Stream(streamId)?.Fail(new IOException($"the server reset stream {streamId} (HTTP/2 error {BinaryPrimitives.ReadUInt32BigEndian(code)})"));
                        break;
                    case GoAway:
                        var away = await ReadPayloadAsync(length).ConfigureAwait(false);
                        throw new IOException($"the server sent GOAWAY (HTTP/2 error {BinaryPrimitives.ReadUInt32BigEndian(away.AsSpan(4))})");
                    case PushPromise or Continuation:
                        throw new IOException($"unexpected HTTP/2 frame type {type}");
                    default: // PRIORITY and unknown frames are ignored
                        await ReadPayloadAsync(length).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception e)
        {
            Fail(e is ObjectDisposedException or EndOfStreamException ? new IOException("the connection closed", e) : e);
        }
    }

    private async Task ReadDataAsync(int streamId, int length, byte flags)
    {
        int padding = (flags & Padded) != 0 ? (await ReadPayloadAsync(1).ConfigureAwait(false))[0] : 0;
        int dataLength = length - ((flags & Padded) != 0 ? 1 : 0) - padding;
        var stream = Stream(streamId);
        long received = length;
        bool ended = (flags & EndStream) != 0;
        if (stream is null)
            await ReadPayloadAsync(dataLength).ConfigureAwait(false); // a stream given up on: its bytes are dropped
        else if ((flags & Padded) != 0)
            await _input.ReadExactlyAsync(stream.Reserve(dataLength)).ConfigureAwait(false);
        else
            (received, ended) = await _input.ReadDataAsync(stream, streamId, dataLength, ended).ConfigureAwait(false); // and the frames of its run
        if (padding > 0)
            await ReadPayloadAsync(padding).ConfigureAwait(false);
        _receivedSinceRefill += received;
        if (_receivedSinceRefill >= ConnectionWindowRefill)
        {
            var increment = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(increment, (uint)_receivedSinceRefill);
            _receivedSinceRefill = 0;
            SendControl(WindowUpdate, 0, 0, increment);
        }
        if (ended)
            stream?.Complete();
    }

    private async Task ReadHeadersAsync(int streamId, int length, byte flags)
    {
        var payload = await ReadPayloadAsync(length).ConfigureAwait(false);
        int at = 0, end = payload.Length;
        if ((flags & Padded) != 0)
        {
            end -= payload[0];
            at = 1;
        }
        if ((flags & Priority) != 0)
            at += 5;
        var block = new ArrayBufferWriter<byte>(Math.Max(end - at, 1));
        block.Write(payload.AsSpan(at, end - at));
        while ((flags & EndHeaders) == 0)
        {
            var next = new byte[FrameHeader];
            await _input.ReadExactlyAsync(next).ConfigureAwait(false);
            if (next[3] != Continuation)
                throw new IOException($"HTTP/2 frame type {next[3]} inside a header block");
            flags = (byte)(next[4] | (flags & EndStream));
            block.Write(await ReadPayloadAsync((next[0] << 16) | (next[1] << 8) | next[2]).ConfigureAwait(false));
        }
        var stream = Stream(streamId);
        _hpack.Decode(block.WrittenSpan, (name, value) =>
        {
            if (stream is null)
                return;
            if (name == ":status")
                stream.Status = (HttpStatusCode)int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            else if (name == "content-length")
                stream.Expect(int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        });
        if ((flags & EndStream) != 0)
            stream?.Complete();
    }

    private async Task ReadSettingsAsync(int length, byte flags)
    {
        var payload = await ReadPayloadAsync(length).ConfigureAwait(false);
        if ((flags & Ack) != 0)
            return;
        lock (_state)
        {
            for (int at = 0; at + 6 <= payload.Length; at += 6)
            {
                int id = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(at));
                uint value = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(at + 2));
                switch (id)
                {
                    case 0x3:
                        _maxConcurrentStreams = (int)Math.Min(value, int.MaxValue);
                        break;
                    case 0x4: // applies to every open stream, as a change of its window
                        int delta = (int)value - _initialStreamSendWindow;
                        _initialStreamSendWindow = (int)value;
                        foreach (var stream in _streams.Values)
                            stream.SendWindow += delta;
                        break;
                    case 0x5:
                        Volatile.Write(ref _maxFrameSize, (int)value);
                        break;
                }
            }
            WindowOpened();
        }
        SendControl(Settings, Ack, 0, []);
    }

    private void ReadWindowUpdate(int streamId, byte[] payload)
    {
        int increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFF_FFFF);
        lock (_state)
        {
            if (streamId == 0)
                _connectionSendWindow += increment;
            else if (_streams.TryGetValue(streamId, out var stream))
                stream.SendWindow += increment;
            WindowOpened();
        }
    }

    private async Task<byte[]> ReadPayloadAsync(int length)
    {
        var payload = new byte[length];
        await _input.ReadExactlyAsync(payload).ConfigureAwait(false);
        return payload;
    }

    private H2Stream? Stream(int streamId)
    {
        lock (_state)
            return _streams.GetValueOrDefault(streamId);
    }

    /// <summary>Queues a control frame (an acknowledgement, a window update) behind any write under way; the read loop goes on.</summary>
    private void SendControl(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[FrameHeader + payload.Length];
        WriteFrameHeader(frame, payload.Length, type, flags, streamId);
        payload.CopyTo(frame, FrameHeader);
        _ = Task.Run(async () =>
        {
            try
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
                try
                {
                    await _network.WriteAsync(frame).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }
            }
            catch (Exception e)
            {
                Fail(e);
            }
        });
    }

    private static void WriteFrameHeader(Span<byte> span, int length, byte type, byte flags, int streamId)
    {
        span[0] = (byte)(length >> 16);
        span[1] = (byte)(length >> 8);
        span[2] = (byte)length;
        span[3] = type;
        span[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], (uint)streamId);
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
            throw new IOException($"the HTTP/2 connection failed: {failure.Message}", failure);
    }

    private void Fail(Exception e)
    {
        H2Stream[] open;
        lock (_state)
        {
            _failure ??= e;
            open = [.. _streams.Values];
            WindowOpened();
        }
        foreach (var stream in open)
            stream.Fail(e);
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new ObjectDisposedException(nameof(H2cConnection)));
        _socket.Shutdown(SocketShutdown.Both);
        await _network.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // its failure was handed to the streams
        }
        _writeLock.Dispose();
    }

    /// <summary>One request's state: its send window (under the connection's lock) and its answer (the read loop's).</summary>
    private sealed class H2Stream(int unsizedHint) : AnswerBuffer
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Id { get; set; }

        public long SendWindow { get; set; }

        public HttpStatusCode Status { get; set; }

        /// <summary>The answer said its Content-Length.</summary>
        public bool Sized { get; private set; }

        public Task Completion => _done.Task;

        /// <summary>Content-Length came: the body's buffer is rented once at that size (and a byte more, as KinesisHttpClient does).</summary>
        public void Expect(int contentLength)
        {
            Sized = true;
            EnsureCapacity(contentLength + 1);
        }

        /// <summary>An answer without a length starts at the size of the operation's last such answer.</summary>
        protected override int FirstSize(int count) => Sized ? count : Math.Max(count, unsizedHint + 1);

        public void Complete() => _done.TrySetResult();

        public void Fail(Exception e) => _done.TrySetException(e);

        public void ThrowIfFailed()
        {
            if (_done.Task.IsFaulted)
                _done.Task.GetAwaiter().GetResult();
        }

        public KinesisResponse TakeResponse()
        {
            var (body, length) = Take();
            return new KinesisResponse(Status, body, length);
        }
    }
}
