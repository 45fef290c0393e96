using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>One period's datapoint: its start (Unix seconds), the statistic's value and the samples behind it.</summary>
public readonly record struct AlarmDatapoint(long Timestamp, double Value, double SampleCount);

/// <summary>What an evaluation decided: the state and its reason (text and AWS's JSON data).</summary>
public sealed record AlarmDecision(string State, string Reason, string? ReasonData);

/// <summary>
/// CloudWatch's evaluation of one alarm over its evaluation range (docs/adr/0003-observability-facts.md, 5.1): the
/// newest N periods decide when none is missing; else the newest N real datapoints when there are N; else the
/// missing ones are filled as TreatMissingData says, as few as needed, and an alarm whose real datapoints all breach
/// goes to ALARM once the oldest breaching one within the last N is M periods old (AWS's rule against premature
/// alarms). A percentile alarm with EvaluateLowSampleCountPercentile <c>ignore</c> keeps its state while a period of the
/// last N has too few samples for its percentile (<see cref="Percentiles.SignificantSamples"/>). Pure: knows no clock,
/// store or wire. Thread-safe: stateless.
/// </summary>
public static class AlarmEvaluation
{
    /// <summary>How many periods are fetched for N evaluation periods (AWS fetches more than N: 5 for 3).</summary>
    public static int RangeOf(int evaluationPeriods) => evaluationPeriods + 2;

    /// <summary>
    /// The state the datapoints call for, or null when the alarm keeps its state (TreatMissingData ignore).
    /// <paramref name="range"/> holds the evaluation range oldest first, one entry per period (null where the period
    /// had no samples); <paramref name="periodStarts"/> their starts.
    /// </summary>
    public static AlarmDecision? Evaluate(MetricAlarm alarm, IReadOnlyList<AlarmDatapoint?> range, IReadOnlyList<long> periodStarts, long nowMillis)
    {
        int n = alarm.EvaluationPeriods, m = alarm.Required;
        string treat = alarm.TreatMissingData ?? "missing";
        var real = range.Where(p => p is not null).Select(p => p!.Value).ToList();
        var lastN = range.Skip(Math.Max(0, range.Count - n)).ToList();
        string data(IReadOnlyList<AlarmDatapoint> used) => ReasonData(alarm, range, periodStarts, used, nowMillis);
        if (alarm.ExtendedStatistic is { } percentile && alarm.EvaluateLowSampleCountPercentile == "ignore"
            && lastN.Any(p => p is { } point && point.SampleCount < Percentiles.SignificantSamples(Percentiles.Parse(percentile))))
            return null;

        if (real.Count == 0)
        {
            return treat switch
            {
                "breaching" => new AlarmDecision(AlarmStates.Alarm, $"Threshold Crossed: no datapoints were received for {n} period{S(n)} and {n} missing datapoint{S(n)} {Was(n)} treated as [Breaching].", data([])),
                "notBreaching" => new AlarmDecision(AlarmStates.Ok, $"Threshold Crossed: no datapoints were received for {n} period{S(n)} and {n} missing datapoint{S(n)} {Was(n)} treated as [NonBreaching].", data([])),
                "ignore" => null,
                _ => new AlarmDecision(AlarmStates.InsufficientData, $"Insufficient Data: {n} datapoint{S(n)} {Was(n)} unknown.", data([])),
            };
        }

        List<AlarmDatapoint> chosen;
        int filled = 0;
        bool fillBreaching = treat == "breaching";
        if (lastN.All(p => p is not null))
            chosen = lastN.Select(p => p!.Value).ToList();
        else if (real.Count >= n)
            chosen = real.Skip(real.Count - n).ToList();
        else
        {
            chosen = real;
            filled = n - real.Count;
            if (treat is "missing" or "ignore" && real.All(p => Breaches(alarm, p.Value)) && PrematureRuleAlarms(alarm, lastN, m))
                return treat == "ignore" ? null : Decide(alarm, AlarmStates.Alarm, chosen, 0, false, n, data(chosen));
        }
        int breaching = chosen.Count(p => Breaches(alarm, p.Value)) + (fillBreaching ? filled : 0);
        string state = breaching >= m ? AlarmStates.Alarm : AlarmStates.Ok;
        bool mention = treat is "breaching" or "notBreaching";
        return Decide(alarm, state, chosen, mention ? filled : 0, fillBreaching, n, data(chosen));
    }

    /// <summary>
    /// AWS's rule against premature alarms: the oldest breaching datapoint within the last N is at least M periods old
    /// and every newer one breaches or is missing.
    /// </summary>
    private static bool PrematureRuleAlarms(MetricAlarm alarm, IReadOnlyList<AlarmDatapoint?> lastN, int m)
    {
        for (int i = 0; i < lastN.Count; i++)
        {
            if (lastN[i] is not { } point || !Breaches(alarm, point.Value))
                continue;
            int age = lastN.Count - i; // the newest period is 1 old
            return age >= m && lastN.Skip(i + 1).All(p => p is null || Breaches(alarm, p.Value.Value));
        }
        return false;
    }

