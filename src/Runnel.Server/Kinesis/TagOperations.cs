using Runnel.Core.Errors;
using Runnel.Core.Model;

namespace Runnel.Server.Kinesis;

/// <summary>
/// Stream tags, through both the stream API (AddTagsToStream, ...) and the resource API (TagResource, ...); one
/// tag set. The resource API also tags registered consumers by their ARN, with the same limits.
/// </summary>
internal static class TagOperations
{
    public const int MaxTagsPerStream = 50;

    public static ValueTask AddTagsToStream(KinesisRequest r) => AddTags(r, r.StreamName());

    public static ValueTask TagResource(KinesisRequest r) =>
        ResourceArns.ChannelOf(r) is { } channel ? AddChannelTags(r, channel)
        : ResourceArns.ConsumerOf(r) is { } consumer ? AddConsumerTags(r, consumer) : AddTags(r, ResourceArns.StreamOf(r));

    public static ValueTask RemoveTagsFromStream(KinesisRequest r) => RemoveTags(r, r.StreamName());

    public static ValueTask UntagResource(KinesisRequest r) =>
        ResourceArns.ChannelOf(r) is { } channel ? RemoveChannelTags(r, channel)
        : ResourceArns.ConsumerOf(r) is { } consumer ? RemoveConsumerTags(r, consumer) : RemoveTags(r, ResourceArns.StreamOf(r));

