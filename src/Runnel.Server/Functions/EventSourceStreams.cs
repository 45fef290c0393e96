using Runnel.Core.Model;
using Runnel.Functions.Api;
using Runnel.Server.Streams;

namespace Runnel.Server.Functions;

/// <summary>What the event-source mappings ask of the streams, answered from the stream service. Thread-safe.</summary>
public sealed class EventSourceStreams(StreamService streams) : IEventSourceStreams
{
    public bool Exists(string account, string arn)
    {
        // arn:aws:kinesis:REGION:ACCOUNT:stream/NAME[/consumer/CONSUMER:CREATED]
        var parts = arn.Split(':', 6);
        if (parts.Length < 6 || parts[4] != account)
            return false;
        var path = parts[5].Split('/');
        if (path.Length < 2 || path[0] != "stream")
            return false;
        var stream = streams.Find(StreamNames.Qualify(account, path[1], streams.AccountId));
        if (stream is null || stream.Status == StreamStatus.Deleting)
            return false;
        if (path.Length == 2)
            return true;
        var consumerName = path.Length == 4 && path[2] == "consumer" ? path[3].Split(':') : null;
        return consumerName is { Length: 2 } && streams.Consumers.Find(stream, consumerName[0]) is { } consumer
            && consumer.CreatedSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) == consumerName[1];
    }
}
