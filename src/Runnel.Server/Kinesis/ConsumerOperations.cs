using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Protocol;

namespace Runnel.Server.Kinesis;

/// <summary>
/// Handlers of registered stream consumers (enhanced fan-out's control plane): RegisterStreamConsumer,
/// DescribeStreamConsumer, ListStreamConsumers, DeregisterStreamConsumer. The state lives in
/// <see cref="Streams.ConsumerRegistry"/>.
/// </summary>
internal static class ConsumerOperations
{
    private const int DefaultMaxResults = 100;

    public static ValueTask RegisterStreamConsumer(KinesisRequest r)
    {
        var stream = r.Streams.Get(r.StreamName());
        string name = r.String("ConsumerName")!;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.Member("Tags") is { } tagMap)
        {
            foreach (var tag in tagMap.EnumerateObject())
                tags[tag.Name] = tag.Value.Kind == Runnel.Protocol.Requests.RequestKind.String ? tag.Value.GetString() : "";
            TagOperations.CheckCharacters(tags.Keys.Concat(tags.Values), name, r.AccountOf(stream.Name), "add tags to", "consumer");
            if (tags.Count > TagOperations.MaxTagsPerStream)
                throw TagOperations.TooManyConsumerTags(r.AccountOf(stream.Name), name);
        }
        // A stream being created or deleted takes no consumers (AWS's text for this case not captured).
        if (stream.Status is StreamStatus.Creating or StreamStatus.Deleting)
            throw KinesisErrors.StreamNotActive(stream.Name, r.Streams.AccountId, stream.Status.ToWire());
        var consumer = r.Streams.Consumers.Register(stream, name, tags);
        var w = r.Response;
        w.StartObject();
        w.StartObject("Consumer");
        Fields(w, consumer, r.Streams.ArnOf(stream.Name));
        w.EndObject();
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    public static ValueTask DescribeStreamConsumer(KinesisRequest r)
    {
        var (stream, name, seconds) = Locate(r);
        var consumer = r.Streams.Consumers.Get(stream, name, seconds);
        string streamArn = r.Streams.ArnOf(stream.Name);
        var w = r.Response;
        w.StartObject();
        w.StartObject("ConsumerDescription");
        Fields(w, consumer, streamArn);
        w.String("StreamARN", streamArn);
        w.EndObject();
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    public static ValueTask DeregisterStreamConsumer(KinesisRequest r)
    {
        var (stream, name, seconds) = Locate(r);
        r.Streams.Consumers.Deregister(stream, name, seconds);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask ListStreamConsumers(KinesisRequest r)
    {
        string? token = r.String("NextToken");
        if (token is not null && r.Member("StreamCreationTimestamp") is not null)
            throw KinesisErrors.InvalidArgument("NextToken and StreamCreationTimestamp cannot be provided together.");
        var stream = r.Streams.Get(r.StreamName());
        if (r.TimestampMillis("StreamCreationTimestamp") is { } created && Math.Floor(created / 1000.0) != stream.CreatedAt.ToUnixTimeSeconds())
            throw KinesisErrors.StreamNotFound(stream.Name, r.Streams.AccountId);
        var now = r.Streams.Now;
        string? after = null;
        if (token is not null)
        {
            var page = PageToken.DecodeConsumers(token, now);
            if (page.StreamName != stream.Name)
                throw KinesisErrors.InvalidArgument("Invalid NextToken.");
            if (page.StreamCreatedMillis != stream.CreatedAt.ToUnixTimeMilliseconds())
                throw KinesisErrors.ExpiredNextToken("The stream the NextToken was issued for has since been deleted. Please call ListStreamConsumers again without NextToken.");
            after = page.LastConsumerName;
        }
        // AWS returns at most 100 however many are asked for.
        int limit = (int)Math.Min(r.Integer("MaxResults") ?? DefaultMaxResults, DefaultMaxResults);
        var remaining = r.Streams.Consumers.List(stream).Where(c => after is null || string.CompareOrdinal(c.Name, after) > 0).ToList();
        string streamArn = r.Streams.ArnOf(stream.Name);
        var w = r.Response;
        w.StartObject();
        w.StartArray("Consumers");
        foreach (var consumer in remaining.Take(limit))
        {
            w.StartObject();
            Fields(w, consumer, streamArn);
            w.EndObject();
        }
        w.EndArray();
        if (remaining.Count > limit)
            w.String("NextToken", PageToken.EncodeConsumers(new PageToken.ConsumerPage(
                stream.Name, stream.CreatedAt.ToUnixTimeMilliseconds(), remaining[limit - 1].Name, now.ToUnixTimeMilliseconds())));
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The stream and consumer a Describe or Deregister request names: by ConsumerARN (with the creation second
    /// it carries), or by StreamARN and ConsumerName. All three may be given if they agree, as on AWS.
    /// </summary>
    private static (StreamInfo Stream, string Name, long? CreationSeconds) Locate(KinesisRequest r)
    {
        string? consumerArn = r.String("ConsumerARN");
        string? name = r.String("ConsumerName");
        string? streamArn = r.String("StreamARN");
        if (consumerArn is null)
        {
            if (name is null || streamArn is null)
                throw KinesisErrors.InvalidArgument("Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
            return (r.Streams.Get(r.StreamName()), name, null);
        }
        var (streamName, consumerName, seconds) = ParseConsumerArn(r, consumerArn);
        if (name is not null && name != consumerName)
            throw KinesisErrors.InvalidArgument("ConsumerARN and ConsumerName do not refer to the same consumer.");
        if (streamArn is not null && !consumerArn.StartsWith(streamArn + "/consumer/", StringComparison.Ordinal))
            throw KinesisErrors.InvalidArgument("ConsumerARN and StreamARN do not refer to the same stream.");
        return (r.Streams.Get(streamName), consumerName, seconds);
    }

    /// <summary>
    /// A consumer ARN's stream (as the catalog holds it: of the ARN's account, <see cref="StreamNames"/>), name and
    /// creation second. One that matches the model's pattern but not the ARN format is an InvalidArgumentException;
    /// one of another region names no stream here.
    /// </summary>
    public static (string StreamName, string ConsumerName, long CreationSeconds) ParseConsumerArn(KinesisRequest r, string arn)
    {
        if (!ConsumerArn.TryParse(arn, out string region, out string account, out string streamName, out string consumerName, out long seconds))
            throw KinesisErrors.InvalidArgument($"Invalid ConsumerARN: {arn}");
        if (region != r.Streams.Options.Region)
            throw KinesisErrors.StreamNotFound(streamName, account);
        return (r.Streams.KeyOf(account, streamName), consumerName, seconds);
    }

    /// <summary>The members of AWS's Consumer structure (ConsumerDescription adds StreamARN).</summary>
    private static void Fields(IWireWriter w, ConsumerInfo consumer, string streamArn)
    {
        w.String("ConsumerName", consumer.Name);
        w.String("ConsumerARN", ConsumerArn.Format(streamArn, consumer.Name, consumer.CreatedSeconds));
        w.String("ConsumerStatus", consumer.Status.ToWire());
        // Whole seconds, as in the ARN (AWS's ConsumerCreationTimestamp has no fraction either).
        w.Timestamp("ConsumerCreationTimestamp", consumer.CreatedSeconds * 1000);
    }
}
