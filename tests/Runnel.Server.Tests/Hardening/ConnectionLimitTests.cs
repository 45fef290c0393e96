using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Runnel.Server.Tests.Hardening;

/// <summary>
/// Connections that send nothing used to stay open forever and, opened by the thousand, took the server down
/// (out of memory, exit 134). Now at most --max-connections are open, a connection that says nothing within
/// --handshake-timeout is closed, and at the limit a silent connection makes room for a real one.
/// </summary>
public sealed class ConnectionLimitTests : IAsyncLifetime
{
    private const int Limit = 40;
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-conn-" + Guid.NewGuid().ToString("N"));
    private readonly List<Socket> _sockets = [];
    private readonly CapturedLog _log = new();
    private RunnelServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = RunnelServer.Create(new RunnelOptions
        {
            Port = 0,
            DataDir = _dataDir,
            MaxConnections = Limit,
            // Also Kestrel's request-head timeout: long enough that the busy connections of the limit test (which
            // hold half a head) outlive the test on a loaded machine, short enough for the silent ones to go quickly.
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            MaxHeaderBytes = 8192,
            MaxStreamsPerConnection = 3,
        }, logging: _log.Install);
        await _server.StartAsync();
    }

    [Fact(Timeout = 60000)]
    public async Task A_flood_of_silent_connections_is_bounded_and_health_still_answers()
    {
        var silent = await OpenAsync(Limit * 5);
        Assert.InRange(_server.OpenConnections, 1, Limit);

        // A real client gets in at once: the oldest silent connection makes room for it.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var health = await http.GetAsync(new Uri(_server.Url, "/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        // All but the newest Limit were closed by the server, and the rest go at the handshake timeout.
        int closed = 0;
        foreach (var socket in silent)
            if (await ClosedByServerAsync(socket, TimeSpan.FromSeconds(25)))
                closed++;
        Assert.Equal(silent.Count, closed);
        await WaitForAsync(() => _server.OpenConnections <= 1);
        Assert.Contains("silent one(s) closed to make room", _log.AtLeast(LogLevel.Warning), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task At_the_limit_with_every_connection_busy_a_newcomer_is_refused_not_queued()
    {
        // Each of these sends half a request head as soon as it is connected: it has spoken, so it is not evicted.
        // In the full suite another process may dial this port (a client of an earlier server that had it) and hold
        // a slot: then the last of ours is refused, which is the behaviour under test, so it is counted, not failed.
        int refused = 0;
        var head = Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < Limit; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _sockets.Add(socket);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, _server.Url.Port);
                await socket.SendAsync(head);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                refused++;
            }
        }
        Assert.True(refused <= 2, $"{refused} of {Limit} connections under the limit were refused: {_log.AtLeast(LogLevel.Information)}");
        await Task.Delay(200); // accepting is asynchronous
        await WaitForAsync(() => _server.OpenConnections == Limit);

        Socket? newcomer = null;
        try
        {
            newcomer = (await OpenAsync(1))[0];
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            // Refused so fast that the reset reached the client before its connect finished: refused all the same.
        }
        Assert.True(newcomer is null || await ClosedByServerAsync(newcomer, TimeSpan.FromSeconds(5)), "a connection past the limit was left open");
        Assert.Equal(Limit, _server.OpenConnections);
    }

    [Fact(Timeout = 60000)]
    public async Task Headers_over_max_header_bytes_are_answered_431_over_HTTP_1_1_and_HTTP_2()
    {
        foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            using var http = new HttpClient { BaseAddress = _server.Url, DefaultRequestVersion = version, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var small = new HttpRequestMessage(HttpMethod.Get, "/health");
            small.Headers.Add("X-Filler", new string('a', 4000));
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(small)).StatusCode);
            using var large = new HttpRequestMessage(HttpMethod.Get, "/health");
            large.Headers.Add("X-Filler", new string('a', 9000));
            var answer = await http.SendAsync(large);
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, answer.StatusCode);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_connection_that_starts_a_request_head_and_stalls_is_closed()
    {
        var stalled = (await OpenAsync(1))[0];
        await stalled.SendAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\n"));
        Assert.True(await ClosedByServerAsync(stalled, TimeSpan.FromSeconds(30)), "a half-sent request head kept its connection open");
    }

    private async Task<List<Socket>> OpenAsync(int count, byte[]? firstBytes = null)
    {
        var opened = new List<Socket>();
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _sockets.Add(socket);
            await socket.ConnectAsync(IPAddress.Loopback, _server.Url.Port);
            if (firstBytes is not null)
                await socket.SendAsync(firstBytes);
            opened.Add(socket);
        }
        // Accepting is asynchronous: wait until the server has seen them all (admitted or refused).
        await Task.Delay(200);
        return opened;
    }

    /// <summary>True when the server closed the connection (end of stream or reset) within <paramref name="wait"/>.</summary>
    private static async Task<bool> ClosedByServerAsync(Socket socket, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                    return true;
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++)
            await Task.Delay(50);
        Assert.True(condition());
    }

    public async Task DisposeAsync()
    {
        foreach (var socket in _sockets)
            socket.Dispose();
        await _server.DisposeAsync();
        Assert.Empty(_log.AtLeast(LogLevel.Error)); // an exception in the guard is logged by Kestrel, not thrown at the test
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
