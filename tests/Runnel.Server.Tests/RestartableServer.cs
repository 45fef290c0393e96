namespace Runnel.Server.Tests;

/// <summary>
/// An in-process server on a data directory of the test's own, with the test's clock, that the test can stop
/// and start again on the same directory (restarts, migrations, state that must survive).
/// </summary>
public sealed class RestartableServer(string dataDir, TimeProvider clock, RunnelOptions options, Action<Microsoft.Extensions.Logging.ILoggingBuilder>? logging = null) : IAsyncDisposable
{
    private RunnelServer? _server;

    /// <summary>The running server.</summary>
    public RunnelServer Server => _server ?? throw new InvalidOperationException("the server is stopped");

    /// <summary>A client of the running server (a new one after each start).</summary>
    public TestClient Client { get; private set; } = null!;

    public async Task StartAsync()
    {
        _server = RunnelServer.Create(options with { Port = 0, DataDir = dataDir }, logging: logging ?? (_ => { }), clock: clock);
        await _server.StartAsync();
        Client = new TestClient(_server.Url);
    }

    public async Task StopAsync()
    {
        Client.Dispose();
        await _server!.DisposeAsync();
        _server = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await StopAsync();
    }
}
