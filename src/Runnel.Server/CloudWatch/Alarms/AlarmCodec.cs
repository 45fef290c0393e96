using System.Text.Json;
using System.Text.Json.Serialization;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>
/// The metadata documents of alarms (kind <see cref="Kind"/>, key the alarm's name) and of their history (kind
/// <see cref="HistoryKind"/>, key the alarm's name: its items, newest last). JSON, their layout in
/// docs/formats/alarms.md; members this version does not know are ignored. Thread-safe: stateless.
/// </summary>
public static class AlarmCodec
{
    public const string Kind = "alarm";
    public const string HistoryKind = "alarm-history";

    public static byte[] Encode(MetricAlarm a) => JsonSerializer.SerializeToUtf8Bytes(new StoredAlarm
    {
        Name = a.Name,
        Arn = a.Arn,
        Description = a.Description,
        ActionsEnabled = a.ActionsEnabled,
        OkActions = [.. a.OkActions],
        AlarmActions = [.. a.AlarmActions],
        InsufficientDataActions = [.. a.InsufficientDataActions],
        Namespace = a.Namespace,
        MetricName = a.MetricName,
        Dimensions = a.Dimensions.Select(d => new[] { d.Key, d.Value }).ToList(),
        Statistic = a.Statistic,
        ExtendedStatistic = a.ExtendedStatistic,
        EvaluateLowSampleCountPercentile = a.EvaluateLowSampleCountPercentile,
        Period = a.Period,
        Unit = a.Unit,
        EvaluationPeriods = a.EvaluationPeriods,
        DatapointsToAlarm = a.DatapointsToAlarm,
        Threshold = a.Threshold,
        ComparisonOperator = a.ComparisonOperator,
        TreatMissingData = a.TreatMissingData,
        Tags = a.Tags.Select(t => new[] { t.Key, t.Value }).ToList(),
        ConfigurationUpdated = a.ConfigurationUpdatedMillis,
        State = a.StateValue,
        StateReason = a.StateReason,
        StateReasonData = a.StateReasonData,
        StateUpdated = a.StateUpdatedMillis,
        StateTransitioned = a.StateTransitionedMillis,
    }, AlarmJsonContext.Default.StoredAlarm);

    /// <summary>Reads a stored alarm; <see cref="InvalidDataException"/> when the document does not hold one.</summary>
    public static MetricAlarm Decode(byte[] body, ulong revision)
    {
        StoredAlarm s;
        try
        {
            s = JsonSerializer.Deserialize(body, AlarmJsonContext.Default.StoredAlarm) ?? throw new InvalidDataException("The alarm document is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The alarm document is not JSON of an alarm ({e.Message}).", e);
        }
        if (s.Name is null || s.Arn is null || s.Namespace is null || s.MetricName is null || (s.Statistic ?? s.ExtendedStatistic) is null || s.ComparisonOperator is null || s.State is null)
            throw new InvalidDataException("The alarm document lacks a member every alarm has.");
        return new MetricAlarm
        {
            Name = s.Name,
            Arn = s.Arn,
            Description = s.Description,
            ActionsEnabled = s.ActionsEnabled,
            OkActions = s.OkActions ?? [],
            AlarmActions = s.AlarmActions ?? [],
            InsufficientDataActions = s.InsufficientDataActions ?? [],
            Namespace = s.Namespace,
            MetricName = s.MetricName,
            Dimensions = Pairs(s.Dimensions),
            Statistic = s.Statistic,
            ExtendedStatistic = s.ExtendedStatistic,
            EvaluateLowSampleCountPercentile = s.EvaluateLowSampleCountPercentile,
            Period = s.Period,
            Unit = s.Unit,
            EvaluationPeriods = s.EvaluationPeriods,
            DatapointsToAlarm = s.DatapointsToAlarm,
            Threshold = s.Threshold,
            ComparisonOperator = s.ComparisonOperator,
            TreatMissingData = s.TreatMissingData,
            Tags = Pairs(s.Tags),
            ConfigurationUpdatedMillis = s.ConfigurationUpdated,
            StateValue = s.State,
            StateReason = s.StateReason ?? "",
            StateReasonData = s.StateReasonData,
            StateUpdatedMillis = s.StateUpdated,
            StateTransitionedMillis = s.StateTransitioned,
            Revision = revision,
        };
    }

