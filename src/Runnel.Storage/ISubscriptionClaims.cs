namespace Runnel.Storage;

/// <summary>
/// SubscribeToShard subscriptions as every node of a cluster sees them: one holder per consumer and shard, so that
/// AWS's rules (a second subscription within 5 seconds of the first is refused; a later one takes over and the first
/// ends) hold when the two calls reach different nodes. The embedded node has no other node and no claims.
/// Implemented on JetStream by <c>JetStreamSubscriptionClaims</c>. Thread-safe.
/// </summary>
public interface ISubscriptionClaims
{
    /// <summary>
    /// Makes subscription <paramref name="id"/>, begun at <paramref name="startedMillis"/>, the holder of
    /// <paramref name="key"/>, unless another holder began less than <paramref name="protectedFor"/> before it:
    /// then nothing changes and that holder's start is returned. Null when the claim was made.
    /// </summary>
    Task<long?> ClaimAsync(string key, string id, long startedMillis, TimeSpan protectedFor, CancellationToken cancellationToken = default);

    /// <summary>Gives <paramref name="key"/> up if subscription <paramref name="id"/> still holds it.</summary>
    Task ReleaseAsync(string key, string id, CancellationToken cancellationToken = default);

    /// <summary>Raised, on a thread of the claims', when a subscription claimed a key, on this node or another, with
    /// the key, the subscription's id and its start (Unix ms): a holder that began before it, wherever it is, ends.</summary>
    event Action<string, string, long>? Claimed;
}
