using System.Text.Json.Nodes;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// What an S3 destination's ProcessingConfiguration asks to be done to each record before it is buffered: the keys of
/// dynamic partitioning (the MetadataExtraction processor's query), a newline after each record
/// (AppendDelimiterToRecord), and the sub-records RecordDeAggregation splits a record into (JSON objects, or pieces
/// between a delimiter), CloudWatch Logs data decompressed (Decompression) and its messages extracted
/// (CloudWatchLogProcessing). Processors Runnel does not run yet are listed in <see cref="NotRun"/>.
/// </summary>
public sealed record RecordProcessing(PartitionQuery? Query, bool AppendNewline, IReadOnlyList<string> NotRun)
{
    public static readonly RecordProcessing None = new(null, false, []);

    /// <summary>The Lambda processor: the function records go through before they are buffered for the destination.</summary>
    public Transform.TransformSettings? Lambda { get; init; }

    /// <summary>RecordDeAggregation with <c>SubRecordType</c> JSON.</summary>
    public bool JsonSubRecords { get; init; }

    /// <summary>RecordDeAggregation with <c>SubRecordType</c> DELIMITED: the delimiter (its <c>Delimiter</c> parameter, base64).</summary>
    public byte[]? Delimiter { get; init; }

    /// <summary>The Decompression processor (<c>CompressionFormat</c> GZIP, its one value).</summary>
    public bool Decompress { get; init; }

    /// <summary>The CloudWatchLogProcessing processor with <c>DataMessageExtraction</c> true.</summary>
    public bool ExtractMessages { get; init; }

    /// <summary>How a delivery splits records: KPL aggregates first (a Kinesis stream source), then decompression and
    /// message extraction, then this processing's sub-records.</summary>
    public RecordSplitter Splitter(bool kpl) => new(kpl, JsonSubRecords, Delimiter, Decompress, ExtractMessages);

    /// <summary>The processing a destination's configuration asks for; <see cref="FormatException"/> for a query Runnel
    /// cannot evaluate.</summary>
    public static RecordProcessing From(JsonObject destination)
    {
        if (destination["ProcessingConfiguration"] is not JsonObject processing || processing["Enabled"]?.GetValue<bool>() == false
            || processing["Processors"] is not JsonArray processors)
            return None;
        PartitionQuery? query = null;
        bool newline = false, json = false, decompress = false, extract = false, cloudWatchLogs = false;
        Transform.TransformSettings? lambda = null;
        byte[]? delimiter = null;
        var notRun = new List<string>();
        foreach (var processor in processors.OfType<JsonObject>())
        {
            string type = (string?)processor["Type"] ?? "";
            var parameters = (processor["Parameters"] as JsonArray)?.OfType<JsonObject>()
                .ToDictionary(p => (string?)p["ParameterName"] ?? "", p => (string?)p["ParameterValue"] ?? "", StringComparer.Ordinal) ?? [];
            switch (type)
            {
                case "MetadataExtraction":
                    if (parameters.TryGetValue("JsonParsingEngine", out string? engine) && engine != "JQ-1.6")
                        throw new FormatException($"JsonParsingEngine must be JQ-1.6, not '{engine}'.");
                    query = PartitionQuery.Parse(parameters.GetValueOrDefault("MetadataExtractionQuery")
                        ?? throw new FormatException("The MetadataExtraction processor needs a MetadataExtractionQuery."));
                    break;
                case "AppendDelimiterToRecord":
                    newline = true;
                    break;
                case "Lambda":
                    lambda = Transform.TransformSettings.From(parameters.GetValueOrDefault("LambdaArn")
                        ?? throw new FormatException("The Lambda processor needs a LambdaArn."), parameters);
                    break;
                case "RecordDeAggregation":
                    switch (parameters.GetValueOrDefault("SubRecordType", "JSON"))
                    {
                        case "JSON":
                            json = true;
                            break;
                        case "DELIMITED":
                            try
                            {
                                delimiter = Convert.FromBase64String(parameters.GetValueOrDefault("Delimiter") ?? "");
                            }
                            catch (FormatException)
                            {
                                delimiter = [];
                            }
                            if (delimiter.Length == 0)
                                throw new FormatException("RecordDeAggregation with SubRecordType DELIMITED needs a Delimiter, in base64.");
                            break;
                        case var other:
                            throw new FormatException($"SubRecordType must be JSON or DELIMITED, not '{other}'.");
                    }
                    break;
                case "Decompression":
                    if (parameters.GetValueOrDefault("CompressionFormat", "GZIP") is var format && format != "GZIP")
                        throw new FormatException($"The Decompression processor's CompressionFormat must be GZIP, not '{format}'.");
                    decompress = true;
                    break;
                case "CloudWatchLogProcessing":
                    cloudWatchLogs = true;
                    extract = parameters.GetValueOrDefault("DataMessageExtraction", "false").ToLowerInvariant() switch
                    {
                        "true" => true,
                        "false" => false,
                        var other => throw new FormatException($"The CloudWatchLogProcessing processor's DataMessageExtraction must be true or false, not '{other}'."),
                    };
                    break;
                default:
                    notRun.Add(type);
                    break;
            }
        }
        if (cloudWatchLogs && !decompress)
            throw new FormatException("The CloudWatchLogProcessing processor needs the Decompression processor: CloudWatch Logs data arrives GZIP compressed.");
        return new RecordProcessing(query, newline, notRun) { JsonSubRecords = json, Delimiter = delimiter, Lambda = lambda, Decompress = decompress, ExtractMessages = extract };
    }
}
