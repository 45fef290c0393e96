using Runnel.Functions.Catalog;
using Runnel.Functions.Invoke;

namespace Runnel.Functions.Runtime;

/// <summary>
/// The execution environments of one function (one revision of it): invocations queue here and are handed to
/// <see cref="Sandbox"/>es as their runtimes ask for work; a sandbox is started when invocations wait and fewer than
/// <see cref="RuntimeOptions.MaxConcurrency"/> run. An invocation has the function's timeout from the moment a runtime
/// takes it; past it the sandbox is killed, as Lambda does, and the next invocation starts a new one. A process that
/// ends while it holds an invocation fails it with <c>Runtime.ExitError</c>; one that fails its start fails the waiting
/// invocations when no other sandbox can serve them. Sandboxes idle longer than <see cref="RuntimeOptions.IdleTimeout"/>
/// are stopped. Thread-safe: one lock guards the queue and the sandboxes' invocation state.
/// </summary>
public sealed class FunctionPool : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Invocation> _queued = new();
    private readonly List<Sandbox> _sandboxes = [];
    private readonly LinkedList<(Sandbox Sandbox, TaskCompletionSource<Invocation?> Waiter)> _waiting = new();
    private readonly Func<LaunchSpec> _launch;
    private readonly RuntimeOptions _options;
    private readonly RuntimeLog _log;
    private readonly TimeProvider _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reaper;
    private int _starting;
    private int _started;
    private bool _disposed;

    /// <param name="launch">How to start a process: called for each start (it may unpack code first), throwing
    /// <see cref="LaunchException"/> when the function cannot start.</param>
    /// <param name="clock">Real time: deadlines are read by the functions' own clocks.</param>
    public FunctionPool(LambdaFunction function, Func<LaunchSpec> launch, RuntimeOptions options, RuntimeLog log, TimeProvider clock)
    {
        Function = function;
        _launch = launch;
        _options = options;
        _log = log;
        _clock = clock;
        _reaper = ReapAsync();
    }

    public LambdaFunction Function { get; }

    /// <summary>The sandboxes alive now (started, not ended), for tests and metrics.</summary>
    public int Sandboxes
    {
        get
        {
            lock (_gate)
                return _sandboxes.Count;
        }
    }

    /// <summary>How many invocations a runtime holds now.</summary>
    public int Running
    {
        get
        {
            lock (_gate)
                return _sandboxes.Count(s => s.Current is not null);
        }
    }

    public async Task<InvocationOutcome> InvokeAsync(string requestId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var invocation = new Invocation(requestId, payload);
        bool start = false;
        lock (_gate)
        {
            if (_disposed)
                return InvocationErrors.Outcome("Runtime.Unavailable", $"RequestId: {requestId} Error: the function {Function.Name} was changed, deleted or is stopping.");
            if (!HandToWaiting(invocation))
            {
                _queued.AddLast(invocation);
                start = StartWanted();
            }
        }
        if (start)
            _ = StartSandboxAsync();
        try
        {
            await Task.WhenAny(invocation.Handed.Task, invocation.Outcome.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
                _queued.Remove(invocation);
            throw;
        }
        if (invocation.Outcome.Task.IsCompleted || !invocation.Handed.Task.IsCompleted)
            return await invocation.Outcome.Task.ConfigureAwait(false);
        var sandbox = invocation.Handed.Task.Result;
        long left = Math.Max(0, invocation.DeadlineMillis - _clock.GetUtcNow().ToUnixTimeMilliseconds());
        try
        {
            return await invocation.Outcome.Task.WaitAsync(TimeSpan.FromMilliseconds(left), _clock, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (invocation.Complete(InvocationErrors.TimedOut(requestId, Function.Timeout)))
            {
                lock (_gate)
                    _sandboxes.Remove(sandbox); // it no longer counts against the concurrency while it dies
                _log.Warn($"Function {Function.Name}: invocation {requestId} timed out after {Function.Timeout} s; its process (#{sandbox.Number}) is killed and a new one starts for the next invocation.");
                sandbox.Kill("timed out");
            }
            return await invocation.Outcome.Task.ConfigureAwait(false);
        }
    }

    /// <summary>The Runtime API's <c>next</c>: the next invocation for this sandbox, waiting for one; null when the runtime went away.</summary>
    internal async Task<Invocation?> NextAsync(Sandbox sandbox, CancellationToken aborted)
    {
        TaskCompletionSource<Invocation?>? waiter = null;
        LinkedListNode<(Sandbox, TaskCompletionSource<Invocation?>)>? node = null;
        Invocation? unanswered, handed = null;
        lock (_gate)
        {
            unanswered = sandbox.Current;
            sandbox.Current = null;
            sandbox.Ready = true;
            sandbox.IdleSince = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            if (_queued.First is { } first)
            {
                _queued.RemoveFirst();
                Hand(sandbox, first.Value);
                handed = first.Value;
            }
            else
            {
                waiter = new TaskCompletionSource<Invocation?>(TaskCreationOptions.RunContinuationsAsynchronously);
                node = _waiting.AddLast((sandbox, waiter));
            }
        }
        unanswered?.Complete(InvocationErrors.Outcome("Runtime.InvalidResponse", $"RequestId: {unanswered.RequestId} Error: the runtime asked for the next invocation without answering this one."));
        if (waiter is null || node is null)
            return handed;
        using var registration = aborted.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is not null)
                    _waiting.Remove(node);
            }
            waiter.TrySetResult(null);
        });
        return await waiter.Task.ConfigureAwait(false);
    }

    /// <summary>The Runtime API's <c>response</c> or <c>error</c>: whether <paramref name="requestId"/> is the sandbox's invocation (then it is completed).</summary>
    internal bool Answer(Sandbox sandbox, string requestId, InvocationOutcome outcome)
    {
        Invocation? invocation;
        lock (_gate)
        {
            invocation = sandbox.Current;
            if (invocation?.RequestId != requestId)
                return false;
            sandbox.Current = null;
        }
        invocation.Complete(outcome);
        return true;
    }

    /// <summary>The Runtime API's <c>init/error</c>: the runtime could not start; the sandbox is killed and its end reports the error.</summary>
    internal void InitFailed(Sandbox sandbox, byte[] error)
    {
        lock (_gate)
            sandbox.InitError = error;
        _log.Warn($"Function {Function.Name}: its runtime (#{sandbox.Number}) reported an init error: {System.Text.Encoding.UTF8.GetString(error)}");
        sandbox.Kill("init error");
    }

    internal void SandboxExited(Sandbox sandbox, int exitCode)
    {
        var failed = new List<(Invocation, InvocationOutcome)>();
        bool start;
        lock (_gate)
        {
            _sandboxes.Remove(sandbox);
            for (var node = _waiting.First; node is not null; node = node.Next)
            {
                if (node.Value.Sandbox == sandbox)
                {
                    node.Value.Waiter.TrySetResult(null);
                    _waiting.Remove(node);
                    break;
                }
            }
            if (sandbox.Current is { } held)
                failed.Add((held, ExitError(held.RequestId, sandbox, exitCode)));
            if (!sandbox.Ready && _sandboxes.Count == 0 && _starting == 0)
            {
                foreach (var waiting in _queued)
                    failed.Add((waiting, sandbox.InitError is { } error ? new InvocationOutcome(error, "Unhandled") : ExitError(waiting.RequestId, sandbox, exitCode)));
                _queued.Clear();
            }
            start = sandbox.Ready && StartWanted();
        }
        if (sandbox.KillReason is null && !_disposed)
            _log.Warn($"Function {Function.Name}: its process #{sandbox.Number} exited with status {exitCode}{(sandbox.Ready ? "" : " before asking for an invocation (its init phase failed; see its output above)")}.");
        foreach (var (invocation, outcome) in failed)
            invocation.Complete(outcome);
        if (start)
            _ = StartSandboxAsync();
    }

    private static InvocationOutcome ExitError(string requestId, Sandbox sandbox, int exitCode) => sandbox.KillReason switch
    {
        "init timeout" => InvocationErrors.Outcome("Runtime.Unavailable", $"RequestId: {requestId} Error: the runtime did not ask for an invocation within its init phase and was stopped."),
        _ => InvocationErrors.Outcome("Runtime.ExitError", $"RequestId: {requestId} Error: Runtime exited with error: exit status {exitCode}"),
    };

    /// <summary>
    /// Whether one more sandbox should start: invocations wait that the sandboxes starting or still in their init phase
    /// will not take (lock held).
    /// </summary>
    private bool StartWanted()
    {
        int coming = _starting;
        foreach (var sandbox in _sandboxes)
            if (!sandbox.Ready)
                coming++;
        if (_disposed || _queued.Count <= coming || _sandboxes.Count + _starting >= _options.MaxConcurrency)
            return false;
        _starting++;
        return true;
    }

    /// <summary>Gives the invocation to a runtime waiting in <c>next</c>, if one is (lock held).</summary>
    private bool HandToWaiting(Invocation invocation)
    {
        if (_waiting.First is not { } first)
            return false;
        _waiting.RemoveFirst();
        Hand(first.Value.Sandbox, invocation);
        first.Value.Waiter.TrySetResult(invocation);
        return true;
    }

    private void Hand(Sandbox sandbox, Invocation invocation)
    {
        sandbox.Current = invocation;
        invocation.DeadlineMillis = _clock.GetUtcNow().ToUnixTimeMilliseconds() + Function.Timeout * 1000L;
        invocation.Handed.TrySetResult(sandbox);
    }

    private async Task StartSandboxAsync()
    {
        Sandbox sandbox;
        try
        {
            var launch = _launch();
            sandbox = await Sandbox.StartAsync(this, launch, Interlocked.Increment(ref _started), _options, _log).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var error = e is LaunchException launchError ? launchError : new LaunchException("Runtime.InvalidEntrypoint", e.Message);
            _log.Warn($"Function {Function.Name}: its process could not start: {error.Message}");
            List<Invocation> failed;
            lock (_gate)
            {
                _starting--;
                failed = _sandboxes.Count == 0 && _starting == 0 ? [.. _queued] : [];
                foreach (var invocation in failed)
                    _queued.Remove(invocation);
            }
            foreach (var invocation in failed)
                invocation.Complete(InvocationErrors.Outcome(error.ErrorType, $"RequestId: {invocation.RequestId} Error: {error.Message}"));
            return;
        }
        bool disposed;
        lock (_gate)
        {
            _starting--;
            disposed = _disposed;
            if (!disposed)
                _sandboxes.Add(sandbox);
        }
        if (disposed)
        {
            sandbox.Kill("stopping");
            return;
        }
        _ = WatchInitAsync(sandbox);
    }

    /// <summary>Kills a sandbox whose runtime has not asked for work within the init timeout.</summary>
    private async Task WatchInitAsync(Sandbox sandbox)
    {
        await Task.WhenAny(sandbox.Exited, Task.Delay(_options.InitTimeout, _clock, _stop.Token)).ConfigureAwait(false);
        if (_stop.IsCancellationRequested)
            return; // the pool stops every sandbox itself
        bool ready;
        lock (_gate)
            ready = sandbox.Ready;
        if (!ready && !sandbox.Exited.IsCompleted)
        {
            _log.Warn($"Function {Function.Name}: its process #{sandbox.Number} did not ask for an invocation within {_options.InitTimeout.TotalSeconds:0} s of starting; it is stopped.");
            sandbox.Kill("init timeout");
        }
    }

    /// <summary>Stops sandboxes idle longer than the idle timeout.</summary>
    private async Task ReapAsync()
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, _options.IdleTimeout.Ticks / 4));
        using var timer = new PeriodicTimer(period, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
                var idle = new List<Sandbox>();
                lock (_gate)
                {
                    for (var node = _waiting.First; node is not null;)
                    {
                        var next = node.Next;
                        if (now - node.Value.Sandbox.IdleSince >= _options.IdleTimeout.TotalMilliseconds)
                        {
                            idle.Add(node.Value.Sandbox);
                            _waiting.Remove(node);
                        }
                        node = next;
                    }
                }
                foreach (var sandbox in idle)
                    sandbox.Kill("idle");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops every sandbox; invocations waiting fail, those running end with their process.</summary>
    public async ValueTask DisposeAsync()
    {
        List<Sandbox> sandboxes;
        List<Invocation> queued;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            sandboxes = [.. _sandboxes];
            queued = [.. _queued];
            _queued.Clear();
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var invocation in queued)
            invocation.Complete(InvocationErrors.Outcome("Runtime.Unavailable", $"RequestId: {invocation.RequestId} Error: the function {Function.Name} was changed, deleted or is stopping."));
        foreach (var sandbox in sandboxes)
            sandbox.Kill("stopping");
        await Task.WhenAll(sandboxes.Select(s => s.Exited)).ConfigureAwait(false);
        await _reaper.ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>A function's process cannot start: its code is missing, unpacks badly, or names no program; <see cref="ErrorType"/> is Lambda's.</summary>
public sealed class LaunchException(string errorType, string message) : Exception(message)
{
    public string ErrorType { get; } = errorType;
}
