using System.Net;
using Runnel.Storage;

namespace Runnel.Server.Tests.Hardening;

/// <summary>
/// Two servers on one data directory used to both acknowledge writes, hand out the same sequence numbers and
/// lose records at the next restart (1,781 of 2,000). The directory is now locked for the server's life.
/// </summary>
public sealed class DataDirectoryLockTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-lock-" + Guid.NewGuid().ToString("N"));

    [Fact(Timeout = 60000)]
    public async Task A_second_server_in_the_same_process_is_refused_until_the_first_stops()
    {
        var first = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = _dataDir }, logging: _ => { });
        await first.StartAsync();
        var e = Assert.Throws<DataDirectoryInUseException>(() => RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = _dataDir }, logging: _ => { }));
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(_dataDir), e.Message, StringComparison.Ordinal);
        await first.DisposeAsync();

        var second = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = _dataDir }, logging: _ => { });
        await second.DisposeAsync();
    }

    [Fact(Timeout = 120000)]
    public async Task A_second_serve_on_the_same_directory_exits_naming_the_first_and_the_first_keeps_serving()
    {
        using var first = await ServerProcess.StartAsync(_dataDir);
        var (exitCode, output) = await ServerProcess.RunToExitAsync("serve", "--port", "0", "--data-dir", _dataDir);
        Assert.Equal(1, exitCode);
        Assert.Contains($"in use by another Runnel server (pid {first.Pid}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", output, StringComparison.Ordinal);

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(first.Url, "/health"))).StatusCode);

        // The kernel releases the lock of a killed process: no stale lock blocks the restart.
        await first.KillAsync();
        using var restarted = await ServerProcess.StartAsync(_dataDir);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(restarted.Url, "/health"))).StatusCode);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
