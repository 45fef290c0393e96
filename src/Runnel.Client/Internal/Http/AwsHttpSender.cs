using System.Net;
using System.Net.Http.Headers;
using Runnel.Client.Signing;

namespace Runnel.Client.Internal.Http;

/// <summary>An answer of status 2xx, read whole.</summary>
internal sealed record ServiceAnswer(byte[] Body, string? ContentType, string? RequestId);

/// <summary>Makes the exception of one service (Kinesis, DynamoDB) from an error's parts.</summary>
internal delegate AwsServiceException ServiceErrorFactory(string code, string message, HttpStatusCode status, string? requestId, bool retryable, Exception? inner);

/// <summary>
/// The HTTP plumbing both clients share: builds a POST of an <c>X-Amz-Target</c> operation, signs it (SigV4), sends it
/// on HTTP/2 or HTTP/1.1 as the options say, reads the answer under the per-attempt timeout, turns an error answer into
/// the service's exception, and retries throttling, 5xx and transport failures with the <see cref="RetryPolicy"/>. A new
/// request is built and signed for each attempt. Thread-safe: one sender serves concurrent calls.
/// </summary>
internal sealed class AwsHttpSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly ServiceEndpoint _endpoint;
    private readonly AwsClientOptions _options;
    private readonly ServiceErrorFactory _errors;
    private readonly SigV4Signer _signer = new();
    private readonly Version _version;
    private readonly HttpVersionPolicy _versionPolicy;

    public AwsHttpSender(AwsClientOptions options, ServiceEndpoint endpoint, ServiceErrorFactory errors, RetryPolicy? retry = null)
    {
        _options = options;
        _endpoint = endpoint;
        _errors = errors;
        Retry = retry ?? new RetryPolicy(options.Retry, delay: (wait, cancel) => Task.Delay(wait, options.TimeProvider, cancel));
        var handler = options.HttpHandler ?? new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            EnableMultipleHttp2Connections = true, // a busy producer outgrows one connection's concurrent streams
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // DNS changes are seen
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler, disposeHandler: options.HttpHandler is null) { Timeout = Timeout.InfiniteTimeSpan };
        bool tls = endpoint.Url.Scheme == Uri.UriSchemeHttps;
        (_version, _versionPolicy) = options.UseHttp2
            ? (HttpVersion.Version20, tls ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact)
            : (HttpVersion.Version11, HttpVersionPolicy.RequestVersionExact);
    }

    /// <summary>Sent with every request (not signed), so that a service's logs tell this client's calls apart.</summary>
    private static readonly string UserAgent = "runnel-client/" + (typeof(AwsHttpSender).Assembly.GetName().Version?.ToString(3) ?? "0");

    public RetryPolicy Retry { get; }

    public ServiceEndpoint Endpoint => _endpoint;

    /// <summary>Calls <paramref name="target"/> and reads its answer whole.</summary>
    public async Task<ServiceAnswer> SendAsync(string target, string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        return await WithRetriesAsync(async (attemptToken) =>
        {
            using var response = await SendOnceAsync(target, contentType, body, attemptToken).ConfigureAwait(false);
            byte[] bytes = await response.Content.ReadAsByteArrayAsync(attemptToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw Error(response, bytes);
            CheckCrc32(response, bytes);
            return new ServiceAnswer(bytes, response.Content.Headers.ContentType?.MediaType, ServiceErrors.RequestId(response));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Calls <paramref name="target"/> and returns its successful answer as soon as its headers came, for the caller to
    /// read as a stream (SubscribeToShard); the caller disposes it. Retries apply until the answer began.
    /// </summary>
    public Task<HttpResponseMessage> SendStreamingAsync(string target, string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        WithRetriesAsync(async (attemptToken) =>
        {
            var response = await SendOnceAsync(target, contentType, body, attemptToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
                return response;
            using (response)
                throw Error(response, await response.Content.ReadAsByteArrayAsync(attemptToken).ConfigureAwait(false));
        }, cancellationToken);

    private async Task<T> WithRetriesAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (int number = 1; ; number++)
        {
            AwsServiceException failure;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.RequestTimeout);
                try
                {
                    return await attempt(timeout.Token).ConfigureAwait(false);
                }
                catch (AwsServiceException e)
                {
                    failure = e;
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = _errors("RequestTimeout", $"No answer within the request timeout of {_options.RequestTimeout.TotalSeconds:0.###} s.", 0, null, true, e);
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    failure = _errors("RequestFailed", $"The request failed on its way: {e.Message}", 0, null, true, e);
                }
            }
            if (!failure.IsRetryable || number >= Retry.MaxAttempts)
                throw failure;
            await Retry.WaitAsync(number - 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(string target, string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.Url)
        {
            Version = _version,
            VersionPolicy = _versionPolicy,
            Content = new ReadOnlyMemoryContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        var credentials = await _endpoint.Credentials.GetCredentialsAsync(cancellationToken).ConfigureAwait(false);
        _signer.Sign(request, body.Span, credentials, _endpoint.Region, _endpoint.SigningService, _options.TimeProvider.GetUtcNow());
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// DynamoDB sends the CRC-32 of its answer's bytes in <c>x-amz-crc32</c>; an answer damaged on its way fails the
    /// check and is retried like a transport failure.
    /// </summary>
    private void CheckCrc32(HttpResponseMessage response, byte[] body)
    {
        if (!response.Headers.TryGetValues("x-amz-crc32", out var values)
            || !uint.TryParse(values.First(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint expected))
            return;
        uint actual = Crc32.Compute(body);
        if (actual != expected)
            throw _errors("CRC32CheckFailed", $"The answer's CRC-32 is {actual}, not the {expected} its x-amz-crc32 header says: it was damaged on its way.", response.StatusCode, ServiceErrors.RequestId(response), true, null);
    }

    private AwsServiceException Error(HttpResponseMessage response, byte[] body)
    {
        var (code, message) = ServiceErrors.Read(response.StatusCode, response.Headers, response.Content.Headers.ContentType?.MediaType, body);
        return _errors(code, message, response.StatusCode, ServiceErrors.RequestId(response), RetryPolicy.IsRetryable(code, response.StatusCode), null);
    }

    public void Dispose() => _http.Dispose();
}
