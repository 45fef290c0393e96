using System.Text.Json;
using Runnel.Functions.Invoke;

namespace Runnel.Functions.Api;

/// <summary>
/// Invoke: RequestResponse (the function's answer, <c>X-Amz-Function-Error</c> on a function error), Event (202 at
/// once, run in the background), DryRun (204); the payload must be JSON within <see cref="FunctionsOptions.MaxPayloadBytes"/>.
/// Thread-safe.
/// </summary>
public sealed class InvokeOperation(FunctionOperations functions, IFunctionInvoker invoker, FunctionsOptions options, Action<string>? warn = null)
{
    public async Task<LambdaAnswer> InvokeAsync(LambdaRequest request, string nameOrArn, CancellationToken cancellationToken)
    {
        var function = functions.Find(request, nameOrArn);
        string type = request.Header("X-Amz-Invocation-Type") ?? "RequestResponse";
        if (type is not ("RequestResponse" or "Event" or "DryRun"))
            throw LambdaErrors.Validation(type, "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
        if (request.Body.Length > options.MaxPayloadBytes)
            throw LambdaErrors.RequestTooLarge(options.MaxPayloadBytes);
        if (!request.Body.IsEmpty)
        {
            try
            {
                using var _ = JsonDocument.Parse(request.Body);
            }
            catch (JsonException)
            {
                throw LambdaErrors.InvalidRequestContent("Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value");
            }
        }
        ReadOnlyMemory<byte> payload = request.Body.IsEmpty ? "{}"u8.ToArray() : request.Body; // the endpoint's copy, the caller's to keep
        string requestId = Guid.NewGuid().ToString();
        var headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["X-Amz-Executed-Version"] = "$LATEST", ["x-amzn-RequestId"] = requestId };
        switch (type)
        {
            case "DryRun":
                return new LambdaAnswer(204, ReadOnlyMemory<byte>.Empty, headers);
            case "Event":
                _ = Task.Run(() => InvokeInBackgroundAsync(function, requestId, payload), CancellationToken.None);
                return new LambdaAnswer(202, ReadOnlyMemory<byte>.Empty, headers);
            default:
                var result = await invoker.InvokeAsync(function, requestId, payload, cancellationToken).ConfigureAwait(false);
                if (result.FunctionError is { } error)
                    headers["X-Amz-Function-Error"] = error;
                return new LambdaAnswer(200, result.Payload, headers);
        }
    }

    /// <summary>
    /// An asynchronous invocation, tried again after a function error as Lambda does: twice, <see cref="FunctionsOptions.AsyncRetryWaits"/>
    /// apart (1 and 2 minutes); each failure is logged. Held in memory: a restart forgets the retries still to come.
    /// </summary>
    private async Task InvokeInBackgroundAsync(Catalog.LambdaFunction function, string requestId, ReadOnlyMemory<byte> payload)
    {
        for (int attempt = 0; ; attempt++)
        {
            Invoke.InvocationOutcome outcome;
            try
            {
                outcome = await invoker.InvokeAsync(function, requestId, payload, CancellationToken.None).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return; // the server stopped meanwhile
            }
            if (outcome.FunctionError is null)
                return;
            bool again = attempt < options.AsyncRetryWaits.Count;
            warn?.Invoke($"The asynchronous invocation {requestId} of function {function.Name} failed (attempt {attempt + 1}"
                + (again ? $"; tried again in {options.AsyncRetryWaits[attempt].TotalSeconds:0} s" : "; given up") + $"): {System.Text.Encoding.UTF8.GetString(outcome.Payload)}");
            if (!again)
                return;
            await Task.Delay(options.AsyncRetryWaits[attempt]).ConfigureAwait(false);
            if (functions.Current(function.Name) is not { } current)
                return; // deleted meanwhile
            function = current;
        }
    }
}
