namespace Runnel.Firehose.Transform;

/// <summary>What a function invocation gave: the response body, or a function error (retried).</summary>
public sealed record InvocationResult(byte[]? Response, string? FunctionError);

/// <summary>
/// Where the Lambda processor's function runs (its <c>LambdaArn</c>): Runnel invokes the user's own code, over HTTP or
/// as a local command (docs/compatibility.md), with Firehose's transformation event as the request and the
/// function's answer as the response. Thread-safe.
/// </summary>
public interface ITransformFunction
{
    Task<InvocationResult> InvokeAsync(string functionArn, byte[] request, CancellationToken cancellationToken);
}