    public static bool Breaches(MetricAlarm alarm, double value) => alarm.ComparisonOperator switch
    {
        "GreaterThanOrEqualToThreshold" => value >= alarm.Threshold,
        "GreaterThanThreshold" => value > alarm.Threshold,
        "LessThanThreshold" => value < alarm.Threshold,
        _ => value <= alarm.Threshold,
    };

    /// <summary>The decision and its reason in AWS's words (facts 5.3): the datapoints that call for the state, newest first.</summary>
    private static AlarmDecision Decide(MetricAlarm alarm, string state, IReadOnlyList<AlarmDatapoint> chosen, int filled, bool fillBreaching, int n, string reasonData)
    {
        bool toAlarm = state == AlarmStates.Alarm;
        var named = chosen.Where(p => Breaches(alarm, p.Value) == toAlarm).Reverse().ToList();
        int count = named.Count + (fillBreaching == toAlarm ? filled : 0);
        string comparison = (toAlarm ? "" : "not ") + Words(alarm.ComparisonOperator);
        string threshold = CloudWatchOperations.Format(alarm.Threshold);
        string list = "[" + string.Join(", ", named.Take(5).Select(p => $"{CloudWatchOperations.Format(p.Value)} ({Stamp(p.Timestamp)})")) + "]";
        string missing = filled > 0 ? $" and {filled} missing datapoint{S(filled)} {Was(filled)} treated as [{(fillBreaching ? "Breaching" : "NonBreaching")}]" : "";
        var reason = new StringBuilder("Threshold Crossed: ");
        if (alarm.DatapointsToAlarm is { } m)
        {
            reason.Append(CultureInfo.InvariantCulture, $"{count} out of the last {n} datapoints ");
            if (named.Count <= 5)
                reason.Append(CultureInfo.InvariantCulture, $"{list} {Was(count)} {comparison} the threshold ({threshold}){missing}");
            else
                reason.Append(CultureInfo.InvariantCulture, $"{Was(count)} {comparison} the threshold ({threshold}){missing}. The most recent datapoints which crossed the threshold: {list}");
            int minimum = toAlarm ? m : n - m + 1;
            string from = toAlarm ? (alarm.StateValue == AlarmStates.Alarm ? AlarmStates.Ok : alarm.StateValue) : (alarm.StateValue == AlarmStates.Ok ? AlarmStates.Alarm : alarm.StateValue);
            reason.Append(CultureInfo.InvariantCulture, $" (minimum {minimum} datapoint{S(minimum)} for {from} -> {state} transition).");
        }
        else if (named.Count <= 5)
        {
            reason.Append(CultureInfo.InvariantCulture, $"{count} datapoint{S(count)} {list} {Was(count)} {comparison} the threshold ({threshold}){missing}.");
        }
        else
        {
            reason.Append(CultureInfo.InvariantCulture, $"{count} datapoints were {comparison} the threshold ({threshold}){missing}. The most recent datapoints which crossed the threshold: {list}.");
        }
        return new AlarmDecision(state, reason.ToString(), reasonData);
    }

    /// <summary>StateReasonData: AWS's JSON of the evaluation (facts 5.4).</summary>
    private static string ReasonData(MetricAlarm alarm, IReadOnlyList<AlarmDatapoint?> range, IReadOnlyList<long> starts, IReadOnlyList<AlarmDatapoint> used, long nowMillis)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, AlarmHistoryData.Readable))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteString("queryDate", JsonDate(nowMillis));
            if (used.Count > 0)
                json.WriteString("startDate", JsonDate(starts[0] * 1000));
            if (alarm.Unit is { } unit)
                json.WriteString("unit", unit);
            json.WriteString("statistic", alarm.StatisticName); // a percentile alarm's percentile (p99) here too
            json.WriteNumber("period", alarm.Period);
            json.WriteStartArray("recentDatapoints");
            foreach (var point in used)
                json.WriteRawValue(CloudWatchOperations.Format(point.Value), skipInputValidation: true);
            json.WriteEndArray();
            json.WritePropertyName("threshold");
            json.WriteRawValue(CloudWatchOperations.Format(alarm.Threshold), skipInputValidation: true);
            json.WriteStartArray("evaluatedDatapoints");
            for (int i = range.Count - 1; i >= Math.Max(0, range.Count - alarm.EvaluationPeriods); i--)
            {
                json.WriteStartObject();
                json.WriteString("timestamp", JsonDate(starts[i] * 1000));
                if (range[i] is { } point)
                {
                    json.WritePropertyName("sampleCount");
                    json.WriteRawValue(CloudWatchOperations.Format(point.SampleCount), skipInputValidation: true);
                    json.WritePropertyName("value");
                    json.WriteRawValue(CloudWatchOperations.Format(point.Value), skipInputValidation: true);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A time as AWS writes it inside its JSON strings: <c>2014-04-09T18:59:06.419+0000</c>.</summary>
    public static string JsonDate(long millis) =>
        DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture);

    /// <summary>A period's start as the reason texts write it: <c>dd/MM/yy HH:mm:ss</c>, UTC.</summary>
    private static string Stamp(long seconds) =>
        DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("dd/MM/yy HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Words(string comparison) => comparison switch
    {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        _ => "less than or equal to",
    };

    private static string S(int count) => count == 1 ? "" : "s";

    private static string Was(int count) => count == 1 ? "was" : "were";
}
