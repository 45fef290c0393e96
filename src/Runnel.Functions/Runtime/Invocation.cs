using Runnel.Functions.Invoke;

namespace Runnel.Functions.Runtime;

/// <summary>
/// One invocation on its way through a <see cref="FunctionPool"/>: queued, then handed to a <see cref="Sandbox"/> by
/// the Runtime API's <c>next</c> (which fixes its deadline), then completed once by the sandbox's answer, its death, or
/// the timeout. Thread-safe.
/// </summary>
internal sealed class Invocation(string requestId, ReadOnlyMemory<byte> payload)
{
    public string RequestId { get; } = requestId;

    public ReadOnlyMemory<byte> Payload { get; } = payload;

    /// <summary>When the function must have answered (Unix milliseconds); set when a sandbox takes it.</summary>
    public long DeadlineMillis { get; set; }

    /// <summary>The sandbox that took it; completes when one does.</summary>
    public TaskCompletionSource<Sandbox> Handed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<InvocationOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes the invocation unless it already is; whether this call did.</summary>
    public bool Complete(InvocationOutcome outcome) => Outcome.TrySetResult(outcome);
}
