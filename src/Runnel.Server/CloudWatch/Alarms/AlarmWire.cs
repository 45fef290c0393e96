using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>
/// The alarm operations' answers on the wire: the query protocol's XML (members in the model's order, timestamps ISO
/// 8601 with milliseconds) and JSON 1.0 (epoch seconds with milliseconds); unset optional members are left out and
/// empty lists kept, as AWS answers (docs/adr/0003-observability-facts.md, 3.5). Thread-safe: stateless.
/// </summary>
public static class AlarmWire
{
    public static bool TryXml(object result, out string xml)
    {
        var text = new StringBuilder();
        switch (result)
        {
            case NoResult:
                break;
            case AlarmsPage page:
                text.Append("<MetricAlarms>");
                foreach (var a in page.Alarms)
                {
                    text.Append("<member>");
                    Alarm(a, (name, value) => text.Append('<').Append(name).Append('>').Append(QueryEndpoint.Escape(value)).Append("</").Append(name).Append('>'),
                        (name, values) =>
                        {
                            text.Append('<').Append(name).Append('>');
                            foreach (string value in values)
                                text.Append("<member>").Append(QueryEndpoint.Escape(value)).Append("</member>");
                            text.Append("</").Append(name).Append('>');
                        },
                        dimensions =>
                        {
                            text.Append("<Dimensions>");
                            foreach (var (name, value) in dimensions)
                                text.Append("<member><Name>").Append(QueryEndpoint.Escape(name)).Append("</Name><Value>").Append(QueryEndpoint.Escape(value)).Append("</Value></member>");
                            text.Append("</Dimensions>");
                        }, Iso);
                    text.Append("</member>");
                }
                text.Append("</MetricAlarms><CompositeAlarms/>");
                if (page.NextToken is { } next)
                    text.Append("<NextToken>").Append(next).Append("</NextToken>");
                break;
            case HistoryPage history:
                text.Append("<AlarmHistoryItems>");
                foreach (var item in history.Items)
                {
                    text.Append("<member><AlarmName>").Append(QueryEndpoint.Escape(item.AlarmName)).Append("</AlarmName><AlarmType>MetricAlarm</AlarmType><Timestamp>")
                        .Append(Iso(item.TimestampMillis)).Append("</Timestamp><HistoryItemType>").Append(item.Type).Append("</HistoryItemType><HistorySummary>")
                        .Append(QueryEndpoint.Escape(item.Summary)).Append("</HistorySummary><HistoryData>").Append(QueryEndpoint.Escape(item.Data)).Append("</HistoryData></member>");
                }
                text.Append("</AlarmHistoryItems>");
                if (history.NextToken is { } token)
                    text.Append("<NextToken>").Append(token).Append("</NextToken>");
                break;
            default:
                xml = "";
                return false;
        }
        xml = text.ToString();
        return true;
    }

    public static bool TryJson(Utf8JsonWriter json, object result)
    {
        switch (result)
        {
            case NoResult:
                return true;
            case AlarmsPage page:
                json.WriteStartArray("MetricAlarms");
                foreach (var a in page.Alarms)
                {
                    json.WriteStartObject();
                    Alarm(a, (name, value) =>
                    {
                        if (name is "Threshold")
                        {
                            json.WritePropertyName(name);
                            json.WriteRawValue(value, skipInputValidation: true);
                        }
                        else if (name is "Period" or "EvaluationPeriods" or "DatapointsToAlarm")
                            json.WriteNumber(name, int.Parse(value, CultureInfo.InvariantCulture));
                        else if (name is "ActionsEnabled")
                            json.WriteBoolean(name, value == "true");
                        else if (name.EndsWith("Timestamp", StringComparison.Ordinal))
                        {
                            json.WritePropertyName(name);
                            json.WriteRawValue(value, skipInputValidation: true);
                        }
                        else
                            json.WriteString(name, value);
                    },
                    (name, values) =>
                    {
                        json.WriteStartArray(name);
                        foreach (string value in values)
                            json.WriteStringValue(value);
                        json.WriteEndArray();
                    },
                    dimensions =>
                    {
                        json.WriteStartArray("Dimensions");
                        foreach (var (name, value) in dimensions)
                        {
                            json.WriteStartObject();
                            json.WriteString("Name", name);
                            json.WriteString("Value", value);
                            json.WriteEndObject();
                        }
                        json.WriteEndArray();
                    }, EpochSeconds);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartArray("CompositeAlarms");
                json.WriteEndArray();
                if (page.NextToken is { } next)
                    json.WriteString("NextToken", next);
                return true;
            case HistoryPage history:
                json.WriteStartArray("AlarmHistoryItems");
                foreach (var item in history.Items)
                {
                    json.WriteStartObject();
                    json.WriteString("AlarmName", item.AlarmName);
                    json.WriteString("AlarmType", "MetricAlarm");
                    json.WritePropertyName("Timestamp");
                    json.WriteRawValue(EpochSeconds(item.TimestampMillis), skipInputValidation: true);
                    json.WriteString("HistoryItemType", item.Type);
                    json.WriteString("HistorySummary", item.Summary);
                    json.WriteString("HistoryData", item.Data);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                if (history.NextToken is { } token)
                    json.WriteString("NextToken", token);
                return true;
            default:
                return false;
        }
    }

    /// <summary>A metric alarm's members in the model's order, through the protocol's writers.</summary>
    private static void Alarm(MetricAlarm a, Action<string, string> value, Action<string, IReadOnlyList<string>> list,
        Action<IReadOnlyList<KeyValuePair<string, string>>> dimensions, Func<long, string> time)
    {
        value("AlarmName", a.Name);
        value("AlarmArn", a.Arn);
        if (a.Description is { } description)
            value("AlarmDescription", description);
        value("AlarmConfigurationUpdatedTimestamp", time(a.ConfigurationUpdatedMillis));
        value("ActionsEnabled", a.ActionsEnabled ? "true" : "false");
        list("OKActions", a.OkActions);
        list("AlarmActions", a.AlarmActions);
        list("InsufficientDataActions", a.InsufficientDataActions);
        value("StateValue", a.StateValue);
        value("StateReason", a.StateReason);
        if (a.StateReasonData is { } data)
            value("StateReasonData", data);
        value("StateUpdatedTimestamp", time(a.StateUpdatedMillis));
        value("MetricName", a.MetricName);
        value("Namespace", a.Namespace);
        if (a.Statistic is { } statistic)
            value("Statistic", statistic);
        dimensions(a.Dimensions);
        value("Period", a.Period.ToString(CultureInfo.InvariantCulture));
        if (a.Unit is { } unit)
            value("Unit", unit);
        value("EvaluationPeriods", a.EvaluationPeriods.ToString(CultureInfo.InvariantCulture));
        value("Threshold", CloudWatchOperations.Format(a.Threshold));
        value("ComparisonOperator", a.ComparisonOperator);
        if (a.ExtendedStatistic is { } extended)
            value("ExtendedStatistic", extended);
        if (a.TreatMissingData is { } treat)
            value("TreatMissingData", treat);
        if (a.EvaluateLowSampleCountPercentile is { } low)
            value("EvaluateLowSampleCountPercentile", low);
        if (a.DatapointsToAlarm is { } m)
            value("DatapointsToAlarm", m.ToString(CultureInfo.InvariantCulture));
        value("StateTransitionedTimestamp", time(a.StateTransitionedMillis));
    }

    private static string Iso(long millis) =>
        DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string EpochSeconds(long millis) => (millis / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);
}
