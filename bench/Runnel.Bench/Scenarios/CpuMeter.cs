using System.Diagnostics;
using System.Globalization;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// CPU time spent by the server (from <c>/proc/PID/stat</c>, when its pid is known) and by this client
/// over one scenario. On a two-core machine it tells whether a scenario was bound by the server, by the
/// load generator, or by neither (waiting: fsync, timers, a lock). Immutable; each scenario starts its own.
/// </summary>
public readonly struct CpuMeter
{
    // USER_HZ: the unit of utime and stime in /proc/PID/stat, 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    private readonly int? _serverPid;
    private readonly double _serverStart;
    private readonly TimeSpan _clientStart;
    private readonly long _wallStart;

    private CpuMeter(int? serverPid)
    {
        _serverPid = serverPid;
        _serverStart = serverPid is { } pid ? ServerSeconds(pid) : 0;
        _clientStart = Process.GetCurrentProcess().TotalProcessorTime;
        _wallStart = Stopwatch.GetTimestamp();
    }

    public static CpuMeter Start(int? serverPid) => new(serverPid);

    /// <summary>Average cores busy since <see cref="Start"/>: the server's (NaN without a pid) and the client's.</summary>
    public (double ServerCores, double ClientCores) Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_wallStart).TotalSeconds;
        double server = _serverPid is { } pid ? (ServerSeconds(pid) - _serverStart) / wall : double.NaN;
        double client = (Process.GetCurrentProcess().TotalProcessorTime - _clientStart).TotalSeconds / wall;
        return (server, client);
    }

    private static double ServerSeconds(int pid)
    {
        try
        {
            // "pid (comm) state ppid ...": comm may hold spaces, so count fields after the last ')'.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks / TicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
