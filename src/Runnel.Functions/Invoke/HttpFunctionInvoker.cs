using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Invoke;

/// <summary>
/// Runs an invocation of a function whose code is an HTTP endpoint (docs/compatibility.md, "Lambda"): the payload is
/// POSTed to its <c>ImageUri</c> with the headers the Runtime API gives a runtime for the same invocation
/// (<c>Lambda-Runtime-Aws-Request-Id</c>, <c>Lambda-Runtime-Invoked-Function-Arn</c>, <c>Lambda-Runtime-Deadline-Ms</c>);
/// a 2xx answer's body is the result, unless it carries <c>Lambda-Runtime-Function-Error-Type</c>. Any other answer, a
/// failure to connect, or no answer within the function's timeout is a function error with Lambda's error payload.
/// Thread-safe.
/// </summary>
public sealed class HttpFunctionInvoker(HttpClient http, TimeProvider clock) : IFunctionInvoker
{
    public async Task<InvocationOutcome> InvokeAsync(LambdaFunction function, string requestId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(function.Timeout);
        long deadline = clock.GetUtcNow().Add(timeout).ToUnixTimeMilliseconds();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, function.ImageUri) { Content = new ReadOnlyMemoryContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Lambda-Runtime-Aws-Request-Id", requestId);
        request.Headers.TryAddWithoutValidation("Lambda-Runtime-Invoked-Function-Arn", function.Arn);
        request.Headers.TryAddWithoutValidation("Lambda-Runtime-Deadline-Ms", deadline.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, limit.Token).ConfigureAwait(false);
            byte[] body = await response.Content.ReadAsByteArrayAsync(limit.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode && !response.Headers.Contains("Lambda-Runtime-Function-Error-Type"))
                return new InvocationOutcome(body, null);
            string errorType = response.Headers.TryGetValues("Lambda-Runtime-Function-Error-Type", out var types) ? types.First() : "Unhandled";
            return new InvocationOutcome(ErrorPayload(body, errorType, $"The function's endpoint answered HTTP {(int)response.StatusCode}."), "Unhandled");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return InvocationErrors.TimedOut(requestId, function.Timeout);
        }
        catch (HttpRequestException e)
        {
            return InvocationErrors.Outcome("Runtime.Unavailable", $"RequestId: {requestId} Error: the function's endpoint {function.ImageUri} could not be reached: {e.Message}");
        }
    }

    /// <summary>The endpoint's error body when it is Lambda's error object already, else one made around it.</summary>
    private static byte[] ErrorPayload(byte[] body, string errorType, string fallback)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("errorMessage", out _))
                return body;
        }
        catch (JsonException)
        {
        }
        string text = body.Length > 0 ? Encoding.UTF8.GetString(body) : fallback;
        return InvocationErrors.Payload(errorType, text);
    }
}
