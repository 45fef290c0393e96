using System.Collections.Concurrent;
using Runnel.Core.Errors;
using Runnel.Core.Throughput;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>
/// AWS's account-wide rate limits on control-plane operations (DescribeStream 10/s, CreateStream 5/s, ...),
/// answered with LimitExceededException as AWS does. Off when throughput limits are off. Thread-safe.
/// </summary>
internal sealed class ControlPlaneLimits(StreamService streams)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    public void Check(Operation operation, KinesisRequest request)
    {
        if (!streams.Options.Limits.Enabled || operation.AccountRate is not { } rate)
            return;
        double now = streams.PreciseNowMillis;
        var bucket = _buckets.GetOrAdd(operation.Name, _ => new TokenBucket(rate, rate, now));
        if (bucket.TryTake(1, now))
            return;
        string? stream = request.String("StreamName") ?? StreamOfArn(request.String("StreamARN") ?? request.String("ResourceARN"));
        throw KinesisErrors.LimitExceeded(stream is null
            ? $"Rate exceeded for account {streams.AccountId}."
            : KinesisErrors.StreamRateExceeded(stream, streams.AccountId));
    }

    private static string? StreamOfArn(string? arn) =>
        arn is not null && Core.Model.StreamArn.TryParse(arn, out _, out _, out string name) ? name : null;
}
