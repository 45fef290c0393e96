using Runnel.Functions.Catalog;
using Runnel.Functions.Runtime;

namespace Runnel.Functions.Invoke;

/// <summary>Runs an invocation where the function's code runs: at its HTTP endpoint, or in its processes. Thread-safe.</summary>
public sealed class FunctionInvoker(HttpFunctionInvoker endpoints, FunctionRuntimes processes) : IFunctionInvoker
{
    public Task<InvocationOutcome> InvokeAsync(LambdaFunction function, string requestId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        function.AtEndpoint
            ? endpoints.InvokeAsync(function, requestId, payload, cancellationToken)
            : processes.InvokeAsync(function, requestId, payload, cancellationToken);
}
