using System.Text.Json.Nodes;
using Runnel.Core.Model;
using Runnel.Firehose.Catalog;

namespace Runnel.Firehose.Api;

/// <summary>CreateDeliveryStream, DeleteDeliveryStream, DescribeDeliveryStream and ListDeliveryStreams.</summary>
internal static class DeliveryStreamOperations
{
    public static ValueTask Create(FirehoseRequest r)
    {
        var service = r.Service;
        string name = r.Name;
        string type = r.String("DeliveryStreamType") ?? DeliveryStreamType.DirectPut;
        if (type is not (DeliveryStreamType.DirectPut or DeliveryStreamType.KinesisStreamAsSource))
            throw FirehoseErrors.InvalidArgument($"Runnel does not serve delivery streams of type {type}; DirectPut and KinesisStreamAsSource are served.");
        var kinesisSource = r.Structure("KinesisStreamSourceConfiguration");
        if (type == DeliveryStreamType.KinesisStreamAsSource && kinesisSource is null)
            throw FirehoseErrors.InvalidArgument("KinesisSourceStreamConfig is mandatory for KinesisStreamAsSource stream type.");
        if (type != DeliveryStreamType.KinesisStreamAsSource && kinesisSource is not null)
            throw FirehoseErrors.InvalidArgument("KinesisSourceStreamConfig is only applicable for KinesisStreamAsSource stream type");
        var directPut = r.Structure("DirectPutSourceConfiguration");
        if (type != DeliveryStreamType.DirectPut && directPut is not null)
            throw FirehoseErrors.InvalidArgument("DirectPutSourceConfiguration is only applicable for DirectPut stream type");
        foreach (string other in (string[])["MSKSourceConfiguration", "DatabaseSourceConfiguration"])
            if (r.Member(other) is not null)
                throw FirehoseErrors.InvalidArgument($"{other} is only applicable for {(other[0] == 'M' ? "MSKAsSource" : "DatabaseAsSource")} stream type");

        var given = DestinationKinds.All.Where(kind => r.Member(kind + "DestinationConfiguration") is not null).ToList();
        if (given.Count != 1)
            throw FirehoseErrors.InvalidArgument("Exactly one destination configuration is supported for a Firehose");
        string kind = given[0];
        var destination = r.Structure(kind + "DestinationConfiguration")!;
        DestinationRules.Check(kind, destination);

        var encryption = EncryptionOperations.Requested(r, type);
        if (kinesisSource is not null)
            CheckSource(r, (string)kinesisSource["KinesisStreamARN"]!);
        if (service.Catalog.Count >= service.Options.MaxDeliveryStreams)
            throw FirehoseErrors.LimitExceeded($"You have already consumed your Firehose quota of {service.Options.MaxDeliveryStreams} Firehose streams.");
        if (service.Catalog.Find(name) is not null)
            throw FirehoseErrors.AlreadyExists(name, service.Options.AccountId);

        long now = service.NowMillis;
        var failure = DestinationKinds.Delivered(kind) ? null
            : new DeliveryFailure("UNKNOWN_ERROR", $"Runnel does not deliver to {kind} destinations; S3, ExtendedS3, Redshift, Elasticsearch, Amazonopensearchservice and HttpEndpoint are delivered. Delete this Firehose stream.");
        long delay = (long)service.Options.CreateDelay.TotalMilliseconds;
        var tags = new List<KeyValuePair<string, string>>();
        if (r.Member("Tags") is { } tagList)
            TagOperations.Merge(tags, TagOperations.Read(tagList));
        var stream = new DeliveryStream
        {
            Name = name,
            Arn = service.Options.ArnOf(name),
            Status = delay > 0 ? DeliveryStreamStatus.Creating : failure is null ? DeliveryStreamStatus.Active : DeliveryStreamStatus.CreatingFailed,
            DueMillis = delay > 0 ? now + delay : null,
            Failure = failure,
            Type = type,
            CreatedMillis = now,
            KinesisSource = kinesisSource,
            DeliveryStartMillis = kinesisSource is null ? null : now,
            DirectPutSource = directPut,
            DestinationKind = kind,
            Destination = destination,
            Encryption = encryption,
            EncryptionChanges = encryption?.Status == DeliveryStreamStatus.Enabled ? [now] : [],
            Tags = tags,
            LogId = type == DeliveryStreamType.DirectPut ? service.Metadata.NextSequence("stream") : null,
        };
        stream = stream with { AtRest = EncryptionOperations.AtRest(service, stream.LogId, null, encryption) };
        if (!service.TryCreate(stream))
            throw FirehoseErrors.AlreadyExists(name, service.Options.AccountId);
        r.Response.StartObject();
        r.Response.String("DeliveryStreamARN", stream.Arn);
        r.Response.EndObject();
        return ValueTask.CompletedTask;
    }

