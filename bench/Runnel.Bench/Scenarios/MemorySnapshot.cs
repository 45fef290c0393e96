using System.Globalization;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// A process's memory as Linux reports it in <c>/proc/PID/status</c>, in KiB: VmRSS (resident now, the
/// number the targets use), VmHWM (its peak so far), and RssAnon and RssFile (heap versus mapped files,
/// which tells a managed heap from the page cache of memory-mapped segment files).
/// </summary>
public readonly record struct MemorySnapshot(long RssKiB, long PeakKiB, long AnonKiB, long FileKiB)
{
    public static double Mib(long kib) => kib / 1024.0;

    public static MemorySnapshot Read(int pid)
    {
        string path = $"/proc/{pid}/status";
        if (!File.Exists(path))
            throw new BenchException($"{path} does not exist: is process {pid} running on this machine?");
        long rss = 0, peak = 0, anon = 0, file = 0;
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                rss = Kib(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                peak = Kib(line);
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                anon = Kib(line);
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
                file = Kib(line);
        }
        return new MemorySnapshot(rss, peak, anon, file);
    }

    // "VmRSS:\t  123456 kB"
    private static long Kib(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
}