    private static ValueTask AddChannelTags(KinesisRequest r, string arn)
    {
        var added = r.Member("Tags")!.Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Kind == Runnel.Protocol.Requests.RequestKind.String ? p.Value.GetString() : "", StringComparer.Ordinal);
        CheckCharacters(added.Keys.Concat(added.Values), r.Channels.Get(arn).Name, r.Streams.AccountId, "add tags to", "channel");
        r.Channels.Tag(arn, added);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    private static ValueTask RemoveChannelTags(KinesisRequest r, string arn)
    {
        var keys = r.Member("TagKeys")!.Value.EnumerateArray().Select(e => e.GetString()).ToList();
        CheckCharacters(keys, r.Channels.Get(arn).Name, r.Streams.AccountId, "remove tags from", "channel");
        r.Channels.Untag(arn, keys);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    private static ValueTask AddConsumerTags(KinesisRequest r, ConsumerResource c)
    {
        var added = r.Member("Tags")!.Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Kind == Runnel.Protocol.Requests.RequestKind.String ? p.Value.GetString() : "", StringComparer.Ordinal);
        r.Streams.Consumers.Change(c.Stream, c.Name, c.CreationSeconds, consumer =>
        {
            CheckCharacters(added.Keys.Concat(added.Values), c.Name, r.AccountOf(c.Stream.Name), "add tags to", "consumer");
            var merged = new Dictionary<string, string>(consumer.Tags, StringComparer.Ordinal);
            foreach (var (key, value) in added)
                merged[key] = value;
            if (merged.Count > MaxTagsPerStream)
                throw TooManyConsumerTags(r.AccountOf(c.Stream.Name), c.Name);
            return consumer with { Tags = merged };
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    private static ValueTask RemoveConsumerTags(KinesisRequest r, ConsumerResource c)
    {
        var keys = r.Member("TagKeys")!.Value.EnumerateArray().Select(e => e.GetString()).ToList();
        r.Streams.Consumers.Change(c.Stream, c.Name, c.CreationSeconds, consumer =>
        {
            CheckCharacters(keys, c.Name, r.AccountOf(c.Stream.Name), "remove tags from", "consumer");
            var remaining = new Dictionary<string, string>(consumer.Tags, StringComparer.Ordinal);
            foreach (string key in keys)
                remaining.Remove(key);
            return consumer with { Tags = remaining };
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>A consumer past 50 tags: the stream's text with "consumer" for "stream" (AWS's text for consumers not captured).</summary>
    public static KinesisException TooManyConsumerTags(string account, string consumerName) =>
        KinesisErrors.InvalidArgument($"Failed to add tags to consumer {consumerName} under account {account} because a given consumer cannot have more than {MaxTagsPerStream} tags associated with it.");

    private static ValueTask AddTags(KinesisRequest r, string name)
    {
        var added = r.Member("Tags")!.Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Kind == Runnel.Protocol.Requests.RequestKind.String ? p.Value.GetString() : "", StringComparer.Ordinal);
        r.Streams.Update(name, stream =>
        {
            CheckCharacters(added.Keys.Concat(added.Values), name, r.Streams.AccountId, "add tags to");
            var merged = new Dictionary<string, string>(stream.Tags, StringComparer.Ordinal);
            foreach (var (key, value) in added)
                merged[key] = value;
            if (merged.Count > MaxTagsPerStream)
                throw KinesisErrors.InvalidArgument($"Failed to add tags to stream {KinesisRequest.Plain(name)} under account {r.AccountOf(name)} because a given stream cannot have more than {MaxTagsPerStream} tags associated with it.");
            return stream with { Tags = merged };
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    private static ValueTask RemoveTags(KinesisRequest r, string name)
    {
        var keys = r.Member("TagKeys")!.Value.EnumerateArray().Select(e => e.GetString()).ToList();
        r.Streams.Update(name, stream =>
        {
            CheckCharacters(keys, name, r.Streams.AccountId, "remove tags from");
            var remaining = new Dictionary<string, string>(stream.Tags, StringComparer.Ordinal);
            foreach (string key in keys)
                remaining.Remove(key);
            return stream with { Tags = remaining };
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask ListTagsForStream(KinesisRequest r)
    {
        var stream = r.Streams.Get(r.StreamName());
        string? after = r.String("ExclusiveStartTagKey");
        int limit = (int)(r.Integer("Limit") ?? MaxTagsPerStream);
        var tags = stream.Tags.Where(t => after is null || string.CompareOrdinal(t.Key, after) > 0)
            .OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        var w = r.Response;
        w.StartObject();
        WriteTags(w, tags.Take(limit));
        w.Boolean("HasMoreTags", tags.Count > limit);
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    public static ValueTask ListTagsForResource(KinesisRequest r)
    {
        IEnumerable<KeyValuePair<string, string>> tags = ResourceArns.ChannelOf(r) is { } channel ? r.Channels.Get(channel).Tags
            : ResourceArns.ConsumerOf(r) is { } c ? r.Streams.Consumers.Get(c.Stream, c.Name, c.CreationSeconds).Tags
            : r.Streams.Get(ResourceArns.StreamOf(r)).Tags;
        var w = r.Response;
        w.StartObject();
        WriteTags(w, tags.OrderBy(t => t.Key, StringComparer.Ordinal));
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    private static void WriteTags(Protocol.IWireWriter w, IEnumerable<KeyValuePair<string, string>> tags)
    {
        w.StartArray("Tags");
        foreach (var (key, value) in tags)
        {
            w.StartObject();
            w.String("Key", key);
            w.String("Value", value);
            w.EndObject();
        }
        w.EndArray();
    }

    /// <summary>Tags allow Unicode letters and digits, white space and <c>_ . : / = + - % @</c>; '%' then gets its own error, as on AWS.
    /// A stream's name may be the qualified one (<see cref="StreamNames"/>): the message shows its own name and account.</summary>
    public static void CheckCharacters(IEnumerable<string> texts, string resourceName, string accountId, string action, string resourceKind = "stream")
    {
        if (resourceKind == "stream")
            (resourceName, accountId) = (StreamNames.Plain(resourceName), StreamNames.AccountOf(resourceName, accountId));
        var all = texts.ToList();
        foreach (string text in all)
            foreach (char c in text)
                if (!(char.IsLetterOrDigit(c) || c == ' ' || "_./=+-%@:".Contains(c, StringComparison.Ordinal)))
                    throw KinesisErrors.InvalidArgument("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.");
        if (all.Any(t => t.Contains('%', StringComparison.Ordinal)))
            throw KinesisErrors.InvalidArgument(
                $"Failed to {action} {resourceKind} {resourceName} under account {accountId} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'.");
    }
}
