using Runnel.Bench.Scenarios;
using Runnel.Server.Tests;

namespace Runnel.Bench.Tests;

/// <summary>
/// <c>runnel-bench soak</c> end to end against the real server, for a few seconds: every acknowledged record
/// reaches both fan-out consumers and both pollers, and a fresh client is answered while slow connections are held.
/// The server ends subscriptions after 2 s and closes silent connections after 1 s, so the renewals and the
/// reopenings happen within the run. Timings are the soak's to report, not this test's: drift is not judged here
/// and the bound on the fresh answer is loose (docs/reliability.md has the measured run).
/// </summary>
public sealed class SoakScenarioTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-bench-soak-" + Guid.NewGuid().ToString("N"));

    [Fact(Timeout = 60_000)]
    public async Task A_short_soak_loses_nothing_and_a_fresh_client_is_answered_while_slow_connections_are_held()
    {
        using var server = await ServerProcess.StartAsync(_dataDir, "--limits", "off", "--subscription-lifetime", "2000", "--handshake-timeout", "1000");
        var cl = new CommandLine(
            ["--endpoint", server.Url.ToString(), "--server-pid", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--duration", "6s", "--interval", "2s", "--rate", "200", "--batch", "20", "--connections", "8", "--slow-connections", "20",
             "--slow-byte-interval", "200ms", "--drain-timeout", "20s", "--fresh-max-ms", "10000", "--max-errors", "1000", "--no-drift-check"],
            new HashSet<string> { "no-drift-check", "keep-stream" });
        var options = SoakScenario.Options.Parse(cl);
        cl.RejectUnknown();
        var log = new StringWriter();

        var report = await SoakScenario.RunAsync(options, log);

        string output = log.ToString();
        Assert.False(report.Failed, output);
        Assert.True(report.Find("soak.acked") > 0, output);
        Assert.Equal(0, report.Find("soak.lost"));
        Assert.True(report.Find("soak.read.fanout") >= 2 * report.Find("soak.acked"), output);
        Assert.True(report.Find("soak.read.polled") >= 2 * report.Find("soak.acked"), output);
        Assert.True(report.Find("soak.fresh.answered") > 0, output);
        Assert.Equal(0, report.Find("soak.fresh.failed"));
        Assert.True(report.Find("soak.slow.opened") > 0, output);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
