using System.Globalization;
using System.Text;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Runnel.Storage.JetStream;

/// <summary>
/// <see cref="ISubscriptionClaims"/> in a key-value bucket: one key per consumer and shard holding
/// <c>{subscription id} {start, Unix ms}</c>, changed only by compare-and-set (<see cref="KeyValueCas"/>), and
/// watched by every node so that a subscription taken over through another node ends. Keys live at most an hour
/// (the bucket's age limit, past the longest subscription Runnel allows): a node that died holding one leaves
/// nothing behind for long, and a new subscription may take over its key after 5 seconds anyway.
/// </summary>
public sealed class JetStreamSubscriptionClaims : ISubscriptionClaims, IAsyncDisposable
{
    private readonly INatsKVStore _kv;
    private readonly KeyValueCas _cas;
    private readonly CancellationTokenSource _stop = new();
    private Task? _watching;

    private JetStreamSubscriptionClaims(INatsKVStore kv, KeyValueCas cas)
    {
        _kv = kv;
        _cas = cas;
    }

    public event Action<string, string, long>? Claimed;

    /// <summary>Opens (creating when absent) the bucket and starts watching it.</summary>
    public static async Task<JetStreamSubscriptionClaims> OpenAsync(INatsJSContext js, string bucket, int replicas, CancellationToken cancellationToken = default)
    {
        var config = new NatsKVConfig(bucket) { History = 1, MaxAge = TimeSpan.FromHours(1), NumberOfReplicas = replicas, Storage = NatsKVStorageType.File };
        var kv = await Unanswered.RetryWithinAsync(async within => await new NatsKVContext(js).CreateOrUpdateStoreAsync(config, within).ConfigureAwait(false), cancellationToken, Unanswered.StartBudget, startUp: true).ConfigureAwait(false);
        var claims = new JetStreamSubscriptionClaims(kv, new KeyValueCas(js, bucket));
        claims._watching = Task.Run(() => claims.WatchAsync(claims._stop.Token));
        return claims;
    }

    public async Task<long?> ClaimAsync(string key, string id, long startedMillis, TimeSpan protectedFor, CancellationToken cancellationToken = default)
    {
        long? heldSince = null;
        byte[] mine = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id} {startedMillis}"));
        await _cas.ChangeAsync(key, current =>
        {
            heldSince = null;
            if (current is { Length: > 0 } && Parse(current) is { } holder && holder.Id != id && startedMillis - holder.Started < (long)protectedFor.TotalMilliseconds)
            {
                heldSince = holder.Started;
                return null; // protected: left as it is
            }
            return mine;
        }, cancellationToken).ConfigureAwait(false);
        return heldSince;
    }

    public async Task ReleaseAsync(string key, string id, CancellationToken cancellationToken = default) =>
        await _cas.ChangeAsync(key, current => current is { Length: > 0 } && Parse(current)?.Id == id ? [] : null, cancellationToken).ConfigureAwait(false);

    private static (string Id, long Started)? Parse(byte[] value)
    {
        string text = Encoding.UTF8.GetString(value);
        int space = text.LastIndexOf(' ');
        return space > 0 && long.TryParse(text.AsSpan(space + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out long started)
            ? (text[..space], started)
            : null;
    }

    /// <summary>Reports every claim made from now on; when the watch fails (JetStream unreachable) it starts again.</summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var entry in _kv.WatchAsync<byte[]>([">"], opts: new NatsKVWatchOpts { UpdatesOnly = true }, cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    if (entry.Operation == NatsKVOperation.Put && entry.Value is { Length: > 0 } value && Parse(value) is { } holder)
                        Claimed?.Invoke(entry.Key, holder.Id, holder.Started);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NATS.Client.Core.NatsException or TimeoutException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_watching is not null)
        {
            try
            {
                await _watching.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }
}
