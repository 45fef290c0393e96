using System.Diagnostics;
using Runnel.Core.Metrics;
using Runnel.Functions.Catalog;
using Runnel.Functions.Runtime;

namespace Runnel.Functions.Invoke;

/// <summary>
/// Runs an invocation where the function's code runs (at its HTTP endpoint, or in its processes) and counts it in the
/// function's AWS/Lambda metrics: Invocations, Errors, Duration, ConcurrentExecutions. Thread-safe.
/// </summary>
public sealed class FunctionInvoker(HttpFunctionInvoker endpoints, FunctionRuntimes processes, MetricRegistry? metrics = null) : IFunctionInvoker
{
    public async Task<InvocationOutcome> InvokeAsync(LambdaFunction function, string requestId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var counted = metrics?.Function(function.Name);
        counted?.Started();
        long started = Stopwatch.GetTimestamp();
        InvocationOutcome? outcome = null;
        try
        {
            outcome = await (function.AtEndpoint
                ? endpoints.InvokeAsync(function, requestId, payload, cancellationToken)
                : processes.InvokeAsync(function, requestId, payload, cancellationToken)).ConfigureAwait(false);
            return outcome;
        }
        finally
        {
            if (outcome is not null)
                counted?.Ended((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds, outcome.FunctionError is not null);
            else
                counted?.Abandoned();
        }
    }
}
