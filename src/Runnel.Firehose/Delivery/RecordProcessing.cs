using System.Text.Json.Nodes;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// What an S3 destination's ProcessingConfiguration asks to be done to each record before it is buffered: the keys of
/// dynamic partitioning (the MetadataExtraction processor's query) and a newline after each record
/// (AppendDelimiterToRecord). Processors Runnel does not run yet are listed in <see cref="NotRun"/>.
/// </summary>
public sealed record RecordProcessing(PartitionQuery? Query, bool AppendNewline, IReadOnlyList<string> NotRun)
{
    public static readonly RecordProcessing None = new(null, false, []);

    /// <summary>The processing a destination's configuration asks for; <see cref="FormatException"/> for a query Runnel
    /// cannot evaluate.</summary>
    public static RecordProcessing From(JsonObject destination)
    {
        if (destination["ProcessingConfiguration"] is not JsonObject processing || processing["Enabled"]?.GetValue<bool>() == false
            || processing["Processors"] is not JsonArray processors)
            return None;
        PartitionQuery? query = null;
        bool newline = false;
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
                default:
                    notRun.Add(type);
                    break;
            }
        }
        return new RecordProcessing(query, newline, notRun);
    }
}