    public static byte[] EncodeHistory(IReadOnlyList<AlarmHistoryItem> items) => JsonSerializer.SerializeToUtf8Bytes(
        items.Select(i => new StoredHistoryItem { Name = i.AlarmName, At = i.TimestampMillis, Type = i.Type, Summary = i.Summary, Data = i.Data }).ToList(),
        AlarmJsonContext.Default.ListStoredHistoryItem);

    /// <summary>Reads an alarm's stored history (empty when the document does not hold one: history is not worth refusing to start for).</summary>
    public static IReadOnlyList<AlarmHistoryItem> DecodeHistory(byte[] body)
    {
        try
        {
            return (JsonSerializer.Deserialize(body, AlarmJsonContext.Default.ListStoredHistoryItem) ?? [])
                .Where(i => i.Name is not null && i.Type is not null)
                .Select(i => new AlarmHistoryItem(i.Name!, i.At, i.Type!, i.Summary ?? "", i.Data ?? "{}"))
                .ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static IReadOnlyList<KeyValuePair<string, string>> Pairs(List<string[]>? pairs) =>
        (pairs ?? []).Where(p => p.Length == 2).Select(p => new KeyValuePair<string, string>(p[0], p[1])).ToList();
}

internal sealed class StoredAlarm
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("arn")] public string? Arn { get; set; }
    [JsonPropertyName("description")] public string? Description { get; set; }
    [JsonPropertyName("actionsEnabled")] public bool ActionsEnabled { get; set; } = true;
    [JsonPropertyName("okActions")] public List<string>? OkActions { get; set; }
    [JsonPropertyName("alarmActions")] public List<string>? AlarmActions { get; set; }
    [JsonPropertyName("insufficientDataActions")] public List<string>? InsufficientDataActions { get; set; }
    [JsonPropertyName("namespace")] public string? Namespace { get; set; }
    [JsonPropertyName("metricName")] public string? MetricName { get; set; }
    [JsonPropertyName("dimensions")] public List<string[]>? Dimensions { get; set; }
    [JsonPropertyName("statistic")] public string? Statistic { get; set; }
    [JsonPropertyName("extendedStatistic")] public string? ExtendedStatistic { get; set; }
    [JsonPropertyName("evaluateLowSampleCountPercentile")] public string? EvaluateLowSampleCountPercentile { get; set; }
    [JsonPropertyName("period")] public int Period { get; set; }
    [JsonPropertyName("unit")] public string? Unit { get; set; }
    [JsonPropertyName("evaluationPeriods")] public int EvaluationPeriods { get; set; }
    [JsonPropertyName("datapointsToAlarm")] public int? DatapointsToAlarm { get; set; }
    [JsonPropertyName("threshold")] public double Threshold { get; set; }
    [JsonPropertyName("comparisonOperator")] public string? ComparisonOperator { get; set; }
    [JsonPropertyName("treatMissingData")] public string? TreatMissingData { get; set; }
    [JsonPropertyName("tags")] public List<string[]>? Tags { get; set; }
    [JsonPropertyName("configurationUpdated")] public long ConfigurationUpdated { get; set; }
    [JsonPropertyName("state")] public string? State { get; set; }
    [JsonPropertyName("stateReason")] public string? StateReason { get; set; }
    [JsonPropertyName("stateReasonData")] public string? StateReasonData { get; set; }
    [JsonPropertyName("stateUpdated")] public long StateUpdated { get; set; }
    [JsonPropertyName("stateTransitioned")] public long StateTransitioned { get; set; }
}

internal sealed class StoredHistoryItem
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("at")] public long At { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("summary")] public string? Summary { get; set; }
    [JsonPropertyName("data")] public string? Data { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredAlarm))]
[JsonSerializable(typeof(List<StoredHistoryItem>))]
internal sealed partial class AlarmJsonContext : JsonSerializerContext;
