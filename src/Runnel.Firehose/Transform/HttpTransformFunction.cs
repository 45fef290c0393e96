using System.Net.Http.Headers;

namespace Runnel.Firehose.Transform;

/// <summary>
/// A function behind an HTTP endpoint: the event is POSTed as JSON to <c>--transform-endpoint</c> (its
/// <c>{function}</c> replaced by the function's name from the ARN), and a 200's body is the function's answer; any
/// other status, or no answer within Firehose's 5 minutes, is a function error. Thread-safe.
/// </summary>
public sealed class HttpTransformFunction(HttpClient http, string urlTemplate) : ITransformFunction
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public async Task<InvocationResult> InvokeAsync(string functionArn, byte[] request, CancellationToken cancellationToken)
    {
        var url = new Uri(urlTemplate.Replace("{function}", Uri.EscapeDataString(FunctionName(functionArn)), StringComparison.Ordinal));
        using var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var response = await http.PostAsync(url, content, timeout.Token).ConfigureAwait(false);
            byte[] body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? new InvocationResult(body, null)
                : new InvocationResult(null, $"The function's endpoint answered {(int)response.StatusCode}.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new InvocationResult(null, "Firehose encountered timeout errors when calling AWS Lambda. The maximum supported function timeout is 5 minutes.");
        }
        catch (HttpRequestException e)
        {
            return new InvocationResult(null, $"The function's endpoint could not be reached: {e.Message}");
        }
    }

    /// <summary>The function's name from its ARN (<c>arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]</c>), or the ARN itself.</summary>
    public static string FunctionName(string functionArn)
    {
        var parts = functionArn.Split(':');
        return parts.Length >= 7 && parts[5] == "function" ? parts[6] : functionArn;
    }
}
