using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Api;

/// <summary>
/// CreateEventSourceMapping, GetEventSourceMapping, ListEventSourceMappings, UpdateEventSourceMapping and
/// DeleteEventSourceMapping for Kinesis sources: parse, check in Lambda's order (the model's constraints, then the
/// source and the function), decide with the <see cref="EventSourceMappingCatalog"/>, answer
/// <c>EventSourceMappingConfiguration</c>. Thread-safe.
/// </summary>
/// <param name="results">Where the pollers keep each mapping's <c>LastProcessingResult</c> (with its positions); null: not shown.</param>
public sealed partial class EventSourceMappingOperations(EventSourceMappingCatalog catalog, FunctionOperations functions, IEventSourceStreams streams, FunctionsOptions options,
    TimeProvider clock, Runnel.Storage.Metadata.IMetadataStore? results = null)
{
    private const int DefaultMaxItems = 100;

    [GeneratedRegex(@"^arn:aws:kinesis:([a-z]{2}(-gov)?-[a-z]+-\d):(\d{12}):stream/[a-zA-Z0-9_.-]{1,128}(/consumer/[a-zA-Z0-9_.-]{1,128}:\d+)?$")]
    private static partial Regex KinesisArn();

    public LambdaAnswer Create(LambdaRequest request)
    {
        using var document = FunctionOperations.Parse(request.Body);
        var body = document.RootElement;
        string functionName = String(body, "FunctionName") ?? throw LambdaErrors.Validation("null", "functionName", "Member must not be null");
        var settings = Settings(body);
        string? source = String(body, "EventSourceArn");
        string? startingPosition = String(body, "StartingPosition");
        if (startingPosition is not null and not ("TRIM_HORIZON" or "LATEST" or "AT_TIMESTAMP"))
            throw LambdaErrors.Validation(startingPosition, "startingPosition", "Member must satisfy enum value set: [TRIM_HORIZON, AT_TIMESTAMP, LATEST]");
        var function = functions.Find(request, functionName);
        if (source is null || !KinesisArn().IsMatch(source))
            throw LambdaErrors.InvalidParameter("Runnel maps Kinesis streams and their registered consumers only: EventSourceArn must be arn:aws:kinesis:REGION:ACCOUNT:stream/NAME (or a consumer's ARN).");
        if (KinesisArn().Match(source).Groups[1].Value != options.Region)
            throw LambdaErrors.InvalidParameter($"The stream {source} is not in this endpoint's region, {options.Region}.");
        if (!streams.Exists(request.AccountId, source))
            throw LambdaErrors.InvalidParameter($"Stream not found: {source}");
        if (startingPosition is null)
            throw LambdaErrors.InvalidParameter("StartingPosition is required for a Kinesis event source: TRIM_HORIZON, LATEST or AT_TIMESTAMP.");
        long? timestamp = body.TryGetProperty("StartingPositionTimestamp", out var at) && at.ValueKind == JsonValueKind.Number
            ? (long)(at.GetDouble() * 1000) : null;
        if (startingPosition == "AT_TIMESTAMP" && timestamp is null)
            throw LambdaErrors.InvalidParameter("StartingPositionTimestamp must be given with StartingPosition AT_TIMESTAMP.");
        foreach (var existing in catalog.All())
            if (existing.EventSourceArn == source && existing.FunctionArn == function.Arn)
                throw new LambdaException("ResourceConflictException",
                    $"An event source mapping with Kinesis stream arn (\" {source} \") and function (\" {function.Name} \") already exists. Please update or delete the existing mapping with UUID {existing.Uuid}", 409);
        var mapping = settings(new EventSourceMapping
        {
            Uuid = Guid.NewGuid().ToString(),
            FunctionArn = function.Arn,
            EventSourceArn = source,
            StartingPosition = startingPosition,
            StartingPositionTimestampMillis = timestamp,
            Enabled = Bool(body, "Enabled") ?? true,
            LastModifiedMillis = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        });
        if (!catalog.TryCreate(mapping.Uuid, mapping))
            throw LambdaErrors.Service("A mapping of the same UUID exists.");
        return LambdaAnswer.Json(202, FunctionOperations.Write(json => WriteConfiguration(json, mapping, "Creating")));
    }

    public LambdaAnswer Get(string uuid) =>
        LambdaAnswer.Json(200, FunctionOperations.Write(json => WriteConfiguration(json, WithResult(Find(uuid)), null)));

    /// <summary>The mapping with the processing result its poller last kept.</summary>
    private EventSourceMapping WithResult(EventSourceMapping m) =>
        results is not null && Mappings.MappingPositions.ReadResult(results, m.Uuid) is { } result ? m with { LastProcessingResult = result } : m;

    public LambdaAnswer List(LambdaRequest request)
    {
        int maxItems = DefaultMaxItems;
        if (request.Query.TryGetValue("MaxItems", out string? max)
            && (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out maxItems) || maxItems is < 1 or > 10000))
            throw LambdaErrors.Validation(max, "maxItems", "Member must have value between 1 and 10000");
        string? source = request.Query.GetValueOrDefault("EventSourceArn");
        string? functionArn = request.Query.TryGetValue("FunctionName", out string? name) ? functions.Find(request, name).Arn : null;
        string? marker = request.Query.GetValueOrDefault("Marker");
        var page = catalog.All()
            .Where(m => (source is null || m.EventSourceArn == source) && (functionArn is null || m.FunctionArn == functionArn))
            .Where(m => marker is null || string.CompareOrdinal(m.Uuid, marker) > 0)
            .Take(maxItems + 1).ToList();
        string? next = page.Count > maxItems ? page[maxItems - 1].Uuid : null;
        return LambdaAnswer.Json(200, FunctionOperations.Write(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("EventSourceMappings");
            foreach (var mapping in page.Take(maxItems))
                WriteConfiguration(json, WithResult(mapping), null);
            json.WriteEndArray();
            if (next is not null)
                json.WriteString("NextMarker", next);
            json.WriteEndObject();
        }));
    }

    public LambdaAnswer Update(LambdaRequest request, string uuid)
    {
        using var document = FunctionOperations.Parse(request.Body);
        var body = document.RootElement;
        var settings = Settings(body);
        string? functionArn = String(body, "FunctionName") is { } functionName ? functions.Find(request, functionName).Arn : null;
        var updated = catalog.Update(uuid, current => settings(current) with
        {
            FunctionArn = functionArn ?? current.FunctionArn,
            Enabled = Bool(body, "Enabled") ?? current.Enabled,
            LastModifiedMillis = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        }) ?? throw NotFound();
        return LambdaAnswer.Json(202, FunctionOperations.Write(json => WriteConfiguration(json, updated, "Updating")));
    }

    public LambdaAnswer Delete(string uuid)
    {
        var mapping = Find(uuid);
        catalog.Delete(uuid);
        return LambdaAnswer.Json(202, FunctionOperations.Write(json => WriteConfiguration(json, mapping, "Deleting")));
    }

    private EventSourceMapping Find(string uuid) => catalog.Find(uuid) ?? throw NotFound();

    private static LambdaException NotFound() => new("ResourceNotFoundException", "The resource you requested does not exist.", 404);

    /// <summary>The settings a create or an update may give, checked against the model's bounds; applied to a mapping by the function returned.</summary>
    private static Func<EventSourceMapping, EventSourceMapping> Settings(JsonElement body)
    {
        int? batchSize = Int(body, "BatchSize", "batchSize", 1, 10000);
        int? window = Int(body, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300);
        int? parallelization = Int(body, "ParallelizationFactor", "parallelizationFactor", 1, 10);
        int? retries = Int(body, "MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000);
        int? age = Int(body, "MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604800);
        int? tumbling = Int(body, "TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900);
        bool? bisect = Bool(body, "BisectBatchOnFunctionError");
        List<string>? responseTypes = null;
        if (body.TryGetProperty("FunctionResponseTypes", out var types) && types.ValueKind == JsonValueKind.Array)
        {
            responseTypes = [.. types.EnumerateArray().Select(t => t.GetString() ?? "")];
            foreach (string type in responseTypes)
                if (type != "ReportBatchItemFailures")
                    throw LambdaErrors.Validation(type, "functionResponseTypes", "Member must satisfy enum value set: [ReportBatchItemFailures]");
        }
        if (age is > -1 and < 60)
            throw LambdaErrors.InvalidParameter("MaximumRecordAgeInSeconds must be -1 (no limit) or between 60 and 604800.");
        var destination = body.TryGetProperty("DestinationConfig", out var d) && d.ValueKind == JsonValueKind.Object ? JsonNode.Parse(d.GetRawText())!.AsObject() : null;
        var filters = body.TryGetProperty("FilterCriteria", out var f) && f.ValueKind == JsonValueKind.Object ? JsonNode.Parse(f.GetRawText())!.AsObject() : null;
        try
        {
            _ = Mappings.EventFilter.FromCriteria(filters);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw LambdaErrors.InvalidParameter("Invalid filter pattern definition.");
        }
        return m => m with
        {
            BatchSize = batchSize ?? m.BatchSize,
            MaximumBatchingWindowInSeconds = window ?? m.MaximumBatchingWindowInSeconds,
            ParallelizationFactor = parallelization ?? m.ParallelizationFactor,
            MaximumRetryAttempts = retries ?? m.MaximumRetryAttempts,
            MaximumRecordAgeInSeconds = age ?? m.MaximumRecordAgeInSeconds,
            TumblingWindowInSeconds = tumbling ?? m.TumblingWindowInSeconds,
            BisectBatchOnFunctionError = bisect ?? m.BisectBatchOnFunctionError,
            FunctionResponseTypes = responseTypes ?? m.FunctionResponseTypes,
            DestinationConfig = destination ?? m.DestinationConfig,
            FilterCriteria = filters ?? m.FilterCriteria,
        };
    }

    /// <summary>An <c>EventSourceMappingConfiguration</c> as Lambda writes it; <paramref name="state"/> null for the stored one's.</summary>
    public static void WriteConfiguration(Utf8JsonWriter json, EventSourceMapping m, string? state)
    {
        json.WriteStartObject();
        json.WriteString("UUID", m.Uuid);
        json.WriteString("StartingPosition", m.StartingPosition);
        if (m.StartingPositionTimestampMillis is { } at)
            json.WriteNumber("StartingPositionTimestamp", at / 1000.0);
        json.WriteNumber("BatchSize", m.BatchSize);
        json.WriteNumber("MaximumBatchingWindowInSeconds", m.MaximumBatchingWindowInSeconds);
        json.WriteNumber("ParallelizationFactor", m.ParallelizationFactor);
        json.WriteString("EventSourceArn", m.EventSourceArn);
        if (m.FilterCriteria is { } filters)
        {
            json.WritePropertyName("FilterCriteria");
            filters.WriteTo(json);
        }
        json.WriteString("FunctionArn", m.FunctionArn);
        json.WriteNumber("LastModified", m.LastModifiedMillis / 1000.0);
        json.WriteString("LastProcessingResult", m.LastProcessingResult);
        json.WriteString("State", state ?? (m.Enabled ? "Enabled" : "Disabled"));
        json.WriteString("StateTransitionReason", m.StateTransitionReason);
        json.WritePropertyName("DestinationConfig");
        (m.DestinationConfig ?? new JsonObject { ["OnFailure"] = new JsonObject() }).WriteTo(json);
        json.WriteNumber("MaximumRecordAgeInSeconds", m.MaximumRecordAgeInSeconds);
        json.WriteBoolean("BisectBatchOnFunctionError", m.BisectBatchOnFunctionError);
        json.WriteNumber("MaximumRetryAttempts", m.MaximumRetryAttempts);
        json.WriteNumber("TumblingWindowInSeconds", m.TumblingWindowInSeconds);
        json.WriteStartArray("FunctionResponseTypes");
        foreach (string type in m.FunctionResponseTypes)
            json.WriteStringValue(type);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string? String(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool? Bool(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    private static int? Int(JsonElement body, string name, string member, int min, int max)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number)
            return null;
        if (!value.TryGetInt32(out int number) || number < min)
            throw LambdaErrors.Validation(value.GetRawText(), member, $"Member must have value greater than or equal to {min}");
        if (number > max)
            throw LambdaErrors.Validation(value.GetRawText(), member, $"Member must have value less than or equal to {max}");
        return number;
    }
}
