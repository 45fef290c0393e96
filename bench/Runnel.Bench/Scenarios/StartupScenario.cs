using System.Diagnostics;
using System.Globalization;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench startup</c>: start-up time, from just before the server process is launched to the
/// first ListStreams it answers with 200. The tool launches the command itself (this process is already
/// warm, so only the server's start is on the clock), polls about every millisecond on fresh connections
/// (a refused connect returns at once), then kills the server. One launch first is not counted, so
/// that files the first launch reads from disk are cached for every counted launch alike.
/// </summary>
public static class StartupScenario
{
    public sealed record Options(string Command, Uri Endpoint, string Label, int Repeat, int Discard, TimeSpan Timeout, string? JsonPath)
    {
        public static Options Parse(CommandLine cl) => new(
            cl.String("command") ?? throw new ArgumentException("--command is required"),
            new Uri(cl.String("endpoint", "http://127.0.0.1:4567")),
            cl.String("label", "server"),
            cl.Int32("repeat", 5, 1),
            cl.Int32("discard", 1, 0),
            TimeSpan.FromSeconds(cl.Double("timeout", 30, 0.1)),
            cl.String("json"));

        public const string Help = """
            runnel-bench startup [options]: time from launching a server to its first answered request.
              --command "CMD ARGS"    the server command, split on spaces; {i} becomes the launch number
                                      (give each launch its own data directory with it)
              --endpoint URL          where the launched server listens (default http://127.0.0.1:4567)
              --label NAME            server name in reports (default server)
              --repeat N              launches counted (default 5); the median is the result
              --discard N             launches first run and not counted (default 1)
              --timeout SECONDS       longest wait for one launch to answer (default 30)
              --json FILE             also write the results as JSON
            """;
    }

    public static async Task<BenchReport> RunAsync(Options options, TextWriter log)
    {
        var report = new BenchReport { Label = options.Label, Endpoint = options.Endpoint.ToString() };
        report.Settings["startup_command"] = options.Command;
        var counted = new List<double>();
        double rssMib = 0;
        for (int launch = 0; launch < options.Discard + options.Repeat; launch++)
        {
            var (millis, rss) = await LaunchOnceAsync(options, launch).ConfigureAwait(false);
            bool isCounted = launch >= options.Discard;
            log.WriteLine($"  [{options.Label}] launch {launch}: first answer after {millis:0.0} ms{(isCounted ? "" : " (not counted)")}");
            if (isCounted)
            {
                counted.Add(millis);
                rssMib = Math.Max(rssMib, rss);
            }
        }
        counted.Sort();
        report.Add("startup.median_ms", "Start-up to first answered request: median", counted[counted.Count / 2], "ms");
        report.Add("startup.min_ms", "Start-up to first answered request: min", counted[0], "ms");
        report.Add("startup.max_ms", "Start-up to first answered request: max", counted[^1], "ms");
        report.Add("startup.rss_mib", "RSS just after start-up", rssMib, "MiB");
        report.Settings["startup_launches"] = counted.Count.ToString(CultureInfo.InvariantCulture);
        return report;
    }

    private static async Task<(double Millis, double RssMib)> LaunchOnceAsync(Options options, int launch)
    {
        string[] parts = options.Command.Replace("{i}", launch.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var info = new ProcessStartInfo(parts[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string arg in parts.Skip(1))
            info.ArgumentList.Add(arg);

        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(object _, DataReceivedEventArgs e)
        {
            if (e.Data is not null && output.Count < 50)
                output.Enqueue(e.Data);
        }

        using var client = new KinesisHttpClient(options.Endpoint, 1, http2: false, TimeSpan.FromSeconds(5));
        var body = KinesisJson.ListStreams();
        _ = body.Sha256Hex;
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        LaunchedProcesses.Add(process);
        try
        {
            long start = Stopwatch.GetTimestamp();
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            while (true)
            {
                try
                {
                    using var response = client.Send("ListStreams", body);
                    if (response.IsSuccess)
                    {
                        double millis = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        return (millis, MemorySnapshot.Mib(MemorySnapshot.Read(process.Id).RssKiB));
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                if (process.HasExited)
                    throw new BenchException($"'{options.Command}' exited with {process.ExitCode} before answering:\n{string.Join('\n', output)}");
                if (Stopwatch.GetElapsedTime(start) > options.Timeout)
                    throw new BenchException($"'{options.Command}' did not answer within {options.Timeout.TotalSeconds:0} s:\n{string.Join('\n', output)}");
                Thread.Sleep(1);
            }
        }
        finally
        {
            LaunchedProcesses.Stop(process);
        }
    }
}
