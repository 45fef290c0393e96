using Runnel.Core.Errors;
using Runnel.Core.Model;

namespace Runnel.Server.Kinesis;

/// <summary>
/// PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy on a stream or registered consumer ARN: the
/// policy is checked as an IAM document (<see cref="PolicyDocument"/>), stored with its resource and returned as
/// it was given. Under <c>--auth sigv4</c> it is enforced with the keys' policies (<see cref="Auth.AccessControl"/>).
/// </summary>
internal static class ResourcePolicyOperations
{
    /// <summary>What GetResourcePolicy answers for a resource without a policy (AWS's answer for this case is not documented).</summary>
    public const string NoPolicy = "{}";

    public static ValueTask PutResourcePolicy(KinesisRequest r)
    {
        string policy = r.String("Policy")!;
        Change(r, _ =>
        {
            PolicyDocument.Check(policy);
            return policy;
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask DeleteResourcePolicy(KinesisRequest r)
    {
        Change(r, _ => null);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask GetResourcePolicy(KinesisRequest r)
    {
        string? policy = ResourceArns.ConsumerOf(r) is { } c
            ? r.Streams.Consumers.Get(c.Stream, c.Name, c.CreationSeconds).ResourcePolicy
            : r.Streams.Get(ResourceArns.StreamOf(r)).ResourcePolicy;
        var w = r.Response;
        w.StartObject();
        w.String("Policy", policy ?? NoPolicy);
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    /// <summary>Sets the policy of the stream or consumer the request names; a stream being created or deleted takes none.</summary>
    private static void Change(KinesisRequest r, Func<string?, string?> change)
    {
        if (ResourceArns.ConsumerOf(r) is { } c)
        {
            r.Streams.Consumers.Change(c.Stream, c.Name, c.CreationSeconds, consumer => consumer with { ResourcePolicy = change(consumer.ResourcePolicy) });
            return;
        }
        r.Streams.Update(ResourceArns.StreamOf(r), stream =>
        {
            if (stream.Status is StreamStatus.Creating or StreamStatus.Deleting)
                throw KinesisErrors.StreamNotActive(stream.Name, r.Streams.AccountId, stream.Status.ToWire());
            return stream with { ResourcePolicy = change(stream.ResourcePolicy) };
        });
    }
}
