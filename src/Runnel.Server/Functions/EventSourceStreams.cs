using Runnel.Core.Model;
using Runnel.Functions.Api;
using Runnel.Server.Streams;

namespace Runnel.Server.Functions;

/// <summary>What the event-source mappings ask of the streams, answered from the stream service. Thread-safe.</summary>
public sealed class EventSourceStreams(StreamService streams) : IEventSourceStreams
{
    public bool Exists(string account, string arn)
    {
        var parts = arn.Split(':', 6);
        return parts.Length == 6 && parts[4] == account && Problem(arn) is null or "the consumer is CREATING" or "the consumer is DELETING";
    }

    /// <summary>Why a mapping cannot read its source now (the stream or consumer is gone, the consumer not ACTIVE), or null when it can.</summary>
    public string? Problem(string arn)
    {
        // arn:aws:kinesis:REGION:ACCOUNT:stream/NAME[/consumer/CONSUMER:CREATED]
        var parts = arn.Split(':', 6);
        if (parts.Length < 6)
            return "the ARN is not a stream's or a consumer's";
        var path = parts[5].Split('/');
        if (path.Length < 2 || path[0] != "stream")
            return "the ARN is not a stream's or a consumer's";
        var stream = streams.Find(StreamNames.Qualify(parts[4], path[1], streams.AccountId));
        if (stream is null || stream.Status == StreamStatus.Deleting)
            return "the stream does not exist";
        if (path.Length == 2)
            return null;
        var consumerName = path.Length == 4 && path[2] == "consumer" ? path[3].Split(':') : null;
        if (consumerName is not { Length: 2 } || streams.Consumers.Find(stream, consumerName[0]) is not { } consumer
            || consumer.CreatedSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) != consumerName[1])
            return "the consumer is not registered";
        return consumer.Status == ConsumerStatus.Active ? null : $"the consumer is {consumer.Status.ToWire()}";
    }
}
