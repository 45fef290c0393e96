using System.Text.Json.Nodes;

namespace Runnel.Firehose.Api;

/// <summary>
/// The destinations of the model, by the prefix of their members' names (<c>{Kind}DestinationConfiguration</c> on
/// create, <c>{Kind}DestinationUpdate</c> on update, <c>{Kind}DestinationDescription</c> when described), and how a
/// configuration as given becomes the description AWS shows: nested configurations renamed (S3Configuration is
/// described as S3DestinationDescription, …), secrets left out, and AWS's defaults filled where nothing was given
/// (S3: 5 MiB / 300 s, UNCOMPRESSED, NoEncryption, logging off; docs/adr/0002-firehose-api.md).
/// </summary>
public static class DestinationKinds
{
    public const string S3 = "S3", ExtendedS3 = "ExtendedS3", Redshift = "Redshift", Elasticsearch = "Elasticsearch",
        OpenSearch = "Amazonopensearchservice", Splunk = "Splunk", HttpEndpoint = "HttpEndpoint",
        OpenSearchServerless = "AmazonOpenSearchServerless", Snowflake = "Snowflake", Iceberg = "Iceberg";

    /// <summary>Every kind, in the model's order of CreateDeliveryStream's members.</summary>
    public static readonly IReadOnlyList<string> All =
        [S3, ExtendedS3, Redshift, Elasticsearch, OpenSearch, Splunk, HttpEndpoint, OpenSearchServerless, Snowflake, Iceberg];

    /// <summary>The kinds Runnel delivers to; a stream with another is created, and fails (CREATING_FAILED).</summary>
    public static bool Delivered(string kind) => kind is S3 or ExtendedS3 or Redshift or Elasticsearch or OpenSearch or OpenSearchServerless or HttpEndpoint or Splunk;

    /// <summary>The kinds that store S3-style objects as their main output.</summary>
    public static bool IsS3(string kind) => kind is S3 or ExtendedS3;

    private static readonly Dictionary<string, string> DescribedAs = new(StringComparer.Ordinal)
    {
        ["S3Configuration"] = "S3DestinationDescription",
        ["S3BackupConfiguration"] = "S3BackupDescription",
        ["VpcConfiguration"] = "VpcConfigurationDescription",
    };

    /// <summary>What an update calls the nested configurations (S3Update for S3Configuration, …).</summary>
    private static readonly Dictionary<string, string> UpdatedAs = new(StringComparer.Ordinal)
    {
        ["S3Update"] = "S3Configuration",
        ["S3BackupUpdate"] = "S3BackupConfiguration",
    };

    private static readonly HashSet<string> Secrets = new(StringComparer.Ordinal) { "Password", "PrivateKey", "KeyPassphrase", "AccessKey" };

    /// <summary>(buffer MiB, interval s, retry s) by default, from the model's documentation; null where it has none.</summary>
    private static (int Size, int Interval, int? Retry) Defaults(string kind) => kind switch
    {
        Splunk => (5, 60, 3600),
        Snowflake => (128, 0, 60),
        Redshift => (5, 300, 3600),
        Iceberg => (128, 300, 300),
        _ => (5, 300, 300),
    };

    /// <summary>An update's members under the configuration's names (S3Update becomes S3Configuration).</summary>
    public static JsonObject AsConfiguration(JsonObject update)
    {
        var json = new JsonObject();
        foreach (var (name, value) in update)
            json[UpdatedAs.GetValueOrDefault(name, name)] = value?.DeepClone();
        return json;
    }

    /// <summary>
    /// A configuration with an update merged into it, as UpdateDestination does for the same kind: each member the
    /// update gives replaces the stored one, structures merged member by member, lists and values replaced whole.
    /// </summary>
    public static JsonObject Merge(JsonObject configuration, JsonObject update)
    {
        var merged = (JsonObject)configuration.DeepClone();
        foreach (var (name, value) in AsConfiguration(update))
            merged[name] = value is JsonObject nested && merged[name] is JsonObject held && name != "EncryptionConfiguration"
                ? Merge(held, nested)
                : value?.DeepClone();
        return merged;
    }

    /// <summary>The description of a destination of <paramref name="kind"/> configured as <paramref name="configuration"/>.</summary>
    public static JsonObject Describe(string kind, JsonObject configuration)
    {
        var described = Described(configuration, IsS3(kind));
        var (size, interval, retry) = Defaults(kind);
        if (!IsS3(kind))
        {
            if (kind is not (Redshift or Iceberg))
                Fill(described, "BufferingHints", new JsonObject { ["IntervalInSeconds"] = interval, ["SizeInMBs"] = size });
            if (retry is { } seconds)
                described["RetryOptions"] ??= new JsonObject { ["DurationInSeconds"] = seconds };
            described["CloudWatchLoggingOptions"] ??= new JsonObject { ["Enabled"] = false };
            string? backup = kind switch
            {
                Elasticsearch or OpenSearch or OpenSearchServerless => "FailedDocumentsOnly",
                HttpEndpoint => "FailedDataOnly",
                Splunk => "FailedEventsOnly",
                Redshift => "Disabled",
                _ => null,
            };
            if (backup is not null)
                described["S3BackupMode"] ??= backup;
            if (kind is Elasticsearch or OpenSearch)
                described["IndexRotationPeriod"] ??= "OneDay";
        }
        if (kind == ExtendedS3)
        {
            described["S3BackupMode"] ??= "Disabled";
            if (described["DynamicPartitioningConfiguration"] is JsonObject dynamic && dynamic["Enabled"]?.GetValue<bool>() == true)
                dynamic["RetryOptions"] ??= new JsonObject { ["DurationInSeconds"] = 300 };
        }
        return described;
    }

    /// <summary>The members an S3 destination shares with its extended form, which AWS repeats as S3DestinationDescription.</summary>
    public static readonly IReadOnlyList<string> PlainS3Members =
        ["RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix", "BufferingHints", "CompressionFormat", "EncryptionConfiguration", "CloudWatchLoggingOptions"];

    private static JsonObject Described(JsonObject configuration, bool s3)
    {
        var described = new JsonObject();
        foreach (var (name, value) in configuration)
        {
            if (Secrets.Contains(name))
                continue;
            string as_ = DescribedAs.GetValueOrDefault(name, name);
            described[as_] = DescribedAs.ContainsKey(name) && value is JsonObject nested
                ? Described(nested, s3: name is "S3Configuration" or "S3BackupConfiguration")
                : value is JsonObject obj ? Described(obj, s3: false) : value?.DeepClone();
        }
        if (s3)
        {
            Fill(described, "BufferingHints", new JsonObject { ["SizeInMBs"] = 5, ["IntervalInSeconds"] = 300 });
            described["CompressionFormat"] ??= "UNCOMPRESSED";
            described["EncryptionConfiguration"] ??= new JsonObject { ["NoEncryptionConfig"] = "NoEncryption" };
            described["CloudWatchLoggingOptions"] ??= new JsonObject { ["Enabled"] = false };
        }
        return described;
    }

    /// <summary>Puts <paramref name="defaults"/> under <paramref name="name"/>, keeping whichever of its members were given.</summary>
    private static void Fill(JsonObject json, string name, JsonObject defaults)
    {
        if (json[name] is JsonObject given)
            foreach (var (member, value) in given)
                defaults[member] = value?.DeepClone();
        json[name] = defaults;
    }
}
