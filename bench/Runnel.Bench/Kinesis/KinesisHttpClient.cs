using System.Buffers;
using System.Net;
using System.Net.Http.Headers;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// A minimal Kinesis client: POSTs hand-written AWS JSON 1.1 bodies with the headers an SDK sends
/// (Content-Type, X-Amz-Target, X-Amz-Date, a SigV4 Authorization) over one pooled
/// <see cref="SocketsHttpHandler"/>. It never retries and never throws on an AWS error: the load loops
/// count errors themselves. Given several endpoints (the nodes of a cluster), it sends each request to the next
/// in turn, as a round-robin load balancer would. Over h2c it can send through <see cref="H2cConnection"/> instead
/// of HttpClient (<see cref="Http2Client.Lean"/>), one connection per endpoint. Thread-safe, as <see cref="HttpClient"/> is.
/// </summary>
public sealed class KinesisHttpClient : IDisposable
{
    private const string TargetPrefix = "Kinesis_20131202.";
    private static readonly MediaTypeHeaderValue JsonContentType = new(RequestBody.Json);
    private static readonly MediaTypeHeaderValue CborContentType = new(RequestBody.Cbor);

    private readonly HttpClient _http;
    private readonly (Uri Endpoint, string Host)[] _targets;
    private int _next;
    private readonly Version _version;
    private readonly SigV4Signer _signer = new("bench", "bench-secret", "us-east-1");
    private readonly TimeSpan _timeout;
    private readonly H2cConnection?[]? _lean;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly BodySizeHints _hints = new();

    /// <param name="endpoint">base URL, e.g. http://127.0.0.1:4567</param>
    /// <param name="maxConnections">connections kept to the endpoint (HTTP/1.1 carries one request at a time)</param>
    /// <param name="http2">speak cleartext HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1</param>
    /// <param name="timeout">per request</param>
    /// <param name="http2Client">over h2c, which client sends the requests</param>
    public KinesisHttpClient(Uri endpoint, int maxConnections, bool http2, TimeSpan timeout, Http2Client http2Client = Http2Client.HttpClient)
        : this([endpoint], maxConnections, http2, timeout, http2Client)
    {
    }

