using System.Text.Json.Nodes;
using Runnel.Core.Model;
using Runnel.Firehose.Api;

namespace Runnel.Firehose.Channels;

/// <summary>
/// Decides the channel operations (CreateChannel, UpdateChannel, DeleteChannel, ListChannels and the tags of a
/// channel) over the <see cref="ChannelCatalog"/>: AWS's rules where it published them, Runnel's where it did not
/// (docs/compatibility.md, "Channels"). Requests arrive as the model reads them (<see cref="ShapedJson"/>), checked
/// against their shapes already. Knows nothing of HTTP. Thread-safe.
/// </summary>
public sealed class ChannelService(FirehoseService firehose, Action<string>? warn = null)
{
    /// <summary>Most channels an account may have: two (one per destination type) for each of the 50 on-demand streams
    /// AWS allows by default.</summary>
    public const int MaxChannels = 100;

    /// <summary>Most tags a channel may carry (AWS::Kinesis::Channel allows 50).</summary>
    public const int MaxTags = 50;

    public ChannelCatalog Catalog { get; } = new(firehose.Metadata, firehose.Clock, warn);

    private FirehoseOptions Options => firehose.Options;

    private long NowMillis => firehose.NowMillis;

    private long DelayMillis => (long)Options.ChannelDelay.TotalMilliseconds;

    /// <summary>Stores a new channel from a CreateChannel request; it is CREATING until its time comes.</summary>
    public Channel Create(JsonObject request)
    {
        string name = (string)request["ChannelName"]!;
        var streams = request["StreamConfigurationList"]!.AsArray();
        if (streams.Count != 1)
            throw ChannelErrors.Invalid($"A channel reads exactly one stream, and StreamConfigurationList holds {streams.Count}.");
        var s3 = request["S3DestinationConfiguration"] as JsonObject;
        var tables = request["S3TablesDestinationConfiguration"] as JsonObject;
        if ((s3 is null) == (tables is null))
            throw ChannelErrors.Invalid("Exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration must be given.");
        var source = streams[0]!.AsObject();
        var record = source["RecordConfiguration"]!.AsObject();
        string format = (string)record["RecordFormatType"]!;
        string type = s3 is not null ? ChannelStatus.S3 : ChannelStatus.S3Tables;
        CheckFormat(type, format, record);
        long freshness = Freshness((long?)(s3 ?? tables)!["DataFreshnessInSeconds"]);
        if (tables is not null && tables["S3TablesConfigurationList"]!.AsArray().Count != 1)
            throw ChannelErrors.Invalid("A channel delivers to exactly one table: S3TablesConfigurationList must hold one entry.");
        if (request["EncryptionConfiguration"] is JsonObject encryption && IsAwsManagedKey((string)encryption["KeyId"]!))
            throw ChannelErrors.Invalid("The AWS managed key aws/kinesis cannot encrypt a channel's destination: give a customer managed key.");

        string streamArn = (string)source["StreamARN"]!;
        var stream = SourceStream(streamArn);
        string id = Guid.NewGuid().ToString("D");
        JsonObject destination;
        if (s3 is not null)
        {
            var storage = s3["StorageConfiguration"]!.DeepClone().AsObject();
            storage["OutputKeyTemplate"] ??= ChannelKeyTemplate.Default;
            storage["StorageClass"] ??= ChannelDefaults.StorageClass;
            try
            {
                ChannelKeyTemplate.Parse((string)storage["OutputKeyTemplate"]!, (string)storage["CompressionType"]!, name, id, stream.Name);
            }
            catch (FormatException e)
            {
                throw ChannelErrors.Invalid($"Invalid OutputKeyTemplate: {e.Message}");
            }
            var deadLetters = s3["DeadLetterQueueS3Configuration"]?.DeepClone().AsObject()
                ?? new JsonObject { ["BucketARN"] = (string)storage["BucketARN"]!, ["ExpectedBucketOwner"] = (string)storage["ExpectedBucketOwner"]! };
            deadLetters["ErrorOutputPrefix"] ??= ChannelDefaults.ErrorOutputPrefix(name, id);
            destination = new JsonObject { ["StorageConfiguration"] = storage, ["DataFreshnessInSeconds"] = freshness, ["DeadLetterQueueS3Configuration"] = deadLetters };
        }
        else
        {
            destination = tables!.DeepClone().AsObject();
            destination["DataFreshnessInSeconds"] = freshness;
            destination["DeadLetterQueueS3Configuration"]!.AsObject()["ErrorOutputPrefix"] ??= ChannelDefaults.ErrorOutputPrefix(name, id);
        }

        long now = NowMillis;
        var channel = new Channel
        {
            Name = name,
            Id = id,
            Arn = $"arn:aws:kinesis:{Options.Region}:{Options.AccountId}:channel/{id}",
            Status = ChannelStatus.Creating,
            StatusReason = type == ChannelStatus.S3Tables
                ? "Runnel does not deliver to S3 Tables (Apache Iceberg tables); only S3 destinations are delivered. Delete this channel."
                : null,
            CreatedMillis = now,
            DueMillis = now + DelayMillis,
            RoleArn = (string)request["ServiceExecutionRoleARN"]!,
            StreamArn = streamArn,
            StreamCreatedMillis = stream.CreatedAt.ToUnixTimeMilliseconds(),
            RecordConfiguration = record.DeepClone().AsObject(),
            DestinationType = type,
            Destination = destination,
            Encryption = request["EncryptionConfiguration"]?.DeepClone().AsObject(),
            Logging = Logging(request["LoggingConfiguration"] as JsonObject, name, id),
            Tags = (request["Tags"] as JsonObject)?.Select(t => new KeyValuePair<string, string>(t.Key, (string?)t.Value ?? "")).ToList() ?? [],
        };
        if (channel.Tags.Count > MaxTags)
            throw ChannelErrors.Invalid($"A channel can have at most {MaxTags} tags.");

        var all = Catalog.All();
        if (all.Any(c => c.Name == name))
            throw ChannelErrors.AlreadyExists(name, Options.AccountId);
        if (all.Any(c => c.StreamName == stream.Name && c.DestinationType == type))
            throw ChannelErrors.OneOfEachType(stream.Name, type);
        if (all.Count >= MaxChannels)
            throw ChannelErrors.TooMany(MaxChannels);
        if (!Catalog.TryCreate(name, channel))
            throw ChannelErrors.AlreadyExists(name, Options.AccountId);
        return channel;
    }

