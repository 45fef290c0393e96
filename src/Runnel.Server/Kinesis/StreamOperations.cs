using Runnel.Core.Errors;
using Runnel.Core.Model;

namespace Runnel.Server.Kinesis;

/// <summary>Handlers of the stream control plane: create, delete, describe, list, retention, limits, monitoring.</summary>
internal static class StreamOperations
{
    public const int MinRetentionHours = 24;
    public const int MaxRetentionHours = 8760;
    public const int OnDemandShardCount = 4;
    public const int OnDemandStreamCountLimit = 50;

    private static readonly string[] AllMetrics =
        ["IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"];

    public static ValueTask CreateStream(KinesisRequest r)
    {
        string name = r.StreamName(); // of the caller's account
        // Mode and shard count as AWS resolves them: a shard count alone means PROVISIONED; neither means
        // ON_DEMAND, which starts with 4 shards.
        long? requested = r.Integer("ShardCount");
        string? modeName = r.Member("StreamModeDetails") is { } details ? details.GetProperty("StreamMode").GetString() : null;
        var mode = modeName == "ON_DEMAND" || (modeName is null && requested is null) ? StreamMode.OnDemand : StreamMode.Provisioned;
        if (modeName == "ON_DEMAND" && requested is not null)
            throw KinesisErrors.InvalidArgument("ShardCount is not expected when StreamMode=ON_DEMAND.");
        if (mode == StreamMode.Provisioned && requested is null)
            throw KinesisErrors.InvalidArgument("ShardCount must be specified for a stream in PROVISIONED mode.");
        int shardCount = mode == StreamMode.OnDemand ? OnDemandShardCount : (int)requested!.Value;
        var distribution = r.String("RecordDistributionStrategy") is { } strategy ? StreamEnums.ParseDistribution(strategy) : RecordDistribution.UserPartitionKey;
        CapacityOperations.CheckDistribution(r, name, mode, distribution);
        int? warm = (int?)r.Integer("WarmThroughputMiBps");
        if (warm is { } target)
        {
            if (mode != StreamMode.OnDemand)
                throw KinesisErrors.InvalidArgument("WarmThroughputMiBps is only supported when StreamMode=ON_DEMAND.");
            CapacityOperations.CheckWarmThroughput(r, target);
            shardCount = Math.Max(shardCount, Streams.WarmThroughput.ShardsFor(target, r.Streams.Options.Limits));
        }
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.Member("Tags") is { } tagMap)
        {
            foreach (var tag in tagMap.EnumerateObject())
                tags[tag.Name] = tag.Value.Kind == Runnel.Protocol.Requests.RequestKind.String ? tag.Value.GetString() : "";
            TagOperations.CheckCharacters(tags.Keys.Concat(tags.Values), name, r.Streams.AccountId, "add tags to");
        }
        r.Streams.Create(name, shardCount, mode, tags, (int)(r.Integer("MaxRecordSizeInKiB") ?? StreamInfo.DefaultMaxRecordSizeKiB),
            stream => stream with { Distribution = distribution, WarmThroughputMiBps = warm });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask DeleteStream(KinesisRequest r)
    {
        string name = r.StreamName();
        var stream = r.Streams.Get(name);
        if (r.Channels.Catalog.OfStream(name).Count > 0)
            throw Runnel.Firehose.Channels.ChannelErrors.StreamHasChannels(name, r.Streams.AccountId);
        if (r.Streams.Consumers.Count(stream) > 0)
        {
            if (r.Boolean("EnforceConsumerDeletion") != true)
                throw KinesisErrors.StreamHasConsumers(name, r.Streams.AccountId);
            r.Streams.Consumers.DeregisterAll(stream);
        }
        r.Streams.Delete(name);
        // The store dropped the consumers with the stream's row; drop what the registry holds of them too.
        if (r.Streams.Find(name)?.Id != stream.Id)
            r.Streams.Consumers.Forget(stream.Id);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask DescribeStream(KinesisRequest r)
    {
        var stream = r.Streams.Get(r.StreamName());
        int limit = (int)Math.Min(r.Integer("Limit") ?? 100, 100);
        int after = -1;
        if (r.String("ExclusiveStartShardId") is { } start)
            after = ShardId.TryParse(start, out int index) ? index : int.MaxValue;
        var visible = stream.Status is StreamStatus.Creating or StreamStatus.Deleting ? [] : stream.ListedShards(r.Streams.Now);
        var page = visible.Where(s => s.Index > after).OrderBy(s => s.Index).ToList();

        var w = r.Response;
        w.StartObject();
        w.StartObject("StreamDescription");
        Describe.StreamFields(w, stream, r.Streams.ArnOf(stream.Name));
        w.StartArray("Shards");
        foreach (var shard in page.Take(limit))
            Describe.Shard(w, stream, shard);
        w.EndArray();
        w.Boolean("HasMoreShards", page.Count > limit);
        w.EndObject();
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    public static ValueTask DescribeStreamSummary(KinesisRequest r)
    {
        var stream = r.Streams.Get(r.StreamName());
        var w = r.Response;
        w.StartObject();
        w.StartObject("StreamDescriptionSummary");
        Describe.StreamFields(w, stream, r.Streams.ArnOf(stream.Name));
        w.Number("OpenShardCount", stream.Status is StreamStatus.Creating or StreamStatus.Deleting ? 0 : stream.OpenShards.Count());
        w.Number("ConsumerCount", r.Streams.Consumers.Count(stream));
        if (r.Channels.Catalog.OfStream(stream.Name).Count is > 0 and int channels)
            w.Number("ChannelCount", channels); // shown where channels read the stream (AWS's presence rule not captured)
        if (stream.Mode == StreamMode.OnDemand && r.Streams.SettingsOf(r.AccountOf(stream.Name)).Commitment.InForce)
        {
            // Shown for on-demand streams of an account with the billing commitment, as on AWS.
            w.StartObject("WarmThroughput");
            if (stream.WarmThroughputMiBps is { } target)
                w.Number("TargetMiBps", target);
            w.Number("CurrentMiBps", Streams.WarmThroughput.CurrentMiBps(stream, r.Streams.Options.Limits));
            w.EndObject();
        }
        w.Number("MaxRecordSizeInKiB", stream.MaxRecordSizeKiB);
        if (stream.Mode == StreamMode.OnDemand)
            w.String("RecordDistributionStrategy", stream.Distribution.ToWire());
        w.EndObject();
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    public static ValueTask ListStreams(KinesisRequest r)
    {
        int limit = (int)Math.Min(r.Integer("Limit") ?? 100, 100);
        string? after = r.String("ExclusiveStartStreamName");
        if (r.String("NextToken") is { } token)
        {
            if (after is not null)
                throw KinesisErrors.InvalidArgument("NextToken and ExclusiveStartStreamName cannot be provided together.");
            after = PageToken.DecodeStreamName(token);
        }
        // The caller's account's streams only, each account's its own.
        var names = r.Streams.All.Where(s => r.AccountOf(s.Name) == r.Account && (after is null || string.CompareOrdinal(s.PlainName, after) > 0))
            .OrderBy(s => s.PlainName, StringComparer.Ordinal).ToList();
        var page = names.Take(limit).ToList();
        bool more = names.Count > limit;

        var w = r.Response;
        w.StartObject();
        w.StartArray("StreamNames");
        foreach (var s in page)
            w.String(s.PlainName);
        w.EndArray();
        w.Boolean("HasMoreStreams", more);
        if (more)
            w.String("NextToken", PageToken.EncodeStreamName(page[^1].PlainName));
        w.StartArray("StreamSummaries");
        foreach (var s in page)
        {
            w.StartObject();
            w.String("StreamName", s.PlainName);
            w.String("StreamARN", r.Streams.ArnOf(s.Name));
            w.String("StreamStatus", s.Status.ToWire());
            Describe.ModeDetails(w, s);
            Describe.CreationTimestamp(w, s);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    public static ValueTask IncreaseRetention(KinesisRequest r) => ChangeRetention(r, increase: true);

    public static ValueTask DecreaseRetention(KinesisRequest r) => ChangeRetention(r, increase: false);

    private static ValueTask ChangeRetention(KinesisRequest r, bool increase)
    {
        string name = r.StreamName();
        int hours = (int)r.Integer("RetentionPeriodHours")!.Value;
        r.Streams.Update(name, stream =>
        {
            RequireActive(r, stream);
            if (hours < MinRetentionHours)
                throw KinesisErrors.InvalidArgument($"Minimum allowed retention period is {MinRetentionHours} hours. Requested retention period ({hours} hours) is too short.");
            if (hours > MaxRetentionHours)
                throw KinesisErrors.InvalidArgument($"Maximum allowed retention period is {MaxRetentionHours} hours. Requested retention period ({hours} hours) is too long.");
            if (increase && hours < stream.RetentionHours)
                throw KinesisErrors.InvalidArgument($"Requested retention period ({hours} hours) for stream {KinesisRequest.Plain(name)} can not be shorter than existing retention period ({stream.RetentionHours} hours). Use DecreaseRetentionPeriod API.");
            if (!increase && hours > stream.RetentionHours)
                throw KinesisErrors.InvalidArgument($"Requested retention period ({hours} hours) for stream {KinesisRequest.Plain(name)} can not be longer than existing retention period ({stream.RetentionHours} hours). Use IncreaseRetentionPeriod API.");
            return hours == stream.RetentionHours ? stream : r.Streams.BeginUpdate(stream with { RetentionHours = hours });
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask UpdateMaxRecordSize(KinesisRequest r)
    {
        int kib = (int)r.Integer("MaxRecordSizeInKiB")!.Value;
        r.Streams.Update(r.StreamName(), stream =>
        {
            RequireActive(r, stream);
            return stream.MaxRecordSizeKiB == kib ? stream : r.Streams.BeginUpdate(stream with { MaxRecordSizeKiB = kib });
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask DescribeLimits(KinesisRequest r)
    {
        var w = r.Response;
        w.StartObject();
        w.Number("ShardLimit", r.Streams.Options.ShardLimit);
        w.Number("OpenShardCount", r.Streams.OpenShardCountIn(r.Account));
        w.Number("OnDemandStreamCount", r.Streams.All.Count(s => s.Mode == StreamMode.OnDemand && r.AccountOf(s.Name) == r.Account));
        w.Number("OnDemandStreamCountLimit", OnDemandStreamCountLimit);
        w.Number("ChannelCount", r.Account == r.Streams.AccountId ? r.Channels.Catalog.Count : 0); // channels are the server's account's
        w.Number("ChannelCountLimit", Runnel.Firehose.Channels.ChannelService.MaxChannels);
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    public static ValueTask ChangeMonitoring(KinesisRequest r, bool enable)
    {
        string name = r.StreamName();
        var requested = r.Member("ShardLevelMetrics")!.Value.EnumerateArray().Select(e => e.GetString()).ToList();
        var named = requested.Contains("ALL") ? AllMetrics : requested.ToArray();
        IReadOnlyList<string> before = [];
        var stream = r.Streams.Update(name, s =>
        {
            RequireActive(r, s);
            before = s.EnhancedMetrics;
            var after = enable ? s.EnhancedMetrics.Union(named) : s.EnhancedMetrics.Except(named);
            return s with { EnhancedMetrics = AllMetrics.Where(after.Contains).ToList() };
        });
        var w = r.Response;
        w.StartObject();
        w.String("StreamName", stream.PlainName);
        w.String("StreamARN", r.Streams.ArnOf(stream.Name));
        w.StartArray("CurrentShardLevelMetrics");
        foreach (string m in before)
            w.String(m);
        w.EndArray();
        w.StartArray("DesiredShardLevelMetrics");
        foreach (string m in stream.EnhancedMetrics)
            w.String(m);
        w.EndArray();
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    /// <summary>The account of <paramref name="stream"/> over its open-shard limit.</summary>
    public static KinesisException ShardLimitExceeded(KinesisRequest r, string stream, int open, int additional) => r.Streams.ShardLimitExceeded(open, additional, r.AccountOf(stream));

    /// <summary>Control-plane changes need an ACTIVE stream, as on AWS.</summary>
    public static void RequireActive(KinesisRequest r, StreamInfo stream)
    {
        if (stream.Status != StreamStatus.Active)
            throw KinesisErrors.StreamNotActive(stream.Name, r.Streams.AccountId, stream.Status.ToWire());
    }
}