    /// <param name="endpoints">base URLs of the nodes that serve the same streams, taken in turn</param>
    /// <param name="maxConnections">connections kept to each endpoint</param>
    /// <param name="http2">speak cleartext HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1</param>
    /// <param name="timeout">per request</param>
    /// <param name="http2Client">over h2c, which client sends the requests (<see cref="SendAsync"/> only: an event
    /// stream opened by <see cref="OpenAsync"/> always goes through HttpClient)</param>
    public KinesisHttpClient(IReadOnlyList<Uri> endpoints, int maxConnections, bool http2, TimeSpan timeout, Http2Client http2Client = Http2Client.HttpClient)
    {
        if (endpoints.Count == 0)
            throw new ArgumentException("at least one endpoint", nameof(endpoints));
        _targets = [.. endpoints.Select(e => (e, e.IsDefaultPort ? e.Host : $"{e.Host}:{e.Port}"))];
        _version = http2 ? HttpVersion.Version20 : HttpVersion.Version11;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            EnableMultipleHttp2Connections = true,
            // 1 MiB per stream, as the AWS SDK for Java v2's HTTP/2 client sets it (64 KiB, .NET's default, makes a
            // 1.5 MiB GetRecords answer wait for window updates many times over).
            InitialHttp2StreamWindowSize = 1024 * 1024,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler) { Timeout = timeout };
        _timeout = timeout;
        if (http2 && http2Client == Http2Client.Lean)
            _lean = new H2cConnection?[_targets.Length];
    }

    /// <summary>The first endpoint, for messages.</summary>
    public Uri Endpoint => _targets[0].Endpoint;

    /// <summary>The X-Amz-Target of an operation: Kinesis's unless the name carries another service's prefix (Firehose_20150804.PutRecordBatch).</summary>
    private static string Target(string operation) => operation.Contains('.', StringComparison.Ordinal) ? operation : TargetPrefix + operation;

    public async Task<KinesisResponse> SendAsync(string operation, RequestBody body, CancellationToken cancellation = default)
    {
        if (_lean is not null)
            return await SendLeanAsync(operation, body, cancellation).ConfigureAwait(false);
        using var request = NewRequest(operation, body);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        long? contentLength = response.Content.Headers.ContentLength;
        var (buffer, length) = await ReadAllAsync(stream, contentLength ?? _hints.For(operation), cancellation).ConfigureAwait(false);
        if (contentLength is null)
            _hints.Saw(operation, length);
        return new KinesisResponse(response.StatusCode, buffer, length);
    }

    /// <summary>
    /// Sends a request whose answer is a stream (SubscribeToShard's event stream) and returns as soon as the
    /// headers arrived; the caller reads the body as it comes and disposes the response.
    /// </summary>
    public async Task<HttpResponseMessage> OpenAsync(string operation, RequestBody body, CancellationToken cancellation = default)
    {
        using var request = NewRequest(operation, body);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
    }

    /// <summary>A blocking send, for the latency reader that polls from a dedicated thread. HttpClient has no
    /// synchronous HTTP/2, so under h2c this blocks the calling thread on the asynchronous send instead.</summary>
    public KinesisResponse Send(string operation, RequestBody body, CancellationToken cancellation = default)
    {
        if (_version == HttpVersion.Version20)
            return SendAsync(operation, body, cancellation).GetAwaiter().GetResult();
        using var request = NewRequest(operation, body);
        using var response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        using var stream = response.Content.ReadAsStream(cancellation);
        long? contentLength = response.Content.Headers.ContentLength;
        byte[] buffer = Rent(contentLength ?? _hints.For(operation));
        int length = 0;
        for (int read; (read = stream.Read(buffer.AsSpan(length))) > 0;)
        {
            length += read;
            if (length == buffer.Length)
                buffer = Grow(buffer, length);
        }
        if (contentLength is null)
            _hints.Saw(operation, length);
        return new KinesisResponse(response.StatusCode, buffer, length);
    }

    private HttpRequestMessage NewRequest(string operation, RequestBody body)
    {
        var (endpoint, host) = _targets.Length == 1 ? _targets[0] : _targets[(uint)Interlocked.Increment(ref _next) % _targets.Length];
        string amzDate = _signer.AmzDateNow();
        var content = new ByteArrayContent(body.Utf8);
        content.Headers.ContentType = body.MediaType == RequestBody.Cbor ? CborContentType : JsonContentType;
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = content,
            Version = _version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var headers = request.Headers;
        headers.TryAddWithoutValidation("X-Amz-Target", Target(operation));
        headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        headers.TryAddWithoutValidation("Authorization", _signer.Authorization(host, amzDate, body));
        return request;
    }

    private async Task<KinesisResponse> SendLeanAsync(string operation, RequestBody body, CancellationToken cancellation)
    {
        int index = _targets.Length == 1 ? 0 : (int)((uint)Interlocked.Increment(ref _next) % _targets.Length);
        var (endpoint, host) = _targets[index];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_timeout);
        var connection = await LeanConnectionAsync(index, endpoint, timeout.Token).ConfigureAwait(false);
        string amzDate = _signer.AmzDateNow();
        (string, string)[] headers =
        [
            ("content-type", body.MediaType == RequestBody.Cbor ? RequestBody.Cbor : RequestBody.Json),
            ("x-amz-target", Target(operation)),
            ("x-amz-date", amzDate),
            ("authorization", _signer.Authorization(host, amzDate, body)),
        ];
        return await connection.PostAsync(host, headers, body.Utf8, _hints, operation, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>The endpoint's connection, made on first use and made again after it failed.</summary>
    private async ValueTask<H2cConnection> LeanConnectionAsync(int index, Uri endpoint, CancellationToken cancellation)
    {
        if (Volatile.Read(ref _lean![index]) is { IsUsable: true } open)
            return open;
        await _connecting.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (_lean[index] is { IsUsable: true } made)
                return made;
            if (_lean[index] is { } failed)
                await failed.DisposeAsync().ConfigureAwait(false);
            var connection = await H2cConnection.ConnectAsync(endpoint, cancellation).ConfigureAwait(false);
            Volatile.Write(ref _lean[index], connection);
            return connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>Reads a whole body into a pooled buffer, sized by Content-Length when the server sent one, else by <see cref="BodySizeHints"/>.</summary>
    private static async ValueTask<(byte[] Buffer, int Length)> ReadAllAsync(Stream stream, long expectedLength, CancellationToken cancellation)
    {
        byte[] buffer = Rent(expectedLength);
        int length = 0;
        for (int read; (read = await stream.ReadAsync(buffer.AsMemory(length), cancellation).ConfigureAwait(false)) > 0;)
        {
            length += read;
            if (length == buffer.Length)
                buffer = Grow(buffer, length);
        }
        return (buffer, length);
    }

    // One byte more than expected, so that a complete body never forces a Grow just to see the end.
    private static byte[] Rent(long expectedLength) => ArrayPool<byte>.Shared.Rent((int)Math.Clamp(expectedLength + 1, 256, 1L << 30));

    private static byte[] Grow(byte[] buffer, int length)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var connection in _lean ?? [])
            connection?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _connecting.Dispose();
    }
}

/// <summary>Which client sends requests over h2c.</summary>
public enum Http2Client
{
    /// <summary>.NET's HttpClient (SocketsHttpHandler), as a .NET application would.</summary>
    HttpClient,

    /// <summary><see cref="H2cConnection"/>: frames read straight into the answer's buffer, as nghttp2 does.</summary>
    Lean,
}
