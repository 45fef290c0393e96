using System.Collections.Concurrent;
using System.Diagnostics;
using Runnel.Client.Processing;

namespace Runnel.Client.Tests.Fleet;

/// <summary>
/// One tests/Runnel.Client.FleetWorker process, started with <c>dotnet &lt;dll&gt;</c>: stopped gracefully by closing its
/// stdin, or SIGKILLed; killed on disposal if still running. Its output is kept for failure messages.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private WorkerProcess(string id, string journal, Process process)
    {
        Id = id;
        Journal = journal;
        _process = process;
    }

    public string Id { get; }

    public string Journal { get; }

    public static WorkerProcess Start(Uri endpoint, string stream, string application, string id, RetrievalMode mode, string journal)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { WorkerDll(), endpoint.ToString(), stream, application, id, mode == RetrievalMode.Polling ? "polling" : "fanout", journal })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("the fleet worker did not start");
        var worker = new WorkerProcess(id, journal, process);
        process.OutputDataReceived += (_, e) => worker.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>SIGKILL: no shutdown, no checkpoint, no lease released.</summary>
    public void Kill() => _process.Kill();

    /// <summary>Closes stdin: the worker shuts down, checkpointing and releasing its leases.</summary>
    public void StopGracefully() => _process.StandardInput.Close();

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public string Tail() => $"--- {Id}:\n{string.Join("\n", _output.TakeLast(25))}";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > 200)
            _output.TryDequeue(out _);
    }

    /// <summary>The dotnet host that runs this test, to run other dlls with.</summary>
    internal static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
            return host;
        if (Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet")
            return path;
        return "dotnet";
    }

    /// <summary>The worker's dll, built beside this project's output: tests/Runnel.Client.FleetWorker/bin/{configuration}/{framework}/.</summary>
    private static string WorkerDll()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        string tests = configuration.Parent!.Parent!.Parent!.FullName;
        string dll = Path.Combine(tests, "Runnel.Client.FleetWorker", "bin", configuration.Name, framework.Name, "Runnel.Client.FleetWorker.dll");
        Assert.True(File.Exists(dll), $"the fleet worker is not built at {dll}; build tests/Runnel.Client.Tests (it builds the worker)");
        return dll;
    }
}
