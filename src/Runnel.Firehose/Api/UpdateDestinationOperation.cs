using System.Globalization;
using System.Text.Json.Nodes;
using Runnel.Firehose.Catalog;
using Runnel.Protocol.Firehose;

namespace Runnel.Firehose.Api;

/// <summary>
/// UpdateDestination: the stream's version must be the one the caller read (ConcurrentModificationException
/// otherwise), then an update of the same kind is merged into the destination and one of another kind replaces it
/// (and must then be complete), the version goes up by one and LastUpdateTimestamp is set
/// (docs/adr/0002-firehose-api.md). The S3 kinds count as one: a plain S3 destination updated as ExtendedS3 becomes
/// ExtendedS3. Elasticsearch and OpenSearch destinations change only within their kind.
/// </summary>
internal static class UpdateDestinationOperation
{
    public static ValueTask Update(FirehoseRequest r)
    {
        var service = r.Service;
        string account = service.Options.AccountId;
        string current = r.String("CurrentDeliveryStreamVersionId")!;
        string destinationId = r.String("DestinationId")!;
        var given = DestinationKinds.All.Where(kind => r.Member(kind + "DestinationUpdate") is not null).ToList();
        r.Stream();
        long now = service.NowMillis;
        var updated = service.Catalog.Update(r.Name, stream =>
        {
            string version = stream.Version.ToString(CultureInfo.InvariantCulture);
            if (current != version)
                throw FirehoseErrors.ConcurrentModification($"Cannot update firehose: {stream.Name} since the current version id: {version} and specified version id: {current} do not match");
            if (destinationId != DeliveryStreamOperations.DestinationId)
                throw FirehoseErrors.InvalidArgument($"Destination Id {destinationId} not found");
            if (stream.Status != DeliveryStreamStatus.Active)
                throw FirehoseErrors.InUse($"Cannot update firehose: {stream.Name} when it is in {stream.Status} status");
            if (given.Count != 1)
                throw FirehoseErrors.InvalidArgument("Exactly one destination update is supported for a Firehose");
            string kind = given[0];
            var update = r.Structure(kind + "DestinationUpdate")!;
            var (newKind, configuration) = Apply(stream, kind, update, account);
            DestinationRules.Check(newKind, configuration);
            return stream with { DestinationKind = newKind, Destination = configuration, Version = stream.Version + 1, UpdatedMillis = now };
        });
        if (updated is null)
            throw FirehoseErrors.NotFound(r.Name, account);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    private static (string Kind, JsonObject Configuration) Apply(DeliveryStream stream, string kind, JsonObject update, string account)
    {
        bool sameKind = kind == stream.DestinationKind || (DestinationKinds.IsS3(kind) && DestinationKinds.IsS3(stream.DestinationKind));
        if (sameKind)
        {
            var merged = DestinationKinds.Merge(stream.Destination, update);
            if ((string?)stream.Destination["S3BackupMode"] == "Enabled" && (string?)merged["S3BackupMode"] == "Disabled")
                throw FirehoseErrors.InvalidArgument("S3BackupMode cannot be changed from Enabled to Disabled.");
            return (kind == DestinationKinds.ExtendedS3 ? kind : stream.DestinationKind, merged);
        }
        if (stream.DestinationKind is DestinationKinds.Elasticsearch or DestinationKinds.OpenSearch or DestinationKinds.OpenSearchServerless)
            throw FirehoseErrors.InvalidArgument($"Firehose {stream.Name} under account {account} has a {stream.DestinationKind} destination, which can only be updated with {stream.DestinationKind}DestinationUpdate.");
        var configuration = DestinationKinds.AsConfiguration(update);
        var shape = FirehoseShapes.Operations["CreateDeliveryStream"].Members.First(m => m.Name == kind + "DestinationConfiguration").Structure!;
        foreach (var member in shape.Members.Where(m => m.Required))
            if (configuration[member.Name] is null)
                throw FirehoseErrors.InvalidArgument($"{member.Name} is required in {kind}DestinationUpdate when the destination changes from {stream.DestinationKind} to {kind}.");
        return (kind, configuration);
    }
}
