using System.Diagnostics;
using System.Globalization;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// CPU time spent by the server (from <c>/proc/PID/stat</c>, when its pid is known), by this client, and by
/// every other process on the machine (<c>/proc/stat</c> less those two) over one scenario. On a two-core
/// machine it tells whether a scenario was bound by the server, by the load generator, by someone else's
/// work on a shared machine, or by none of them (waiting: fsync, timers, a lock). Immutable; each
/// scenario starts its own.
/// </summary>
public readonly struct CpuMeter
{
    // USER_HZ: the unit of utime and stime in /proc/PID/stat, 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    // Of the aggregate "cpu" line of /proc/stat: user, nice, system, irq, softirq, steal (not idle, iowait,
    // nor guest time, which user time already includes).
    private static readonly int[] BusyFields = [1, 2, 3, 6, 7, 8];

    private readonly int? _serverPid;
    private readonly double _serverStart;
    private readonly TimeSpan _clientStart;
    private readonly double _machineStart;
    private readonly long _wallStart;

    private CpuMeter(int? serverPid)
    {
        _serverPid = serverPid;
        _serverStart = serverPid is { } pid ? ServerSeconds(pid) : 0;
        _clientStart = Process.GetCurrentProcess().TotalProcessorTime;
        _machineStart = MachineSeconds();
        _wallStart = Stopwatch.GetTimestamp();
    }

    public static CpuMeter Start(int? serverPid) => new(serverPid);

    /// <summary>Average cores busy since <see cref="Start"/>: the server's (NaN without a pid), the client's,
    /// and everyone else's (NaN without a pid, or without <c>/proc/stat</c>).</summary>
    public CpuUse Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_wallStart).TotalSeconds;
        double server = _serverPid is { } pid ? (ServerSeconds(pid) - _serverStart) / wall : double.NaN;
        double client = (Process.GetCurrentProcess().TotalProcessorTime - _clientStart).TotalSeconds / wall;
        double machine = (MachineSeconds() - _machineStart) / wall;
        return new CpuUse(server, client, Math.Max(0, machine - server - client));
    }

    /// <summary>Busy CPU time of the whole machine: every core's user, nice, system, irq, softirq and steal.</summary>
    private static double MachineSeconds()
    {
        try
        {
            // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in USER_HZ.
            string[] fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long busy = 0;
            foreach (int i in BusyFields)
                busy += long.Parse(fields[i], CultureInfo.InvariantCulture);
            return busy / TicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
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

/// <summary>Average cores busy over a scenario: the server's, the load generator's, and all other processes'.</summary>
public readonly record struct CpuUse(double Server, double Client, double Others);
