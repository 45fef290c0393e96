using System.Diagnostics;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// Servers this process launched, so that they are killed if the tool is interrupted (SIGINT, SIGTERM)
/// while one runs: a benchmark must never leave a server behind. Thread-safe.
/// </summary>
public static class LaunchedProcesses
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<Process> Running = [];

    static LaunchedProcesses()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
        Console.CancelKeyPress += (_, _) => StopAll();
    }

    public static void Add(Process process)
    {
        lock (Gate)
            Running.Add(process);
    }

    public static void Stop(Process process)
    {
        lock (Gate)
            Running.Remove(process);
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
    }

    private static void StopAll()
    {
        Process[] running;
        lock (Gate)
            running = [.. Running];
        foreach (var process in running)
            Stop(process);
    }
}
