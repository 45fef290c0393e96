using Runnel.Protocol.Requests;

namespace Runnel.Firehose.Api;

/// <summary>TagDeliveryStream, UntagDeliveryStream and ListTagsForDeliveryStream: at most 50 tags, kept in the order first added.</summary>
internal static class TagOperations
{
    public const int MaxTags = 50;

    /// <summary>The tags of a Tags member, a list of {Key, Value}: a later one of the same key wins.</summary>
    public static List<KeyValuePair<string, string>> Read(RequestValue list) =>
        list.EnumerateArray()
            .Where(t => t.Kind == RequestKind.Object)
            .Select(t => new KeyValuePair<string, string>(
                t.GetProperty("Key").GetString(),
                t.TryGetProperty("Value", out var v) && v.Kind == RequestKind.String ? v.GetString() : ""))
            .ToList();

    /// <summary>Adds or replaces tags, keeping the position of those already there.</summary>
    public static void Merge(List<KeyValuePair<string, string>> tags, IEnumerable<KeyValuePair<string, string>> added)
    {
        foreach (var tag in added)
        {
            int at = tags.FindIndex(t => t.Key == tag.Key);
            if (at >= 0)
                tags[at] = tag;
            else
                tags.Add(tag);
        }
    }

    public static ValueTask Tag(FirehoseRequest r)
    {
        var added = Read(r.Member("Tags")!.Value);
        var account = r.Service.Options.AccountId;
        Change(r, stream =>
        {
            var tags = stream.Tags.ToList();
            Merge(tags, added);
            if (tags.Count > MaxTags)
                throw FirehoseErrors.LimitExceeded($"Firehose {stream.Name} under account {account} cannot have more than {MaxTags} tags; it has {stream.Tags.Count}.");
            return stream with { Tags = tags };
        });
        return ValueTask.CompletedTask;
    }

    public static ValueTask Untag(FirehoseRequest r)
    {
        var keys = r.Member("TagKeys")!.Value.EnumerateArray().Select(k => k.GetString()).ToHashSet(StringComparer.Ordinal);
        Change(r, stream => stream.Tags.Any(t => keys.Contains(t.Key)) ? stream with { Tags = stream.Tags.Where(t => !keys.Contains(t.Key)).ToList() } : stream);
        return ValueTask.CompletedTask;
    }

    private static void Change(FirehoseRequest r, Func<Catalog.DeliveryStream, Catalog.DeliveryStream> change)
    {
        r.Stream();
        if (r.Service.Catalog.Update(r.Name, change) is null)
            throw FirehoseErrors.NotFound(r.Name, r.Service.Options.AccountId);
        r.EmptyResponse = true;
    }

    public static ValueTask List(FirehoseRequest r)
    {
        var stream = r.Stream();
        int limit = (int)(r.Integer("Limit") ?? MaxTags);
        IEnumerable<KeyValuePair<string, string>> tags = stream.Tags;
        if (r.String("ExclusiveStartTagKey") is { } after)
        {
            int at = stream.Tags.ToList().FindIndex(t => t.Key == after);
            tags = at >= 0 ? stream.Tags.Skip(at + 1) : stream.Tags.Where(t => string.CompareOrdinal(t.Key, after) > 0);
        }
        var page = tags.ToList();
        var w = r.Response;
        w.StartObject();
        w.StartArray("Tags");
        foreach (var (key, value) in page.Take(limit))
        {
            w.StartObject();
            w.String("Key", key);
            w.String("Value", value);
            w.EndObject();
        }
        w.EndArray();
        w.Boolean("HasMoreTags", page.Count > limit);
        w.EndObject();
        return ValueTask.CompletedTask;
    }
}
