using Runnel.Core.Errors;
using Runnel.Core.Model;

namespace Runnel.Server.Kinesis;

/// <summary>ListShards: pages of a stream's shards, filtered by lineage and time as AWS's ShardFilter defines.</summary>
internal static class ShardListing
{
    private const int DefaultMaxResults = 1000;

    public static ValueTask ListShards(KinesisRequest r)
    {
        string? token = r.String("NextToken");
        string? name = r.String("StreamName");
        string? arn = r.String("StreamARN");
        if (token is null && name is null && arn is null)
            throw KinesisErrors.InvalidArgument("Either NextToken or StreamName should be provided.");
        if (token is not null)
        {
            if (name is not null) throw KinesisErrors.InvalidArgument("NextToken and StreamName cannot be provided together.");
            if (arn is not null) throw KinesisErrors.InvalidArgument("NextToken and StreamARN cannot be provided together.");
            if (r.Member("ExclusiveStartShardId") is not null) throw KinesisErrors.InvalidArgument("NextToken and ExclusiveStartShardId cannot be provided together.");
            if (r.Member("ShardFilter") is not null) throw KinesisErrors.InvalidArgument("NextToken and ShardFilter cannot be provided together.");
            if (r.Member("StreamCreationTimestamp") is not null) throw KinesisErrors.InvalidArgument("NextToken and StreamCreationTimestamp cannot be provided together.");
        }

        var now = r.Streams.Now;
        PageToken.ShardPage page;
        StreamInfo stream;
        if (token is not null)
        {
            page = PageToken.DecodeShards(token, now);
            stream = r.Streams.Get(page.StreamName);
            if (stream.CreatedAt.ToUnixTimeMilliseconds() != page.StreamCreatedMillis)
                throw KinesisErrors.ExpiredNextToken("The stream the NextToken was issued for has since been deleted. Please call ListShards again without NextToken.");
        }
        else
        {
            stream = r.Streams.Get(r.StreamName());
            if (r.TimestampMillis("StreamCreationTimestamp") is { } created && created / 1000 != stream.CreatedAt.ToUnixTimeSeconds())
                throw KinesisErrors.StreamNotFound(stream.Name, r.Streams.AccountId);
            int after = -1;
            if (r.String("ExclusiveStartShardId") is { } start)
                after = ShardId.TryParse(start, out int index) ? index : int.MaxValue;
            string? filterType = null, filterShard = null;
            long? filterTime = null;
            if (r.Member("ShardFilter") is { } filter)
            {
                filterType = filter.GetProperty("Type").GetString();
                filterShard = filter.TryGetProperty("ShardId", out var s) && s.Kind == Runnel.Protocol.Requests.RequestKind.String ? s.GetString() : null;
                filterTime = KinesisRequest.TimestampMillis(filter.TryGetProperty("Timestamp", out var t) ? t : null);
                if (filterType == "AFTER_SHARD_ID" && filterShard is null)
                    throw KinesisErrors.InvalidArgument("ShardId must be specified when ShardFilter type is AFTER_SHARD_ID.");
                if (filterType is "AT_TIMESTAMP" or "FROM_TIMESTAMP" && filterTime is null)
                    throw KinesisErrors.InvalidArgument($"Timestamp must be specified when ShardFilter type is {filterType}.");
                if (filterType == "AFTER_SHARD_ID")
                    after = Math.Max(after, ShardId.TryParse(filterShard!, out int index) ? index : int.MaxValue);
            }
            page = new PageToken.ShardPage(stream.Name, stream.CreatedAt.ToUnixTimeMilliseconds(), after, filterType, filterShard, filterTime, now.ToUnixTimeMilliseconds());
        }

        int max = (int)Math.Min(r.Integer("MaxResults") ?? DefaultMaxResults, DefaultMaxResults);
        var candidates = (stream.Status is StreamStatus.Creating or StreamStatus.Deleting ? [] : stream.ListedShards(now))
            .Where(s => s.Index > page.LastShardIndex && Matches(s, stream, page, now))
            .OrderBy(s => s.Index)
            .ToList();
        var shards = candidates.Take(max).ToList();

        var w = r.Response;
        w.StartObject();
        w.StartArray("Shards");
        foreach (var shard in shards)
            Describe.Shard(w, stream, shard);
        w.EndArray();
        if (candidates.Count > max)
            w.String("NextToken", PageToken.EncodeShards(page with { LastShardIndex = shards[^1].Index, IssuedMillis = now.ToUnixTimeMilliseconds() }));
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The ShardFilter types: AT_* lists the shards open at a moment, FROM_* the shards open at or after it;
    /// the trim horizon is the older of "now minus retention" and the stream's creation.
    /// </summary>
    private static bool Matches(ShardInfo shard, StreamInfo stream, PageToken.ShardPage page, DateTimeOffset now)
    {
        var trimHorizon = Max(now - TimeSpan.FromHours(stream.RetentionHours), stream.CreatedAt);
        return page.FilterType switch
        {
            null or "AFTER_SHARD_ID" => true,
            "AT_LATEST" => shard.IsOpen,
            "AT_TRIM_HORIZON" => OpenAt(shard, trimHorizon),
            "FROM_TRIM_HORIZON" => shard.ClosedAt is null || shard.ClosedAt > trimHorizon,
            "AT_TIMESTAMP" => OpenAt(shard, Max(DateTimeOffset.FromUnixTimeMilliseconds(page.FilterTimestampMillis!.Value), stream.CreatedAt)),
            "FROM_TIMESTAMP" => shard.ClosedAt is null || shard.ClosedAt > DateTimeOffset.FromUnixTimeMilliseconds(page.FilterTimestampMillis!.Value),
            _ => true,
        };
    }

    private static bool OpenAt(ShardInfo shard, DateTimeOffset moment) =>
        shard.CreatedAt <= moment && (shard.ClosedAt is null || shard.ClosedAt > moment);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
