using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Destinations;

/// <summary>What one HTTP endpoint destination is configured with (its <c>EndpointConfiguration</c> and
/// <c>RequestConfiguration</c>).</summary>
public sealed record HttpEndpointSettings(
    Uri Url,
    string DeliveryStreamArn,
    string? AccessKey = null,
    IReadOnlyDictionary<string, string>? CommonAttributes = null,
    bool Gzip = false);

/// <summary>An endpoint a batch is sent to in one request, whose answer says whether it was taken (an HTTP endpoint, Splunk).</summary>
public interface IEndpointDestination
{
    /// <summary>One attempt; <paramref name="requestId"/> is the same on every attempt of one batch.</summary>
    Task<HttpDeliveryOutcome> SendAsync(DeliveryBatch batch, string requestId, long nowMillis, CancellationToken cancellationToken = default);

    /// <summary>The error output type of the records it never took (<c>http-endpoint-failed</c>, <c>splunk-failed</c>).</summary>
    string ErrorOutputType { get; }

    /// <summary>What it is, for the operator's log.</summary>
    string Describe { get; }

    /// <summary>Whether its error records carry an <c>EventId</c> (Splunk's do).</summary>
    bool NamesEvents { get; }
}

/// <summary>How one attempt to deliver a batch ended.</summary>
public enum HttpDeliveryResult
{
    /// <summary>A 200 that echoed the request id with a numeric timestamp.</summary>
    Delivered,

    /// <summary>Anything else but a 413: try again after the backoff, with the same request id.</summary>
    Retry,

    /// <summary>A 413: the endpoint will never take this request; no retry (Firehose does not retry it either).</summary>
    Permanent,
}

/// <summary>One attempt's result, with the error code and message Firehose's error records and logs carry.</summary>
public sealed record HttpDeliveryOutcome(HttpDeliveryResult Result, string? ErrorCode = null, string? ErrorMessage = null);

/// <summary>
/// Firehose's HTTP endpoint contract, one attempt at a time (docs/adr/0002-firehose-delivery.md, section 5): a POST
/// of <c>{"requestId", "timestamp", "records": [{"data": base64}]}</c> with the <c>X-Amz-Firehose-*</c> headers, gzip
/// when configured; success only on a 200 whose JSON body echoes the request id and has a numeric timestamp; 413 is
/// permanent; every other answer, a malformed one, a failed connection or a timeout (3 minutes) is to be retried with
/// the same request id, which the caller keeps across attempts. Thread-safe.
/// </summary>
public sealed class HttpEndpointDestination(HttpClient http, HttpEndpointSettings settings) : IEndpointDestination
{
    public const string ProtocolVersion = "1.0";

    public string ErrorOutputType => "http-endpoint-failed";

    public string Describe => "the HTTP endpoint";

    public bool NamesEvents => false;

    /// <summary>How long one request may take before it counts as failed.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The largest answer read (AWS: 1 MiB); a longer one is invalid.</summary>
    private const int MaxResponseBytes = 1 << 20;

    public async Task<HttpDeliveryOutcome> SendAsync(DeliveryBatch batch, string requestId, long nowMillis, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = Body(batch, requestId, nowMillis) };
        request.Headers.Add("X-Amz-Firehose-Protocol-Version", ProtocolVersion);
        request.Headers.Add("X-Amz-Firehose-Request-Id", requestId);
        request.Headers.Add("X-Amz-Firehose-Source-Arn", settings.DeliveryStreamArn);
        if (settings.AccessKey is { } key)
            request.Headers.TryAddWithoutValidation("X-Amz-Firehose-Access-Key", key);
        if (settings.CommonAttributes is { Count: > 0 } attributes)
            request.Headers.TryAddWithoutValidation("X-Amz-Firehose-Common-Attributes",
                JsonSerializer.Serialize(new Dictionary<string, IReadOnlyDictionary<string, string>> { ["commonAttributes"] = attributes }, FirehoseJsonContext.Default.DictionaryStringIReadOnlyDictionaryStringString));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            byte[] body = await ReadBoundedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            return Judge(response.StatusCode, response.Content.Headers.ContentType, body, requestId);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "HttpEndpoint.RequestTimeout", $"The endpoint did not answer within {RequestTimeout.TotalMinutes:0} minutes.");
        }
        catch (HttpRequestException e)
        {
            return new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "HttpEndpoint.ConnectionFailed", e.Message);
        }
    }

    private HttpContent Body(DeliveryBatch batch, string requestId, long nowMillis)
    {
        var buffer = new MemoryStream();
        Stream target = settings.Gzip ? new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true) : buffer;
        using (var json = new Utf8JsonWriter(target))
        {
            json.WriteStartObject();
            json.WriteString("requestId", requestId);
            json.WriteNumber("timestamp", nowMillis);
            json.WriteStartArray("records");
            for (int i = 0; i < batch.Count; i++)
            {
                json.WriteStartObject();
                json.WriteBase64String("data", batch.Record(i).Span);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        if (settings.Gzip)
            target.Dispose();
        var content = new ByteArrayContent(buffer.GetBuffer(), 0, (int)buffer.Length);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (settings.Gzip)
            content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var body = new MemoryStream();
        byte[] chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (body.Length + read > MaxResponseBytes)
                throw new HttpRequestException("The endpoint's answer is longer than 1 MiB.");
            body.Write(chunk, 0, read);
        }
        return body.ToArray();
    }

    /// <summary>AWS's rules for an answer: 200, JSON, the request id echoed, a numeric timestamp; 413 permanent.</summary>
    private static HttpDeliveryOutcome Judge(HttpStatusCode status, MediaTypeHeaderValue? contentType, byte[] body, string requestId)
    {
        using var json = ParseObject(body);
        var root = json?.RootElement;
        string? message = root?.TryGetProperty("errorMessage", out var m) == true && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        if (status == HttpStatusCode.RequestEntityTooLarge)
            return new HttpDeliveryOutcome(HttpDeliveryResult.Permanent, "HttpEndpoint.ResponseReceivedStatusCode", message ?? "The endpoint answered 413: the request is too large.");
        if (status != HttpStatusCode.OK)
            return new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "HttpEndpoint.ResponseReceivedStatusCode", message ?? $"The endpoint answered {(int)status}.");
        bool echoes = root is { } r
            && r.TryGetProperty("requestId", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() == requestId
            && r.TryGetProperty("timestamp", out var timestamp) && timestamp.ValueKind == JsonValueKind.Number;
        if (contentType?.MediaType != "application/json" || !echoes)
            return new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "HttpEndpoint.InvalidResponseFromDestination",
                "The endpoint answered 200 without a JSON body that echoes the request id and gives a numeric timestamp.");
        return new HttpDeliveryOutcome(HttpDeliveryResult.Delivered);
    }

    /// <summary>The answer as a JSON object, or null when it is none.</summary>
    private static JsonDocument? ParseObject(byte[] body)
    {
        try
        {
            var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
                return json;
            json.Dispose();
        }
        catch (JsonException)
        {
        }
        return null;
    }
}
