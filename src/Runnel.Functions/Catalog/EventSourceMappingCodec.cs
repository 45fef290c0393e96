using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runnel.Functions.Catalog;

/// <summary>
/// An event-source mapping's metadata document (kind <see cref="Kind"/>, key its UUID): a JSON object, its layout in
/// docs/formats/functions.md. Members this version does not know are ignored on reading. Thread-safe: stateless.
/// </summary>
public static class EventSourceMappingCodec
{
    public const string Kind = "event-source-mapping";

    public static byte[] Encode(EventSourceMapping m)
    {
        var json = new JsonObject
        {
            ["uuid"] = m.Uuid,
            ["functionArn"] = m.FunctionArn,
            ["eventSourceArn"] = m.EventSourceArn,
            ["enabled"] = m.Enabled,
            ["startingPosition"] = m.StartingPosition,
            ["batchSize"] = m.BatchSize,
            ["maximumBatchingWindowInSeconds"] = m.MaximumBatchingWindowInSeconds,
            ["parallelizationFactor"] = m.ParallelizationFactor,
            ["bisectBatchOnFunctionError"] = m.BisectBatchOnFunctionError,
            ["maximumRetryAttempts"] = m.MaximumRetryAttempts,
            ["maximumRecordAgeInSeconds"] = m.MaximumRecordAgeInSeconds,
            ["tumblingWindowInSeconds"] = m.TumblingWindowInSeconds,
            ["functionResponseTypes"] = new JsonArray([.. m.FunctionResponseTypes.Select(t => (JsonNode)t)]),
            ["lastModified"] = m.LastModifiedMillis,
            ["lastProcessingResult"] = m.LastProcessingResult,
            ["stateTransitionReason"] = m.StateTransitionReason,
        };
        if (m.StartingPositionTimestampMillis is { } timestamp)
            json["startingPositionTimestamp"] = timestamp;
        if (m.DestinationConfig is { } destination)
            json["destinationConfig"] = destination.DeepClone();
        if (m.FilterCriteria is { } filters)
            json["filterCriteria"] = filters.DeepClone();
        return JsonSerializer.SerializeToUtf8Bytes(json, FunctionsJsonContext.Default.JsonObject);
    }

    /// <exception cref="InvalidDataException">The body is not a mapping's document.</exception>
    public static EventSourceMapping Decode(byte[] body, ulong revision)
    {
        try
        {
            var json = JsonNode.Parse(body)?.AsObject() ?? throw new InvalidDataException("The document is empty.");
            return new EventSourceMapping
            {
                Uuid = Required(json, "uuid"),
                FunctionArn = Required(json, "functionArn"),
                EventSourceArn = Required(json, "eventSourceArn"),
                Enabled = json["enabled"]?.GetValue<bool>() ?? true,
                StartingPosition = Required(json, "startingPosition"),
                StartingPositionTimestampMillis = json["startingPositionTimestamp"]?.GetValue<long>(),
                BatchSize = json["batchSize"]?.GetValue<int>() ?? 100,
                MaximumBatchingWindowInSeconds = json["maximumBatchingWindowInSeconds"]?.GetValue<int>() ?? 0,
                ParallelizationFactor = json["parallelizationFactor"]?.GetValue<int>() ?? 1,
                BisectBatchOnFunctionError = json["bisectBatchOnFunctionError"]?.GetValue<bool>() ?? false,
                MaximumRetryAttempts = json["maximumRetryAttempts"]?.GetValue<int>() ?? -1,
                MaximumRecordAgeInSeconds = json["maximumRecordAgeInSeconds"]?.GetValue<int>() ?? -1,
                TumblingWindowInSeconds = json["tumblingWindowInSeconds"]?.GetValue<int>() ?? 0,
                FunctionResponseTypes = json["functionResponseTypes"] is JsonArray types ? [.. types.Select(t => t!.GetValue<string>())] : [],
                DestinationConfig = json["destinationConfig"]?.DeepClone().AsObject(),
                FilterCriteria = json["filterCriteria"]?.DeepClone().AsObject(),
                LastModifiedMillis = json["lastModified"]?.GetValue<long>() ?? 0,
                LastProcessingResult = json["lastProcessingResult"]?.GetValue<string>() ?? "No records processed",
                StateTransitionReason = json["stateTransitionReason"]?.GetValue<string>() ?? "User action",
                Revision = revision,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The event-source mapping's document does not decode: {e.Message}", e);
        }
    }

    private static string Required(JsonObject json, string name) =>
        json[name]?.GetValue<string>() ?? throw new InvalidDataException($"The event-source mapping's document has no '{name}'.");
}