    /// <summary>Changes a channel's data freshness or logging (all UpdateChannel may change); it is UPDATING until its time comes.</summary>
    public Channel Update(string arn, JsonObject request)
    {
        var s3 = request["S3DestinationConfiguration"] as JsonObject;
        var tables = request["S3TablesDestinationConfiguration"] as JsonObject;
        var logging = request["LoggingConfiguration"] as JsonObject;
        var found = Get(arn);
        return Catalog.Update(found.Name, channel =>
        {
            if (channel.Id != found.Id)
                throw ChannelErrors.NotFound(arn);
            if (channel.Status != ChannelStatus.Active)
                throw ChannelErrors.NotActive(channel, Options.AccountId);
            var given = channel.DestinationType == ChannelStatus.S3 ? s3 : tables;
            if ((channel.DestinationType == ChannelStatus.S3 ? tables : s3) is not null)
                throw ChannelErrors.Invalid(channel.DestinationType == ChannelStatus.S3
                    ? "The channel delivers to S3: give S3DestinationConfiguration, not S3TablesDestinationConfiguration."
                    : "The channel delivers to S3 Tables: give S3TablesDestinationConfiguration, not S3DestinationConfiguration.");
            if (given is null && logging is null)
                throw ChannelErrors.Invalid("Nothing to update: give the destination's DataFreshnessInSeconds, LoggingConfiguration, or both.");
            var destination = channel.Destination;
            if (given is not null)
            {
                destination = destination.DeepClone().AsObject();
                destination["DataFreshnessInSeconds"] = Freshness((long?)given["DataFreshnessInSeconds"]);
            }
            long now = NowMillis;
            return channel with
            {
                Destination = destination,
                Logging = logging is null ? channel.Logging : Logging(logging, channel.Name, channel.Id),
                Status = ChannelStatus.Updating,
                DueMillis = now + DelayMillis,
            };
        }) ?? throw ChannelErrors.NotFound(arn);
    }

    /// <summary>Starts deleting a channel: it stops delivering at once and is gone when its time comes.</summary>
    public void Delete(string arn)
    {
        var found = Get(arn);
        Catalog.Update(found.Name, channel => channel.Id != found.Id || channel.Status == ChannelStatus.Deleting
            ? channel
            : channel with { Status = ChannelStatus.Deleting, DueMillis = NowMillis + DelayMillis });
        firehose.Metadata.DeleteDocument(ChannelPositionKind, found.Id);
    }

    /// <summary>The metadata kind of a channel's delivery position (keyed by channel id).</summary>
    public const string ChannelPositionKind = "channel-position";

    /// <summary>The channel with this ARN as it is now; ResourceNotFoundException when there is none.</summary>
    public Channel Get(string arn) => Catalog.FindByArn(arn) ?? throw ChannelErrors.NotFound(arn);

    /// <summary>The channels ListChannels shows, ordered by name: all, or those reading one of the filter's streams
    /// (a filter's creation time, when given, must be the stream's).</summary>
    public IReadOnlyList<Channel> List(IReadOnlyList<(string StreamArn, long? CreatedMillis)>? filters) =>
        Catalog.All().Where(c => filters is null
            || filters.Any(f => f.StreamArn == c.StreamArn && (f.CreatedMillis is null || f.CreatedMillis / 1000 == c.StreamCreatedMillis / 1000))).ToList();

