using Runnel.Functions.Catalog;
using Runnel.Functions.Invoke;

namespace Runnel.Functions.Runtime;

/// <summary>
/// The node's <see cref="FunctionPool"/>s, one per function that runs in processes, made on its first invocation and
/// replaced when the function changes (its <see cref="LambdaFunction.RevisionId"/>): the old pool's processes stop and
/// the next invocation starts the new code. Thread-safe.
/// </summary>
public sealed class FunctionRuntimes(FunctionLaunch launch, RuntimeOptions options, RuntimeLog log, TimeProvider clock) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FunctionPool> _pools = new(StringComparer.Ordinal);
    private readonly List<Task> _stopping = [];
    private bool _disposed;

    public Task<InvocationOutcome> InvokeAsync(LambdaFunction function, string requestId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        FunctionPool pool;
        lock (_gate)
        {
            if (_disposed)
                return Task.FromResult(InvocationErrors.Outcome("Runtime.Unavailable", $"RequestId: {requestId} Error: the server is stopping."));
            if (!_pools.TryGetValue(function.Name, out var existing) || existing.Function.RevisionId != function.RevisionId)
            {
                if (existing is not null)
                    _stopping.Add(existing.DisposeAsync().AsTask());
                existing = new FunctionPool(function, () => launch.For(function), options, log, clock);
                _pools[function.Name] = existing;
            }
            pool = existing;
        }
        return pool.InvokeAsync(requestId, payload, cancellationToken);
    }

    /// <summary>The pool running a function now, or null.</summary>
    public FunctionPool? Find(string functionName)
    {
        lock (_gate)
            return _pools.GetValueOrDefault(functionName);
    }

    /// <summary>Stops a deleted function's processes and removes its unpacked code.</summary>
    public async Task ForgetAsync(string functionName)
    {
        Task stopped = Task.CompletedTask;
        lock (_gate)
        {
            if (_pools.Remove(functionName, out var pool))
                _stopping.Add(stopped = pool.DisposeAsync().AsTask());
        }
        await stopped.ConfigureAwait(false);
        launch.Forget(functionName);
    }

    public async ValueTask DisposeAsync()
    {
        List<Task> stopping;
        lock (_gate)
        {
            _disposed = true;
            stopping = [.. _stopping, .. _pools.Values.Select(p => p.DisposeAsync().AsTask())];
            _pools.Clear();
        }
        await Task.WhenAll(stopping).ConfigureAwait(false);
    }
}
