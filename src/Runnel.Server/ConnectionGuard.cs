using Microsoft.AspNetCore.Connections;

namespace Runnel.Server;

/// <summary>
/// Admits TCP connections and keeps them from taking the server down: at most
/// <see cref="RunnelOptions.MaxConnections"/> are open at once, and a new connection must say enough for
/// Kestrel to pick HTTP/1.1 or HTTP/2 within <see cref="RunnelOptions.HandshakeTimeout"/> or it is closed.
/// At the limit, the oldest connection that has not sent a single byte is closed to make room (an idle flood
/// cannot lock out a real client, or <c>GET /health</c>); when every open connection has spoken, the newcomer
/// is refused (closed at once). After the handshake Kestrel's own timeouts apply (request headers, keep-alive,
/// minimum body rate), set by <see cref="RunnelServer"/>.
/// <para>Thread-safety: the admission state is guarded by one lock; it is touched once per connection event.</para>
/// </summary>
internal sealed class ConnectionGuard(int maxConnections, TimeSpan handshakeTimeout, TimeProvider clock, Action<string> warn)
{
    private static readonly TimeSpan WarningPeriod = TimeSpan.FromSeconds(10);
    private readonly Lock _gate = new();
    private readonly LinkedList<Admission> _silent = new(); // connections that have not sent a byte, oldest first
    private int _open;
    private long _refused, _evicted, _timedOut;
    private long _nextWarningTicks;
    private int _reportPending;

    /// <summary>Connections open now (admitted and not yet finished).</summary>
    public int Open { get { lock (_gate) return _open; } }

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        var admission = Admit(connection);
        if (admission is null)
        {
            connection.Abort(new ConnectionAbortedException("Too many connections."));
            Report();
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(handshakeTimeout, clock);
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, timeout.Token);
            bool spoke = await H2cDetection.DetectAsync(connection, () => Spoke(admission), handshake.Token);
            if (!spoke)
            {
                if (handshake.IsCancellationRequested && !connection.ConnectionClosed.IsCancellationRequested && !admission.Evicted)
                    Interlocked.Increment(ref _timedOut);
                return; // returning closes the connection
            }
            await next(connection);
        }
        finally
        {
            Release(admission);
        }
    };

    private Admission? Admit(ConnectionContext connection)
    {
        Admission? evict = null;
        Admission admitted;
        lock (_gate)
        {
            if (_open >= maxConnections)
            {
                if (_silent.First is not { } oldest)
                {
                    Interlocked.Increment(ref _refused);
                    return null;
                }
                // The newcomer takes the silent connection's place; that one no longer counts.
                _silent.RemoveFirst();
                oldest.Value.Node = null;
                oldest.Value.Evicted = true;
                evict = oldest.Value;
                Interlocked.Increment(ref _evicted);
                _open--;
            }
            _open++;
            admitted = new Admission(connection);
            admitted.Node = _silent.AddLast(admitted);
        }
        evict?.Connection.Abort(new ConnectionAbortedException("Closed to make room: it sent nothing while the server was at its connection limit."));
        if (evict is not null)
            Report();
        return admitted;
    }

    private void Spoke(Admission admission)
    {
        lock (_gate)
        {
            if (admission.Node is { } node)
            {
                _silent.Remove(node);
                admission.Node = null;
            }
        }
    }

    private void Release(Admission admission)
    {
        lock (_gate)
        {
            if (admission.Node is { } node)
            {
                _silent.Remove(node);
                admission.Node = null;
            }
            if (!admission.Evicted)
                _open--;
        }
        if (Volatile.Read(ref _timedOut) > 0)
            Report();
    }

    /// <summary>
    /// Says, at most once per <see cref="WarningPeriod"/>, how many connections were refused, closed to make
    /// room or timed out. Counts that arrive within the period are said at its end (one deferred report is
    /// pending at a time), so the last of a flood is not left unsaid.
    /// </summary>
    private void Report()
    {
        long now = (long)clock.GetElapsedTime(0).TotalMilliseconds; // monotonic
        long due = Volatile.Read(ref _nextWarningTicks);
        if (now < due)
        {
            if (Interlocked.Exchange(ref _reportPending, 1) == 0)
                _ = Task.Delay(TimeSpan.FromMilliseconds(due - now + 1), clock).ContinueWith(_ => ReportDeferred(), TaskScheduler.Default);
            return;
        }
        if (Interlocked.CompareExchange(ref _nextWarningTicks, now + (long)WarningPeriod.TotalMilliseconds, due) != due)
            return;
        long refused = Interlocked.Exchange(ref _refused, 0), evicted = Interlocked.Exchange(ref _evicted, 0), timedOut = Interlocked.Exchange(ref _timedOut, 0);
        if (refused + evicted > 0)
            warn($"At the connection limit ({maxConnections}): {refused} connection(s) refused and {evicted} silent one(s) closed to make room since the last report. " +
                "If these are real clients, raise --max-connections; if not, something is opening connections without using them.");
        if (timedOut > 0)
            warn($"{timedOut} connection(s) closed for sending no request within --handshake-timeout ({handshakeTimeout.TotalMilliseconds:0} ms).");
    }

    private void ReportDeferred()
    {
        Volatile.Write(ref _reportPending, 0);
        try
        {
            Report();
        }
        catch (ObjectDisposedException)
        {
            // The server stopped meanwhile; its log is gone with it.
        }
    }

    private sealed class Admission(ConnectionContext connection)
    {
        public ConnectionContext Connection { get; } = connection;
        public LinkedListNode<Admission>? Node { get; set; }
        public bool Evicted { get; set; }
    }
}