    /// <summary>Adds or replaces tags of a channel (at most <see cref="MaxTags"/> in all).</summary>
    public void Tag(string arn, IReadOnlyDictionary<string, string> tags) => ChangeTags(arn, held =>
    {
        var merged = held.ToList();
        foreach (var (key, value) in tags)
        {
            int at = merged.FindIndex(t => t.Key == key);
            if (at >= 0)
                merged[at] = new(key, value);
            else
                merged.Add(new(key, value));
        }
        if (merged.Count > MaxTags)
            throw ChannelErrors.Invalid($"Failed to add tags to channel {arn} because a channel can have at most {MaxTags} tags.");
        return merged;
    });

    public void Untag(string arn, IReadOnlyCollection<string> keys) => ChangeTags(arn, held => held.Where(t => !keys.Contains(t.Key)).ToList());

    private void ChangeTags(string arn, Func<IReadOnlyList<KeyValuePair<string, string>>, IReadOnlyList<KeyValuePair<string, string>>> change)
    {
        var found = Get(arn);
        if (Catalog.Update(found.Name, c => c.Id != found.Id ? throw ChannelErrors.NotFound(arn) : c with { Tags = change(c.Tags) }) is null)
            throw ChannelErrors.NotFound(arn);
    }

    /// <summary>The stream a channel is to read: of this account and Region, ACTIVE (or UPDATING), on-demand.</summary>
    private StreamInfo SourceStream(string arn)
    {
        if (!Runnel.Core.Model.StreamArn.TryParse(arn, out string region, out string account, out string name))
            throw ChannelErrors.Invalid($"Invalid StreamARN: {arn}");
        if (account != Options.AccountId || region != Options.Region || firehose.FindStream?.Invoke(name) is not { } stream)
            throw Core.Errors.KinesisErrors.ResourceNotFound($"Stream {name} under account {account} not found.");
        if (stream.Status is not (StreamStatus.Active or StreamStatus.Updating))
            throw Core.Errors.KinesisErrors.ResourceInUse($"Stream {name} under account {account} not ACTIVE, instead in state {stream.Status.ToWire()}");
        if (stream.Mode != StreamMode.OnDemand)
            throw ChannelErrors.NotOnDemand(name, account);
        return stream;
    }

    /// <summary>Which record formats each destination takes (RecordConfiguration's documentation).</summary>
    private static void CheckFormat(string type, string format, JsonObject record)
    {
        if (type == ChannelStatus.S3 && format == "GSR_JSON")
            throw ChannelErrors.Invalid("RecordFormatType GSR_JSON is for S3 Tables destinations; an S3 destination takes JSON, STRING or BYTE_ARRAY.");
        if (type == ChannelStatus.S3Tables && format is not ("GSR_JSON" or "JSON"))
            throw ChannelErrors.Invalid($"RecordFormatType {format} is for S3 destinations; an S3 Tables destination takes GSR_JSON or JSON.");
        if (type == ChannelStatus.S3Tables && record["GSRSchemaARN"] is null)
            throw ChannelErrors.Invalid("An S3 Tables destination needs the table's schema: give GSRSchemaARN in RecordConfiguration.");
    }

    private static long Freshness(long? given)
    {
        long freshness = given ?? ChannelDefaults.DataFreshnessSeconds;
        if (freshness is < ChannelDefaults.MinDataFreshnessSeconds or > ChannelDefaults.MaxDataFreshnessSeconds)
            throw ChannelErrors.Invalid($"DataFreshnessInSeconds must be between {ChannelDefaults.MinDataFreshnessSeconds} and {ChannelDefaults.MaxDataFreshnessSeconds}, and is {freshness}.");
        return freshness;
    }

    /// <summary>The AWS managed key of Kinesis, by alias name or alias ARN.</summary>
    private static bool IsAwsManagedKey(string keyId) =>
        keyId == "alias/aws/kinesis" || keyId.EndsWith(":alias/aws/kinesis", StringComparison.Ordinal);

    /// <summary>LoggingConfiguration as described: disabled when none was given; the default group and stream named when enabled without them.</summary>
    private static JsonObject Logging(JsonObject? given, string name, string id)
    {
        var logs = given?["CloudWatchLogs"]?.DeepClone().AsObject() ?? new JsonObject { ["Enabled"] = false };
        if ((bool?)logs["Enabled"] == true)
        {
            logs["LogGroupName"] ??= ChannelDefaults.LogGroupName(name, id);
            logs["LogStreamName"] ??= ChannelDefaults.LogStreamName;
        }
        return new JsonObject { ["CloudWatchLogs"] = logs };
    }
}
