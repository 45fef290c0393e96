using System.Text.Json.Nodes;
using Runnel.Firehose.Naming;

namespace Runnel.Firehose.Api;

/// <summary>
/// The checks AWS makes of a destination's configuration beyond the model's constraints, on create and after an
/// update is merged (docs/adr/0002-firehose-delivery.md): the prefix rules of S3 destinations, and dynamic
/// partitioning's and format conversion's buffering minimums, processors' parameters. Each refusal is an InvalidArgumentException.
/// </summary>
public static class DestinationRules
{
    public static void Check(string kind, JsonObject configuration)
    {
        try
        {
            _ = Delivery.RecordProcessing.From(configuration); // processors whose parameters cannot run
        }
        catch (FormatException e)
        {
            throw FirehoseErrors.InvalidArgument(e.Message);
        }
        if (DestinationKinds.IsS3(kind))
            CheckS3(configuration, extended: kind == DestinationKinds.ExtendedS3);
        else if (configuration["S3Configuration"] is JsonObject staging)
        {
            if (kind == DestinationKinds.Redshift && configuration["CopyCommand"] is JsonObject copy)
            {
                try
                {
                    _ = new Delivery.RedshiftCopy((string?)copy["DataTableName"] ?? "", (string?)copy["DataTableColumns"], (string?)copy["CopyOptions"]);
                }
                catch (FormatException e)
                {
                    throw FirehoseErrors.InvalidArgument(e.Message);
                }
            }
            if (kind == DestinationKinds.Redshift && (Expressions((string?)staging["Prefix"]) || !string.IsNullOrEmpty((string?)staging["ErrorOutputPrefix"])))
                throw FirehoseErrors.InvalidArgument(S3Prefix.RefusalStart + "Redshift S3Configuration cannot have expressions in Prefix or an ErrorOutputPrefix");
            CheckS3(staging, extended: false);
        }
    }

    private static void CheckS3(JsonObject s3, bool extended)
    {
        string? prefix = (string?)s3["Prefix"];
        try
        {
            var (parsed, _) = S3Prefix.ForDestination(prefix, (string?)s3["ErrorOutputPrefix"]);
            bool dynamic = extended && s3["DynamicPartitioningConfiguration"]?["Enabled"]?.GetValue<bool>() == true;
            if (parsed.HasPartitionKeys && !dynamic)
                throw FirehoseErrors.InvalidArgument(S3Prefix.RefusalStart + "Dynamic Partitioning must be enabled when Prefix contains partitionKeyFromQuery or partitionKeyFromLambda expressions");
            var hints = s3["BufferingHints"];
            long size = (long?)hints?["SizeInMBs"] ?? 5, interval = (long?)hints?["IntervalInSeconds"] ?? 300;
            if (dynamic)
            {
                if (!parsed.HasPartitionKeys)
                    throw FirehoseErrors.InvalidArgument(S3Prefix.RefusalStart + "Prefix must contain partitionKeyFromQuery or partitionKeyFromLambda expressions when Dynamic Partitioning is enabled");
                if (size < 64)
                    throw FirehoseErrors.InvalidArgument("BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled.");
                if (interval < 60)
                    throw FirehoseErrors.InvalidArgument("BufferingHints.IntervalInSeconds must be at least 60 seconds when Dynamic Partitioning is enabled.");
                var query = Delivery.RecordProcessing.From(s3).Query;
                var named = parsed.PartitionKeys.Where(k => !k.FromLambda).Select(k => k.Key).ToHashSet(StringComparer.Ordinal);
                if (named.Count > 0 && query is null)
                    throw FirehoseErrors.InvalidArgument("partitionKeyFromQuery expressions need a MetadataExtraction processor whose MetadataExtractionQuery gives their keys.");
                if (query is not null && (named.Any(k => !query.Keys.Contains(k)) || query.Keys.Any(k => !named.Contains(k))))
                    throw FirehoseErrors.InvalidArgument("When dynamic partitioning via inline parsing is enabled, you must use all specified dynamic partitioning key values for partitioning your data source.");
            }
            if (extended && s3["DataFormatConversionConfiguration"]?["Enabled"]?.GetValue<bool>() != false && s3["DataFormatConversionConfiguration"] is JsonObject)
            {
                if (size < 64)
                    throw FirehoseErrors.InvalidArgument("BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.");
                if ((string?)s3["CompressionFormat"] is { } compression && compression != "UNCOMPRESSED")
                    throw FirehoseErrors.InvalidArgument("CompressionFormat must be UNCOMPRESSED when data format conversion is enabled.");
            }
        }
        catch (FormatException e)
        {
            throw FirehoseErrors.InvalidArgument(e.Message);
        }
    }

    private static bool Expressions(string? prefix) => prefix?.Contains("!{", StringComparison.Ordinal) == true;
}