    /// <summary>A Kinesis source must be a stream of this account and Region that exists.</summary>
    private static void CheckSource(FirehoseRequest r, string arn)
    {
        var options = r.Service.Options;
        if (!StreamArn.TryParse(arn, out string region, out string account, out string stream) || region != options.Region || account != options.AccountId
            || (r.Service.FindStream is { } find && find(stream) is null))
            throw FirehoseErrors.InvalidArgument($"Stream {(stream is { Length: > 0 } ? stream : arn)} under account {account ?? options.AccountId} not found.");
    }

    public static ValueTask Delete(FirehoseRequest r)
    {
        var stream = r.Stream();
        if (stream.Status == DeliveryStreamStatus.Creating)
            throw FirehoseErrors.InUse($"Firehose {stream.Name} under account {r.Service.Options.AccountId} is in CREATING state and cannot be deleted.");
        r.Service.Delete(stream);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask Describe(FirehoseRequest r)
    {
        var stream = r.Stream();
        var w = r.Response;
        w.StartObject();
        w.StartObject("DeliveryStreamDescription");
        w.String("DeliveryStreamName", stream.Name);
        w.String("DeliveryStreamARN", stream.Arn);
        w.String("DeliveryStreamStatus", stream.Status);
        if (stream.Status == DeliveryStreamStatus.CreatingFailed && stream.Failure is { } failure)
        {
            w.StartObject("FailureDescription");
            w.String("Type", failure.Type);
            w.String("Details", failure.Details);
            w.EndObject();
        }
        if (stream.Encryption is { } encryption)
        {
            w.StartObject("DeliveryStreamEncryptionConfiguration");
            if (encryption.KeyArn is { } keyArn)
                w.String("KeyARN", keyArn);
            if (encryption.KeyType is { } keyType)
                w.String("KeyType", keyType);
            w.String("Status", encryption.Status);
            w.EndObject();
        }
        w.String("DeliveryStreamType", stream.Type);
        w.String("VersionId", stream.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.Timestamp("CreateTimestamp", stream.CreatedMillis);
        if (stream.UpdatedMillis is { } updated)
            w.Timestamp("LastUpdateTimestamp", updated);
        if (stream.KinesisSource is { } source)
        {
            w.StartObject("Source");
            w.StartObject("KinesisStreamSourceDescription");
            w.String("KinesisStreamARN", (string)source["KinesisStreamARN"]!);
            w.String("RoleARN", (string)source["RoleARN"]!);
            if (stream.DeliveryStartMillis is { } start)
                w.Timestamp("DeliveryStartTimestamp", start);
            w.EndObject();
            w.EndObject();
        }
        else if (stream.DirectPutSource is { } direct)
        {
            w.StartObject("Source");
            ShapedJson.Write(w, "DirectPutSourceDescription", direct);
            w.EndObject();
        }
        w.StartArray("Destinations");
        // One destination; ExclusiveStartDestinationId past it leaves none (docs/compatibility.md).
        if (r.String("ExclusiveStartDestinationId") is not { } after || string.CompareOrdinal(after, DestinationId) < 0)
        {
            w.StartObject();
            w.String("DestinationId", DestinationId);
            var described = DestinationKinds.Describe(stream.DestinationKind, stream.Destination);
            if (DestinationKinds.IsS3(stream.DestinationKind))
            {
                // AWS describes an S3 destination under both names, the plain one with the members they share.
                var plain = new JsonObject();
                foreach (string member in DestinationKinds.PlainS3Members)
                    if (described[member] is { } value)
                        plain[member] = value.DeepClone();
                ShapedJson.Write(w, "S3DestinationDescription", plain);
                if (stream.DestinationKind == DestinationKinds.S3)
                    described["S3BackupMode"] ??= "Disabled";
                ShapedJson.Write(w, "ExtendedS3DestinationDescription", described);
            }
            else
                ShapedJson.Write(w, stream.DestinationKind + "DestinationDescription", described);
            w.EndObject();
        }
        w.EndArray();
        w.Boolean("HasMoreDestinations", false);
        w.EndObject();
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    /// <summary>The id of a stream's one destination, as AWS numbers it.</summary>
    public const string DestinationId = "destinationId-000000000001";

    public static ValueTask List(FirehoseRequest r)
    {
        int limit = (int)(r.Integer("Limit") ?? 10);
        string? type = r.String("DeliveryStreamType");
        string? after = r.String("ExclusiveStartDeliveryStreamName");
        var names = r.Service.Catalog.All()
            .Where(s => type is null || s.Type == type)
            .Where(s => after is null || string.CompareOrdinal(s.Name, after) > 0)
            .Select(s => s.Name)
            .ToList();
        var w = r.Response;
        w.StartObject();
        w.StartArray("DeliveryStreamNames");
        foreach (string name in names.Take(limit))
            w.String(name);
        w.EndArray();
        w.Boolean("HasMoreDeliveryStreams", names.Count > limit);
        w.EndObject();
        return ValueTask.CompletedTask;
    }
}
