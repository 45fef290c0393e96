using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Destinations;

/// <summary>What a Splunk destination is configured with.</summary>
/// <param name="Endpoint">The HTTP Event Collector's URL (<c>HECEndpoint</c>), without the <c>/services/collector</c> path.</param>
/// <param name="Raw">HECEndpointType Raw (<c>/services/collector/raw</c>) rather than Event (<c>/services/collector/event</c>).</param>
/// <param name="AckTimeout">How long an acknowledgement is waited for (<c>HECAcknowledgmentTimeoutInSeconds</c>, 180 by default).</param>
/// <param name="Channel">The channel every request names (<c>X-Splunk-Request-Channel</c>): one per delivery stream.</param>
public sealed record SplunkSettings(Uri Endpoint, bool Raw, string? Token, TimeSpan AckTimeout, Guid Channel);

/// <summary>
/// Splunk's HTTP Event Collector with indexer acknowledgement, as Firehose uses it (docs/compatibility.md, "Splunk"):
/// one request per batch, the records as they are, one after another (Event: each record an HEC event document; Raw:
/// any text), with <c>Authorization: Splunk TOKEN</c> and the channel; the collector's <c>ackId</c> is then polled at
/// <c>/services/collector/ack</c> until it is indexed. A batch counts as delivered only once acknowledged; a refusal,
/// an answer without an <c>ackId</c> (acknowledgement disabled for the token), or no acknowledgement within the timeout
/// is an error to retry, named with Firehose's <c>Splunk.*</c> codes. Thread-safe.
/// </summary>
public sealed class SplunkDestination(HttpClient http, SplunkSettings settings, TimeProvider? clock = null) : IEndpointDestination
{
    /// <summary>How often an acknowledgement is asked for.</summary>
    public static readonly TimeSpan AckPollInterval = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(3);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string ErrorOutputType => "splunk-failed";

    public string Describe => $"Splunk ({settings.Endpoint})";

    public bool NamesEvents => true;

    public async Task<HttpDeliveryOutcome> SendAsync(DeliveryBatch batch, string requestId, long nowMillis, CancellationToken cancellationToken = default)
    {
        var content = new ByteArrayContent(batch.Payload.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(settings.Raw ? "text/plain" : "application/json");
        var (status, answer, failure) = await PostAsync(settings.Raw ? "services/collector/raw" : "services/collector/event", content, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
            return failure;
        if (Refusal(status, answer) is { } refused)
            return refused;
        if (Member(answer, "ackId") is not { ValueKind: JsonValueKind.Number } ack || !ack.TryGetInt64(out long ackId))
            return new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "Splunk.DisabledAck",
                "The HEC answered without an ackId: turn on indexer acknowledgement for the token, as Firehose requires.");
        return await AwaitAckAsync(ackId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpDeliveryOutcome> AwaitAckAsync(long ackId, CancellationToken cancellationToken)
    {
        long deadline = _clock.GetTimestamp() + (long)(settings.AckTimeout.TotalSeconds * _clock.TimestampFrequency);
        string id = ackId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        while (true)
        {
            var query = new StringContent("{\"acks\":[" + id + "]}", System.Text.Encoding.UTF8, "application/json");
            var (status, answer, failure) = await PostAsync("services/collector/ack?channel=" + settings.Channel.ToString("D"), query, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
                return failure;
            if (Refusal(status, answer) is { } refused)
                return refused;
            if (Member(answer, "acks") is { ValueKind: JsonValueKind.Object } acks && acks.TryGetProperty(id, out var done) && done.ValueKind == JsonValueKind.True)
                return new HttpDeliveryOutcome(HttpDeliveryResult.Delivered);
            if (_clock.GetTimestamp() >= deadline)
                return new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "Splunk.AckTimeout",
                    $"Did not receive an acknowledgement from HEC before the HEC acknowledgement timeout expired ({settings.AckTimeout.TotalSeconds:0} s).");
            await Task.Delay(AckPollInterval, _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One POST: its status and its answer as a JSON object (null when it is none), or why there is none.</summary>
    private async Task<(HttpStatusCode Status, JsonElement? Answer, HttpDeliveryOutcome? Failure)> PostAsync(string path, HttpContent content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.Endpoint, path)) { Content = content };
        if (settings.Token is { } token)
            request.Headers.TryAddWithoutValidation("Authorization", "Splunk " + token);
        request.Headers.Add("X-Splunk-Request-Channel", settings.Channel.ToString("D"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            byte[] body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            return (response.StatusCode, Parse(body), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (0, null, new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "Splunk.ConnectionTimeout", $"The HEC did not answer within {RequestTimeout.TotalMinutes:0} minutes."));
        }
        catch (HttpRequestException e)
        {
            return (0, null, new HttpDeliveryOutcome(HttpDeliveryResult.Retry, "Splunk.ConnectionClosed", e.Message));
        }
    }

    /// <summary>An answer other than 200, named as Firehose names it from the HEC's status and code; null for a 200.</summary>
    private static HttpDeliveryOutcome? Refusal(HttpStatusCode status, JsonElement? answer)
    {
        if (status == HttpStatusCode.OK)
            return null;
        long code = Member(answer, "code") is { ValueKind: JsonValueKind.Number } c && c.TryGetInt64(out long n) ? n : -1;
        string text = Member(answer, "text") is { ValueKind: JsonValueKind.String } t ? t.GetString()! : $"HTTP {(int)status}";
        string errorCode = (status, code) switch
        {
            (_, 1) or (_, 2) or (_, 4) => "Splunk.InvalidToken",
            (_, 3) => "Splunk.DisabledToken",
            (_, 6) => "Splunk.InvalidDataFormat",
            (_, 7) => "Splunk.InvalidIndex",
            (_, 14) => "Splunk.DisabledAck",
            (HttpStatusCode.NotFound, _) => "Splunk.URLNotFound",
            (HttpStatusCode.RequestEntityTooLarge, _) => "Splunk.PayloadTooLarge",
            _ => "Splunk.ServerError",
        };
        return new HttpDeliveryOutcome(HttpDeliveryResult.Retry, errorCode, $"The HEC answered {(int)status}: {text} (code {code}).");
    }

    /// <summary>An answer's body as a JSON object, or null when it is none.</summary>
    private static JsonElement? Parse(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object ? json.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonElement? Member(JsonElement? answer, string name) =>
        answer is { } json && json.TryGetProperty(name, out var value) ? value : null;
}
