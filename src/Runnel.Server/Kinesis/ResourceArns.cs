using Runnel.Core.Errors;
using Runnel.Core.Model;

namespace Runnel.Server.Kinesis;

/// <summary>A registered consumer named by its ARN: its stream, name and the creation second the ARN carries.</summary>
internal sealed record ConsumerResource(StreamInfo Stream, string Name, long CreationSeconds);

/// <summary>What a request's <c>ResourceARN</c> names (the tagging and resource-policy operations): a stream or a registered consumer.</summary>
internal static class ResourceArns
{
    /// <summary>The channel ARN a ResourceARN is (the SDKs' endpoint rules take stream or channel ARNs), or null.</summary>
    public static string? ChannelOf(KinesisRequest r)
    {
        string arn = r.String("ResourceARN")!;
        return arn.Split(':', 6) is [_, _, "kinesis", _, _, var resource] && resource.StartsWith("channel/", StringComparison.Ordinal) ? arn : null;
    }

    /// <summary>The consumer a ResourceARN names, or null when it names a stream (<see cref="StreamOf"/> then says which).</summary>
    public static ConsumerResource? ConsumerOf(KinesisRequest r)
    {
        string arn = r.String("ResourceARN")!;
        if (!arn.Contains("/consumer/", StringComparison.Ordinal))
            return null;
        var (streamName, name, seconds) = ConsumerOperations.ParseConsumerArn(r, arn);
        return new ConsumerResource(r.Streams.Get(streamName), name, seconds);
    }

    /// <summary>The stream a ResourceARN names, as the catalog holds it (<see cref="StreamNames"/>; consumer ARNs are taken
    /// by <see cref="ConsumerOf"/> first).</summary>
    public static string StreamOf(KinesisRequest r)
    {
        string arn = r.String("ResourceARN")!;
        if (!StreamArn.TryParse(arn, out string region, out string account, out string name))
            throw KinesisErrors.InvalidArgument($"Invalid ResourceARN: {arn}");
        if (region != r.Streams.Options.Region)
            throw KinesisErrors.StreamNotFound(name, account);
        return r.Streams.KeyOf(account, name);
    }
}
