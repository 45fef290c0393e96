using System.Diagnostics;
using System.Globalization;

namespace Runnel.Functions.Runtime;

/// <summary>
/// One execution environment of a function: a process started from its <see cref="LaunchSpec"/> with
/// <c>AWS_LAMBDA_RUNTIME_API</c> pointing at a <see cref="RuntimeApi"/> of its own. It serves one invocation at a time;
/// its output goes to the server's log, prefixed with the function's name. When the process ends (by itself, or
/// killed for a timeout, an init failure, idleness or shutdown) its API stops and its pool is told. Its invocation
/// state (<see cref="Current"/>, <see cref="Ready"/>, <see cref="IdleSince"/>) is guarded by the pool's lock.
/// </summary>
internal sealed class Sandbox
{
    private readonly Process _process;
    private RuntimeApi? _api;
    private string? _killReason;

    private Sandbox(FunctionPool pool, Process process, int number)
    {
        Pool = pool;
        _process = process;
        Number = number;
    }

    public FunctionPool Pool { get; }

    /// <summary>Counts the pool's sandboxes from 1, for the log.</summary>
    public int Number { get; }

    /// <summary>The invocation it holds (pool's lock).</summary>
    public Invocation? Current { get; set; }

    /// <summary>Whether it asked for an invocation once: its init phase is over (pool's lock).</summary>
    public bool Ready { get; set; }

    /// <summary>When it last became free (pool's lock).</summary>
    public long IdleSince { get; set; }

    /// <summary>Why its start failed, as Lambda's error payload, when the runtime reported it (pool's lock).</summary>
    public byte[]? InitError { get; set; }

    /// <summary>Completes with the exit code once the process ended and its API stopped.</summary>
    public Task<int> Exited { get; private set; } = Task.FromResult(0);

    /// <summary>Why it was killed, or null when it ended by itself.</summary>
    public string? KillReason => Volatile.Read(ref _killReason);

    /// <summary>Starts the API, then the process; throws what starting the process threw (no such program, ...).</summary>
    public static async Task<Sandbox> StartAsync(FunctionPool pool, LaunchSpec launch, int number, RuntimeOptions options, RuntimeLog log)
    {
        var start = new ProcessStartInfo
        {
            FileName = launch.FileName.Contains('/') && !Path.IsPathRooted(launch.FileName) ? Path.Combine(launch.WorkingDirectory, launch.FileName) : launch.FileName,
            WorkingDirectory = launch.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in launch.Arguments)
            start.ArgumentList.Add(argument);
        var sandbox = new Sandbox(pool, new Process { StartInfo = start, EnableRaisingEvents = true }, number);
        sandbox._api = await RuntimeApi.StartAsync(sandbox, options.MaxResponseBytes).ConfigureAwait(false);
        start.Environment.Clear();
        foreach (var (key, value) in launch.Environment)
            start.Environment[key] = value;
        start.Environment["AWS_LAMBDA_RUNTIME_API"] = sandbox._api.Address;
        start.Environment["AWS_LAMBDA_LOG_STREAM_NAME"] = DateTime.UtcNow.ToString("yyyy/MM/dd", CultureInfo.InvariantCulture)
            + "/[$LATEST]" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        string prefix = $"function {pool.Function.Name} #{number}: ";
        sandbox._process.OutputDataReceived += (_, line) => { if (line.Data is not null) log.Output(prefix + line.Data); };
        sandbox._process.ErrorDataReceived += (_, line) => { if (line.Data is not null) log.Output(prefix + line.Data); };
        try
        {
            sandbox._process.Start();
        }
        catch
        {
            await sandbox._api.DisposeAsync().ConfigureAwait(false);
            sandbox._process.Dispose();
            throw;
        }
        sandbox._process.StandardInput.Close();
        sandbox._process.BeginOutputReadLine();
        sandbox._process.BeginErrorReadLine();
        sandbox.Exited = sandbox.WatchAsync();
        return sandbox;
    }

    /// <summary>Kills the process (and what it started); its end is reported as for any exit.</summary>
    public void Kill(string reason)
    {
        Interlocked.CompareExchange(ref _killReason, reason, null);
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // it ended already
        }
    }

    private async Task<int> WatchAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        int code = _process.ExitCode;
        _process.Dispose();
        if (_api is not null)
            await _api.DisposeAsync().ConfigureAwait(false);
        Pool.SandboxExited(this, code);
        return code;
    }
}

/// <summary>Where the runtime writes: functions' output lines, and its own warnings.</summary>
public sealed record RuntimeLog(Action<string> Output, Action<string> Warn);
