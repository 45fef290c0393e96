using System.Text;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Runnel.Storage.JetStream;

/// <summary>
/// The elected node of a cluster, chosen through JetStream itself (docs/adr/0001-kinesis-on-jetstream.md): the
/// holder of the key <c>leader</c> in a key-value bucket whose age limit is the lease. A node takes the key when
/// it is absent (or released), renews it by writing it again, and the server removes it when its holder stops
/// renewing (dies, or loses JetStream) for the length of the lease, so another node's next attempt takes it.
/// Every change is a <see cref="KeyValueCas"/> (safe with changes in flight on nats-server 2.9).
/// <para>A holder counts itself the leader only until its last renewal began plus four fifths of the lease: by
/// then it has renewed or it stops acting, before the server can let another node take over. Thread-safe.</para>
/// </summary>
public sealed class JetStreamLease : IAsyncDisposable
{
    private const string Key = "leader";

    private readonly KeyValueCas _cas;
    private readonly byte[] _me;
    private readonly TimeSpan _lease;
    private readonly TimeProvider _clock;
    private readonly CancellationTokenSource _stop = new();
    private long _heldUntilTicks; // the clock's timestamp until which this node may act as leader; 0 when it does not hold it
    private Task? _running;
    private int _announced; // what Changed last said: 1 held, 0 not

    private JetStreamLease(KeyValueCas cas, string nodeId, TimeSpan lease, TimeProvider clock)
    {
        _cas = cas;
        _me = Encoding.UTF8.GetBytes(nodeId);
        NodeId = nodeId;
        _lease = lease;
        _clock = clock;
    }

    public string NodeId { get; }

    /// <summary>Opens (creating when absent) the bucket <paramref name="bucket"/>, whose age limit is <paramref name="lease"/>.</summary>
    public static async Task<JetStreamLease> OpenAsync(INatsJSContext js, string bucket, string nodeId, TimeSpan lease, int replicas, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        var config = new NatsKVConfig(bucket) { History = 1, MaxAge = lease, NumberOfReplicas = replicas, Storage = NatsKVStorageType.File };
        await Unanswered.RetryWithinAsync(async within => await new NatsKVContext(js).CreateOrUpdateStoreAsync(config, within).ConfigureAwait(false), cancellationToken, Unanswered.StartBudget, startUp: true).ConfigureAwait(false);
        return new JetStreamLease(new KeyValueCas(js, bucket), nodeId, lease, clock);
    }

    /// <summary>True while this node holds the lease and may do the work that must be done once.</summary>
    public bool IsHeld
    {
        get
        {
            long until = Interlocked.Read(ref _heldUntilTicks);
            return until != 0 && _clock.GetTimestamp() < until;
        }
    }

    /// <summary>Raised when this node becomes the leader (true) or stops being it (false), as an attempt finds (a
    /// started lease attempts every fifth of the lease; a lease that ran out between attempts is reported at the next).</summary>
    public event Action<bool>? Changed;

    /// <summary>One attempt: takes the lease if it is free, renews it if this node holds it. True when this node holds it after.</summary>
    public async Task<bool> TryAcquireAsync(CancellationToken cancellationToken = default)
    {
        long started = _clock.GetTimestamp();
        bool held;
        try
        {
            byte[]? holder = await _cas.ChangeAsync(Key, current => current is null || current.Length == 0 || current.AsSpan().SequenceEqual(_me) ? _me : null, cancellationToken).ConfigureAwait(false);
            held = holder is not null && holder.AsSpan().SequenceEqual(_me);
        }
        catch (Exception e) when (e is IOException or NATS.Client.Core.NatsException or TimeoutException)
        {
            held = false; // JetStream out of reach: whoever can reach it may take over once the lease ends
        }
        Interlocked.Exchange(ref _heldUntilTicks, held ? started + (long)(_lease.TotalSeconds * 0.8 * _clock.TimestampFrequency) : 0);
        Announce(held);
        return held;
    }

    /// <summary>Keeps trying (and renewing) every fifth of the lease until disposed.</summary>
    public void Start() => _running ??= Task.Run(RunAsync);

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_lease / 5, _clock);
        try
        {
            do
            {
                await TryAcquireAsync(_stop.Token).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Gives the lease up at once (a node shutting down): another node takes it on its next attempt.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Exchange(ref _heldUntilTicks, 0);
        await _cas.ChangeAsync(Key, current => current is not null && current.AsSpan().SequenceEqual(_me) ? [] : null, cancellationToken).ConfigureAwait(false);
        Announce(false);
    }

    private void Announce(bool held)
    {
        if (Interlocked.Exchange(ref _announced, held ? 1 : 0) != (held ? 1 : 0))
            Changed?.Invoke(held);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_running is not null)
            await _running.ConfigureAwait(false);
        _stop.Dispose();
    }
}
