namespace Runnel.Server.Tests;

/// <summary>Who may run code in processes here (docs/security.md, "Functions"): the loopback or signatures by default, else only when asked.</summary>
public sealed class FunctionProcessesTests
{
    [Fact]
    public void Processes_run_on_the_loopback_or_with_signatures_checked_or_when_asked()
    {
        Assert.Null(RunnelServer.FunctionProcessesRefused(new RunnelOptions()));
        Assert.Null(RunnelServer.FunctionProcessesRefused(new RunnelOptions { Host = "::1" }));
        Assert.Null(RunnelServer.FunctionProcessesRefused(new RunnelOptions { Host = "0.0.0.0", VerifySignatures = true }));
        Assert.Null(RunnelServer.FunctionProcessesRefused(new RunnelOptions { Host = "0.0.0.0", FunctionProcesses = true }));
        Assert.StartsWith("This server listens on 0.0.0.0 without --auth sigv4", RunnelServer.FunctionProcessesRefused(new RunnelOptions { Host = "0.0.0.0" }));
        Assert.Contains("--function-processes off", RunnelServer.FunctionProcessesRefused(new RunnelOptions { FunctionProcesses = false }));
    }
}
