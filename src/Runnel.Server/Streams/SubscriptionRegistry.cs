using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Core.Throughput;

namespace Runnel.Server.Streams;

/// <summary>
/// The live SubscribeToShard subscriptions, one per consumer and shard as on AWS: a new one within
/// <see cref="TakeoverAfter"/> of the current one's start is refused with ResourceInUseException; a later one
/// takes over, and the current one ends with a ResourceInUseException event. Also holds each consumer's read
/// budget per shard, apart from the shard's GetRecords readers. Thread-safe.
/// </summary>
public sealed class SubscriptionRegistry(ThroughputLimits limits, TimeProvider clock)
{
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
    /// when the current subscription began less than 5 seconds ago. Dispose the lease when the subscription ends.
    /// </summary>
    public Lease Begin(string consumerArn, long streamId, ShardInfo shard)
    {
        var key = (consumerArn, streamId, shard.Index);
        var now = clock.GetUtcNow();
        Lease lease;
        Lease? replaced;
        lock (_lock)
        {
            if (!_consumerShards.TryGetValue(key, out var state))
            {
                Prune(now);
                // Bytes are charged after each read and repaid at the rate, as for GetRecords.
                _consumerShards[key] = state = new ConsumerShard(new TokenBucket(limits.ConsumerReadBytesPerSecond, 0, StreamService.PreciseMillis(now)));
            }
            else if (limits.Enabled && now - state.LastCall < CallInterval)
            {
                throw KinesisErrors.LimitExceeded(
                    $"Rate exceeded for consumer {consumerArn} and shard {shard.ShardId}: SubscribeToShard may be called once per second per consumer and shard.");
            }
            state.LastCall = now;
            if (_leases.TryGetValue(key, out replaced) && now - replaced.Started < TakeoverAfter)
                throw KinesisErrors.ResourceInUse(
                    $"Another active subscription exists for consumer {consumerArn} on shard {shard.ShardId}. A new subscription can take over {TakeoverAfter.TotalSeconds:0} seconds after it began.");
            lease = new Lease(this, key, now, limits.Enabled ? state.Budget : null);
            _leases[key] = lease;
        }
        replaced?.TakeOver(); // outside the lock: the old subscription wakes and ends with a ResourceInUseException event
        return lease;
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
    }

    /// <summary>One subscription's hold on its consumer and shard.</summary>
    public sealed class Lease(SubscriptionRegistry owner, (string Consumer, long Stream, int Shard) key, DateTimeOffset started, TokenBucket? budget) : IDisposable
    {
        private readonly CancellationTokenSource _takenOver = new();

        internal (string Consumer, long Stream, int Shard) Key { get; } = key;

        public DateTimeOffset Started { get; } = started;

        /// <summary>The consumer's read budget on this shard (bytes per second), or null when limits are off.</summary>
        public TokenBucket? Budget { get; } = budget;

        /// <summary>Fires when a newer subscription took over.</summary>
        public CancellationToken TakenOver => _takenOver.Token;

        internal void TakeOver() => _takenOver.Cancel();

        public void Dispose()
        {
            owner.End(this);
            _takenOver.Dispose();
        }
    }
}
