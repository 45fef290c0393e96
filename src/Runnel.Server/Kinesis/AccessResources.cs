using Runnel.Core.Model;
using Runnel.Protocol.Requests;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>
/// What IAM authorizes a Kinesis or Firehose request against (docs/security.md): the action (<c>kinesis:PutRecord</c>)
/// and the ARN of the resource it acts on, as the service authorization reference names them: the registered consumer
/// for SubscribeToShard and the consumer operations, the stream for the rest (GetRecords: the iterator's stream), the
/// delivery stream for Firehose's, <c>*</c> for the listings that act on none. And, for the evaluation, the resource
/// policy stored for an ARN.
/// </summary>
internal static class AccessResources
{
    /// <summary>The ARN a Kinesis request acts on, or <c>*</c>.</summary>
    /// <param name="account">The caller's account: a stream named by name is one of its.</param>
    public static string OfKinesis(string operation, RequestValue root, StreamService streams, string account)
    {
        if (Text(root, "ConsumerARN") is { } consumer)
            return consumer;
        if (Text(root, "ChannelARN") is { } channel)
            return channel;
        if (Text(root, "ResourceARN") is { } resource)
            return resource;
        if (operation == "GetRecords")
            return Text(root, "ShardIterator") is { } token && streams.Iterators.TryDecode(token, out var position)
                ? streams.ArnOf(position.StreamName)
                : Text(root, "StreamARN") ?? "*"; // an iterator that does not decode is refused by GetRecords itself
        string? streamArn = Text(root, "StreamARN") ?? (Text(root, "StreamName") is { } name ? StreamArn.Format(streams.Options.Region, account, name) : null);
        if (streamArn is not null && operation is "DescribeStreamConsumer" or "DeregisterStreamConsumer" && Text(root, "ConsumerName") is { } consumerName)
            return ConsumerArnOf(streams, streamArn, consumerName);
        return streamArn ?? "*";
    }

    /// <summary>The ARN a Firehose request acts on: its delivery stream, or <c>*</c>.</summary>
    public static string OfFirehose(RequestValue root, string region, string account) =>
        Text(root, "DeliveryStreamName") is { } name ? $"arn:aws:firehose:{region}:{account}:deliverystream/{name}" : "*";

    /// <summary>The resource policy of a stream or consumer ARN of this server (PutResourcePolicy), or null.</summary>
    public static string? PolicyOf(string arn, StreamService streams)
    {
        if (ConsumerArn.TryParse(arn, out _, out string account, out string streamName, out string consumerName, out _))
            return streams.Find(streams.KeyOf(account, streamName)) is { } s ? streams.Consumers.Find(s, consumerName)?.ResourcePolicy : null;
        return StreamArn.TryParse(arn, out _, out account, out streamName) ? streams.Find(streams.KeyOf(account, streamName))?.ResourcePolicy : null;
    }

    /// <summary>A consumer named by stream and name: its ARN when registered; else the pattern its ARN would have.</summary>
    private static string ConsumerArnOf(StreamService streams, string streamArn, string consumerName) =>
        StreamArn.TryParse(streamArn, out _, out string account, out string streamName) && streams.Find(streams.KeyOf(account, streamName)) is { } stream
            && streams.Consumers.Find(stream, consumerName) is { } consumer
            ? ConsumerArn.Format(streamArn, consumerName, consumer.CreatedSeconds)
            : $"{streamArn}/consumer/{consumerName}:*";

    private static string? Text(RequestValue root, string name) =>
        root.TryGetProperty(name, out var value) && value.Kind == RequestKind.String ? value.GetString() : null;
}
