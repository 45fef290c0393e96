using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Core.Throughput;
using Runnel.Storage;

namespace Runnel.Server.Streams;

/// <summary>
/// The live SubscribeToShard subscriptions, one per consumer and shard as on AWS: a new one within
/// <see cref="TakeoverAfter"/> of the current one's start is refused with ResourceInUseException; a later one
/// takes over, and the current one ends with a ResourceInUseException event. Also holds each consumer's read
/// budget per shard, apart from the shard's GetRecords readers. On a cluster the holder of each consumer and shard
/// is also claimed in JetStream (<see cref="ISubscriptionClaims"/>), so that the rules hold across nodes: a claim
/// another node made within 5 seconds refuses the call here, and a claim made elsewhere ends the subscription here.
/// The once-a-second call rate is counted per node. Thread-safe.
/// </summary>
public sealed class SubscriptionRegistry
{
    private readonly ThroughputLimits _limits;
    private readonly TimeProvider _clock;
    private readonly ISubscriptionClaims? _claims;

    public SubscriptionRegistry(ThroughputLimits limits, TimeProvider clock, ISubscriptionClaims? claims = null)
    {
        _limits = limits;
        _clock = clock;
        _claims = claims;
        if (claims is not null)
            claims.Claimed += OnClaimed;
    }

    /// <summary>How long a subscription is protected from being taken over (AWS: 5 seconds).</summary>
    public static readonly TimeSpan TakeoverAfter = TimeSpan.FromSeconds(5);

    private readonly Dictionary<(string Consumer, long Stream, int Shard), Lease> _leases = [];
    private readonly Dictionary<(string Consumer, long Stream, int Shard), ConsumerShard> _consumerShards = [];
    private readonly Lock _lock = new();

