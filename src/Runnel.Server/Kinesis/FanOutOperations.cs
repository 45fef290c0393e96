using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>SubscribeToShard: checks the request and starts the subscription; <see cref="SubscriptionResponse"/> pushes it.</summary>
internal static class FanOutOperations
{
    /// <summary>
    /// Everything AWS refuses before the event stream starts comes back as an ordinary error response: an unknown
    /// or inactive consumer, an unknown shard, a bad starting position, a subscription taken less than 5 seconds
    /// ago. Then the subscription is handed to the endpoint, which streams it.
    /// </summary>
    public static async ValueTask SubscribeToShard(KinesisRequest r)
    {
        string arn = r.String("ConsumerARN")!;
        var (key, consumerName, seconds) = ConsumerOperations.ParseConsumerArn(r, arn);
        var (streamName, account) = r.Shown(key);
        var stream = r.Streams.Find(key);
        if (stream is null || stream.Status is StreamStatus.Creating or StreamStatus.Deleting)
            throw KinesisErrors.StreamNotFound(streamName, account);
        var consumer = r.Streams.Consumers.Get(stream, consumerName, seconds);
        if (consumer.Status != ConsumerStatus.Active)
            throw KinesisErrors.ResourceInUse($"Consumer {arn} is not in ACTIVE state, instead in {consumer.Status.ToWire()} state.");

        // Shard ids as GetShardIterator reads them, with its two messages.
        string shardIdText = r.String("ShardId")!;
        if (!RecordOperations.TryNormalizeShardId(shardIdText, out int index))
            throw KinesisErrors.ResourceNotFound($"Could not find shard {shardIdText} in stream {streamName} under account {account}.");
        if (stream.FindShard(index) is null)
        {
            await r.Streams.CatchUpAsync(); // a child another node's reshard made a moment ago?
            stream = r.Streams.Find(key) ?? throw KinesisErrors.StreamNotFound(streamName, account);
        }
        var shard = stream.FindShard(index)
            ?? throw KinesisErrors.ResourceNotFound($"Shard {ShardId.Format(index)} in stream {streamName} under account {account} does not exist");

        var position = r.Member("StartingPosition")!.Value;
        string type = position.GetProperty("Type").GetString();
        string? sequence = position.TryGetProperty("SequenceNumber", out var s) && s.Kind == Runnel.Protocol.Requests.RequestKind.String ? s.GetString() : null;
        long? timestamp = KinesisRequest.TimestampMillis(position.TryGetProperty("Timestamp", out var t) ? t : null);
        var log = r.Streams.Shard(stream, shard);
        // From here the consumer and the shard are known: a refusal is a failed subscription of the consumer's reader.
        var activity = r.Streams.Metrics.Enabled ? r.Streams.Metrics.Activity.Consumer(stream.Name, shard.Index, consumerName) : null;
        ulong offset;
        try
        {
            offset = await StartingPositions.OffsetAsync("SubscribeToShard", type, sequence, timestamp, stream, shard, log, r.Streams.Now, account);
        }
        catch (KinesisException)
        {
            activity?.Failed(null, r.Streams.Now.ToUnixTimeMilliseconds());
            throw;
        }

        r.StopIfDryRun();
        var metrics = r.Streams.Metrics.Consumer(stream.Name, consumerName);
        SubscriptionRegistry.Lease lease;
        try
        {
            lease = await r.Streams.Subscriptions.BeginAsync(arn, stream.Id, shard);
        }
        catch (KinesisException e) when (e.ErrorType is "LimitExceededException" or "ResourceInUseException")
        {
            metrics.Subscribed(refusedForRate: true);
            activity?.Failed(null, r.Streams.Now.ToUnixTimeMilliseconds());
            throw;
        }
        metrics.Subscribed(refusedForRate: false);
        activity?.Subscribed(r.Client, offset, r.Streams.Now.ToUnixTimeMilliseconds());
        r.Subscription = new ShardSubscription(r.Streams, stream, shard, consumer, offset, lease) { Metrics = metrics, Activity = activity };
        return;
    }
}
