using System.Collections.Concurrent;
using Runnel.Core.Errors;
using Runnel.Core.Throughput;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>
/// AWS's rate limits on control-plane operations, account-wide (DescribeStream 10/s, CreateStream 5/s, ...) or
/// per stream (DescribeStreamConsumer 20/s, ...), answered with LimitExceededException as AWS does. Off when
/// throughput limits are off. Thread-safe.
/// </summary>
internal sealed class ControlPlaneLimits(StreamService streams)
{
    // Past this many buckets, idle (full) ones are dropped: per-stream buckets must not pile up for every
    // stream name a client ever sends.
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    public void Check(Operation operation, KinesisRequest request)
    {
        if (!streams.Options.Limits.Enabled || (operation.AccountRate ?? operation.StreamRate) is not { } rate)
            return;
        double now = streams.PreciseNowMillis;
        // The stream as the catalog holds it (its account's): named by name, the caller's; by ARN, the ARN's.
        string? stream = request.String("StreamName") is { } named
            ? streams.KeyOf(request.Account, named)
            : StreamOfArn(request.String("StreamARN") ?? request.String("ResourceARN") ?? request.String("ConsumerARN"));
        // Per-stream buckets are keyed by the stream; per-account ones by the caller's account; a request whose stream
        // cannot be told shares its account's bucket.
        string key = operation.AccountRate is null ? $"{operation.Name}|{stream}" : $"{operation.Name}|{request.Account}";
        if (_buckets.Count > PruneAbove)
            foreach (var (name, idle) in _buckets)
                if (idle.Available(now) >= idle.Capacity)
                    _buckets.TryRemove(name, out _);
        var bucket = _buckets.GetOrAdd(key, _ => new TokenBucket(rate, rate, now));
        if (bucket.TryTake(1, now))
            return;
        throw KinesisErrors.LimitExceeded(stream is null
            ? $"Rate exceeded for account {request.Account}."
            : KinesisErrors.StreamRateExceeded(stream, streams.AccountId));
    }

    private string? StreamOfArn(string? arn) =>
        arn is null ? null
        : Core.Model.StreamArn.TryParse(arn, out _, out string account, out string name) ? streams.KeyOf(account, name)
        : Core.Model.ConsumerArn.TryParse(arn, out _, out account, out string streamName, out _, out _) ? streams.KeyOf(account, streamName)
        : null;
}
