using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// Holds connections that use a server's resources without doing anything useful, as a careless or hostile
/// client does: half are silent (connected, nothing ever sent), half are slowloris (a request head sent one byte
/// every <c>byteInterval</c>, never finished). Any connection the server closes is opened again, and the time it
/// was held is noted, so the soak can say how many the server closed and how fast. Counters are read from any
/// thread; <see cref="RunAsync"/> is called once.
/// </summary>
public sealed class SlowConnections(Uri endpoint, int count, TimeSpan byteInterval)
{
    /// <summary>How long the first openings are spread over, so that the server does not see them all in one instant.</summary>
    private static readonly TimeSpan RampUp = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);
    private static readonly byte[] Filler = "a"u8.ToArray();

    private readonly Lock _gate = new();
    private readonly LatencySamples _silentLifetimes = new();
    private readonly LatencySamples _slowLifetimes = new();
    private int _held;
    private long _opened, _closedByServer, _answered, _connectFailures;

    /// <summary>Connections open now.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Connections opened so far, reopenings included.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Connections the server closed (a FIN or a reset), with or without an answer first.</summary>
    public long ClosedByServer => Interlocked.Read(ref _closedByServer);

    /// <summary>Connections on which the server sent something (an error answer) before closing.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Attempts to connect that failed (refused, reset during the handshake, timed out).</summary>
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);

    /// <summary>How long the server let silent and slowloris connections stay open before closing them, in ms. Copies.</summary>
    public (LatencySamples Silent, LatencySamples Slowloris) Lifetimes()
    {
        var silent = new LatencySamples();
        var slow = new LatencySamples();
        lock (_gate)
        {
            silent.AddRange(_silentLifetimes);
            slow.AddRange(_slowLifetimes);
        }
        return (silent, slow);
    }

    /// <summary>Holds the connections until <paramref name="stop"/>; the returned task ends once every one is closed.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, count).Select(i => HoldAsync(i, slowloris: i % 2 == 1, stop)));

    private async Task HoldAsync(int index, bool slowloris, CancellationToken stop)
    {
        // The head of a request that is never finished: a header value that grows by a byte at a time, for hours.
        byte[] head = Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: {endpoint.Authority}\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nX-Slow: ");
        var receive = new byte[4096];
        try
        {
            await Task.Delay(RampUp * index / Math.Max(1, count), stop).ConfigureAwait(false);
            while (!stop.IsCancellationRequested)
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                    await socket.ConnectAsync(new DnsEndPoint(endpoint.Host, endpoint.Port), connectTimeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!stop.IsCancellationRequested && e is SocketException or OperationCanceledException)
                {
                    Interlocked.Increment(ref _connectFailures);
                    await Task.Delay(RetryPause, stop).ConfigureAwait(false);
                    continue;
                }
                Interlocked.Increment(ref _opened);
                Interlocked.Increment(ref _held);
                long openedAt = Stopwatch.GetTimestamp();
                try
                {
                    var closed = WaitForCloseAsync(socket, receive, stop);
                    for (long sent = 0; slowloris && !closed.IsCompleted; sent++)
                    {
                        var pause = Task.Delay(byteInterval, stop);
                        if (await Task.WhenAny(closed, pause).ConfigureAwait(false) == closed)
                            break;
                        await pause.ConfigureAwait(false); // throws when stopping
                        int at = (int)Math.Min(sent, head.Length);
                        var next = at < head.Length ? head.AsMemory(at, 1) : Filler;
                        try
                        {
                            await socket.SendAsync(next, SocketFlags.None, stop).ConfigureAwait(false);
                        }
                        catch (SocketException)
                        {
                            break; // closed under us: WaitForCloseAsync sees it too
                        }
                    }
                    if (await closed.ConfigureAwait(false))
                        Interlocked.Increment(ref _answered);
                    Interlocked.Increment(ref _closedByServer);
                    lock (_gate)
                        (slowloris ? _slowLifetimes : _silentLifetimes).Add(openedAt, Stopwatch.GetTimestamp());
                }
                finally
                {
                    Interlocked.Decrement(ref _held);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: the connection is closed by us, not counted.
        }
    }

    /// <summary>Reads until the server closes the connection; whether it sent anything first.</summary>
    private static async Task<bool> WaitForCloseAsync(Socket socket, byte[] buffer, CancellationToken stop)
    {
        bool answered = false;
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, stop).ConfigureAwait(false) > 0)
                answered = true;
        }
        catch (SocketException)
        {
            // A reset is a close too.
        }
        return answered;
    }
}