    /// <summary>Subscriptions open now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _leases.Count;
        }
    }

    /// <summary>With limits on, how often one consumer may call SubscribeToShard for one shard (AWS: once a second).</summary>
    public static readonly TimeSpan CallInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Starts a subscription of <paramref name="consumerArn"/> to a shard, taking over an older one. Throws
    /// LimitExceededException for a second call within a second (with limits on), and ResourceInUseException
    /// when the current subscription, here or on another node, began less than 5 seconds ago. Dispose the lease when
    /// the subscription ends.
    /// </summary>
    public async Task<Lease> BeginAsync(string consumerArn, long streamId, ShardInfo shard)
    {
        var key = (consumerArn, streamId, shard.Index);
        var now = _clock.GetUtcNow();
        ConsumerShard state;
        lock (_lock)
        {
            if (!_consumerShards.TryGetValue(key, out state!))
            {
                Prune(now);
                // Bytes are charged after each read and repaid at the rate, as for GetRecords.
                _consumerShards[key] = state = new ConsumerShard(new TokenBucket(_limits.ConsumerReadBytesPerSecond, 0, StreamService.PreciseMillis(now)));
            }
            else if (_limits.Enabled && now - state.LastCall < CallInterval)
            {
                throw KinesisErrors.LimitExceeded(
                    $"Rate exceeded for consumer {consumerArn} and shard {shard.ShardId}: SubscribeToShard may be called once per second per consumer and shard.");
            }
            state.LastCall = now;
            if (_leases.TryGetValue(key, out var current) && now - current.Started < TakeoverAfter)
                throw InUse(consumerArn, shard);
        }
        string id = Guid.NewGuid().ToString("N");
        string claimKey = _claims is null ? "" : ClaimKey(key); // one node: nothing to claim
        if (_claims is not null && await _claims.ClaimAsync(claimKey, id, now.ToUnixTimeMilliseconds(), TakeoverAfter).ConfigureAwait(false) is not null)
            throw InUse(consumerArn, shard); // another node's subscription began less than 5 s ago
        var lease = new Lease(this, key, claimKey, id, now, _limits.Enabled ? state.Budget : null);
        Lease? replaced;
        lock (_lock)
        {
            if (_leases.TryGetValue(key, out replaced) && now - replaced.Started < TakeoverAfter && _claims is null)
                throw InUse(consumerArn, shard); // one begun here meanwhile
            _leases[key] = lease;
        }
        replaced?.TakeOver(); // outside the lock: the old subscription wakes and ends with a ResourceInUseException event
        return lease;
    }

    private static KinesisException InUse(string consumerArn, ShardInfo shard) => KinesisErrors.ResourceInUse(
        $"Another active subscription exists for consumer {consumerArn} on shard {shard.ShardId}. A new subscription can take over {TakeoverAfter.TotalSeconds:0} seconds after it began.");

    /// <summary>A consumer and shard as one key token of the claims' bucket (an ARN holds characters keys may not).</summary>
    private static string ClaimKey((string Consumer, long Stream, int Shard) key) =>
        string.Create(CultureInfo.InvariantCulture, $"{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.Consumer)), 0, 16)}.{key.Stream}.{key.Shard}");

    /// <summary>A subscription claimed a key, here or on another node: a holder here that began before it ends (a
    /// late report of an older claim leaves a newer holder be).</summary>
    private void OnClaimed(string claimKey, string id, long startedMillis)
    {
        Lease? lost = null;
        lock (_lock)
        {
            foreach (var lease in _leases.Values)
            {
                if (lease.ClaimKey == claimKey && lease.Id != id && lease.Started.ToUnixTimeMilliseconds() <= startedMillis)
                {
                    lost = lease;
                    break;
                }
            }
        }
        lost?.TakeOver();
    }

    /// <summary>Forgets the budgets of consumer-shard pairs idle for a minute (their debt is long repaid), so that
    /// deleted streams and consumers leave nothing behind. Caller holds the lock.</summary>
    private void Prune(DateTimeOffset now)
    {
        if (_consumerShards.Count < 1024)
            return;
        foreach (var (key, state) in _consumerShards.ToList())
            if (now - state.LastCall > TimeSpan.FromMinutes(1) && !_leases.ContainsKey(key))
                _consumerShards.Remove(key);
    }

    private sealed class ConsumerShard(TokenBucket budget)
    {
        public TokenBucket Budget { get; } = budget;

        public DateTimeOffset LastCall { get; set; } = DateTimeOffset.MinValue;
    }

    private void End(Lease lease)
    {
        lock (_lock)
            if (_leases.TryGetValue(lease.Key, out var current) && current == lease)
                _leases.Remove(lease.Key);
        if (_claims is not null)
            _ = ReleaseAsync(lease);
    }

    private async Task ReleaseAsync(Lease lease)
    {
        try
        {
            await _claims!.ReleaseAsync(lease.ClaimKey, lease.Id).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Whatever JetStream answered, the claim is left to run out: one more than 5 seconds old is taken over anyway.
        }
    }

    /// <summary>One subscription's hold on its consumer and shard.</summary>
    public sealed class Lease(SubscriptionRegistry owner, (string Consumer, long Stream, int Shard) key, string claimKey, string id, DateTimeOffset started, TokenBucket? budget) : IDisposable
    {
        private readonly CancellationTokenSource _takenOver = new();

        internal (string Consumer, long Stream, int Shard) Key { get; } = key;

        internal string ClaimKey { get; } = claimKey;

        internal string Id { get; } = id;

        public DateTimeOffset Started { get; } = started;

        /// <summary>The consumer's read budget on this shard (bytes per second), or null when limits are off.</summary>
        public TokenBucket? Budget { get; } = budget;

        /// <summary>Fires when a newer subscription took over.</summary>
        public CancellationToken TakenOver => _takenOver.Token;

        internal void TakeOver()
        {
            try
            {
                _takenOver.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // ended meanwhile
            }
        }

        public void Dispose()
        {
            owner.End(this);
            _takenOver.Dispose();
        }
    }
}
