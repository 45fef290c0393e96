using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Runnel.Server.Tests;

/// <summary>
/// The real server as a user runs it (<c>dotnet runnel.dll serve ...</c>) in a child process: started on a
/// free port, its output collected, stopped (SIGKILL) on dispose whatever happened.
/// </summary>
public sealed partial class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public Uri Url { get; private set; } = null!;

    public int Pid => _process.Id;

    /// <summary>Everything it printed so far, stdout and stderr interleaved.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>runnel serve --port 0 --data-dir DIR</c> plus <paramref name="args"/> and waits for its listening line.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDir, params string[] args)
    {
        var server = Launch(["serve", "--port", "0", "--data-dir", dataDir, .. args]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !server._process.HasExited)
        {
            if (server._output.FirstOrDefault(l => ListeningLine().IsMatch(l)) is { } line)
            {
                server.Url = new Uri(ListeningLine().Match(line).Groups[1].Value);
                return server;
            }
            await Task.Delay(20);
        }
        string output = server.Output;
        server.Dispose();
        throw new InvalidOperationException($"the server did not start:\n{output}");
    }

    /// <summary>Runs <c>runnel</c> with <paramref name="args"/> to its end (at most 60 s); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(params string[] args)
    {
        using var run = Launch(args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await run._process.WaitForExitAsync(timeout.Token);
        run._process.WaitForExit(); // lets the output readers finish
        return (run._process.ExitCode, run.Output);
    }

    private static ServerProcess Launch(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(LocateServer());
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>SIGKILL: no flush, no clean close.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>The server built beside this test (scripts/test.sh builds the whole solution first).</summary>
    public static string LocateServer()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Runnel.slnx")))
            dir = dir.Parent;
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = Path.Combine(dir?.FullName ?? ".", "src", "Runnel", "bin", configuration, "net10.0", "runnel.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the server first (dotnet build -c {configuration}): {dll} is missing.");
    }

    [GeneratedRegex(@"Runnel listening on (http://\S+)")]
    private static partial Regex ListeningLine();

    private bool _disposed;

    /// <summary>Kills the process if it still runs; a second call does nothing.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10000);
        }
        _process.Dispose();
    }
}
