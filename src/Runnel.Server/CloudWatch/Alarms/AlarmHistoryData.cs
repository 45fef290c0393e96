using System.Text;
using System.Text.Json;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>The HistoryData JSON of each kind of history item, in AWS's layout (docs/adr/0003-observability-facts.md, 3.6). Thread-safe: stateless.</summary>
public static class AlarmHistoryData
{
    /// <summary>JSON written as AWS writes it: <c>+</c>, quotes' neighbours and non-ASCII letters left as they are (the text is JSON inside JSON or XML, escaped again there).</summary>
    public static readonly JsonWriterOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A ConfigurationUpdate's data: the type (Create, Update) and the alarm under <paramref name="key"/>.</summary>
    public static string Configuration(string type, string key, MetricAlarm a) => Write(json =>
    {
        json.WriteString("version", "1.0");
        json.WriteString("type", type);
        json.WriteStartObject(key);
        json.WriteString("alarmName", a.Name);
        if (a.Description is { } description)
            json.WriteString("alarmDescription", description);
        json.WriteString("alarmArn", a.Arn);
        json.WriteString("alarmConfigurationUpdatedTimestamp", AlarmEvaluation.JsonDate(a.ConfigurationUpdatedMillis));
        json.WriteString("namespace", a.Namespace);
        json.WriteString("metricName", a.MetricName);
        if (a.Statistic is { } statistic)
            json.WriteString("statistic", statistic);
        if (a.ExtendedStatistic is { } extended)
            json.WriteString("extendedStatistic", extended);
        json.WriteNumber("period", a.Period);
        Dimensions(json, "dimensions", a.Dimensions);
        json.WritePropertyName("threshold");
        json.WriteRawValue(CloudWatchOperations.Format(a.Threshold), skipInputValidation: true);
        json.WriteString("comparisonOperator", a.ComparisonOperator);
        json.WriteNumber("evaluationPeriods", a.EvaluationPeriods);
        if (a.DatapointsToAlarm is { } m)
            json.WriteNumber("datapointsToAlarm", m);
        if (a.TreatMissingData is { } treat)
            json.WriteString("treatMissingData", treat);
        json.WriteString("stateValue", a.StateValue);
        json.WriteString("stateUpdatedTimestamp", AlarmEvaluation.JsonDate(a.StateUpdatedMillis));
        json.WriteBoolean("actionsEnabled", a.ActionsEnabled);
        Strings(json, "alarmActions", a.AlarmActions);
        Strings(json, "insufficientDataActions", a.InsufficientDataActions);
        Strings(json, "okactions", a.OkActions); // sic: AWS spells it in lower case here
        json.WriteEndObject();
    });

    /// <summary>A StateUpdate's data: the old and the new state with their reasons (and reason data, as an object).</summary>
    public static string State(string oldState, string oldReason, AlarmDecision decision) => Write(json =>
    {
        json.WriteString("version", "1.0");
        json.WriteStartObject("oldState");
        json.WriteString("stateValue", oldState);
        json.WriteString("stateReason", oldReason);
        json.WriteEndObject();
        json.WriteStartObject("newState");
        json.WriteString("stateValue", decision.State);
        json.WriteString("stateReason", decision.Reason);
        if (decision.ReasonData is { } data)
        {
            json.WritePropertyName("stateReasonData");
            json.WriteRawValue(data);
        }
        json.WriteEndObject();
    });

    /// <summary>An Action's data: whether it succeeded and the action's ARN (and the reason of a failure).</summary>
    public static string Action(string outcome, string arn, string? reason) => Write(json =>
    {
        json.WriteString("actionState", outcome);
        json.WriteString("notificationResource", arn);
        if (reason is not null)
            json.WriteString("error", reason);
    });

    /// <summary>Dimensions as AWS writes them inside its JSON texts: <c>{"value": …, "name": …}</c>, in lower case, value first.</summary>
    internal static void Dimensions(Utf8JsonWriter json, string member, IReadOnlyList<KeyValuePair<string, string>> dimensions)
    {
        json.WriteStartArray(member);
        foreach (var (name, value) in dimensions)
        {
            json.WriteStartObject();
            json.WriteString("value", value);
            json.WriteString("name", name);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    internal static void Strings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }

    private static string Write(Action<Utf8JsonWriter> members)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, AlarmHistoryData.Readable))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
