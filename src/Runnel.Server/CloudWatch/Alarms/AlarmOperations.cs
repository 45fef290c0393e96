using System.Globalization;
using System.Text;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>DescribeAlarms' answer: a page of metric alarms and the token of the next.</summary>
public sealed record AlarmsPage(IReadOnlyList<MetricAlarm> Alarms, string? NextToken);

/// <summary>DescribeAlarmHistory's answer: a page of items and the token of the next.</summary>
public sealed record HistoryPage(IReadOnlyList<AlarmHistoryItem> Items, string? NextToken);

/// <summary>The answer of an operation that answers nothing (PutMetricAlarm, DeleteAlarms, SetAlarmState, …).</summary>
public sealed record NoResult
{
    public static readonly NoResult Instance = new();
}

/// <summary>
/// CloudWatch's alarm operations read from a request of any protocol: the checks (AWS's texts where known,
/// docs/compatibility.md "Alarms"), then <see cref="AlarmService"/>. Thread-safe.
/// </summary>
public sealed class AlarmOperations(AlarmService alarms)
{
    private static readonly string[] Statistics = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
    private static readonly string[] Comparisons = ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];
    private static readonly string[] AnomalyComparisons = ["LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"];
    private static readonly string[] MissingTreatments = ["breaching", "notBreaching", "ignore", "missing"];
    private static readonly string[] HistoryTypes = ["ConfigurationUpdate", "StateUpdate", "Action"];

    public static bool Has(string operation) => operation is "PutMetricAlarm" or "DescribeAlarms" or "DeleteAlarms" or "SetAlarmState"
        or "DescribeAlarmHistory" or "DescribeAlarmsForMetric" or "EnableAlarmActions" or "DisableAlarmActions";

    public object Run(string operation, CloudWatchRequest r) => operation switch
    {
        "PutMetricAlarm" => PutMetricAlarm(r),
        "DescribeAlarms" => DescribeAlarms(r),
        "DescribeAlarmsForMetric" => DescribeAlarmsForMetric(r),
        "DeleteAlarms" => DeleteAlarms(r),
        "SetAlarmState" => SetAlarmState(r),
        "DescribeAlarmHistory" => DescribeAlarmHistory(r),
        "EnableAlarmActions" => SetActionsEnabled(r, true),
        "DisableAlarmActions" => SetActionsEnabled(r, false),
        _ => throw new InvalidOperationException($"{operation} is not served."),
    };

    public NoResult PutMetricAlarm(CloudWatchRequest r)
    {
        string name = AlarmName(r.String("AlarmName"), "alarmName");
        if (r.String("AlarmDescription") is { Length: > 1024 } longDescription)
            throw Length(longDescription, "alarmDescription", 1024);
        if (r.Structures("Metrics").Count > 0)
            throw Validation("Metric math alarms (Metrics) are not served by Runnel yet; give MetricName, Namespace, Statistic and Period.");
        if (r.String("ThresholdMetricId") is not null || r.Structure("EvaluationCriteria") is not null)
            throw Validation("Anomaly detection and PromQL alarms are not served by Runnel; give a static Threshold.");
        string ns = r.String("Namespace") ?? throw Validation("Namespace must not be null");
        string metric = r.String("MetricName") ?? throw Validation("MetricName must not be null");
        string? statistic = r.String("Statistic"), extended = r.String("ExtendedStatistic");
        if (statistic is not null && extended is not null)
            throw Validation("Statistic and ExtendedStatistic cannot both be given: an alarm evaluates one statistic.");
        if (statistic is null && extended is null)
            throw Validation("Statistic must not be null");
        if (statistic is not null && !Statistics.Contains(statistic))
            throw Enum(statistic, "statistic", "[Maximum, SampleCount, Sum, Minimum, Average]");
        if (extended is not null && !Percentiles.IsPercentile(extended))
            throw Validation(Percentiles.IsOtherExtended(extended)
                ? $"The extended statistic {extended} is not served by Runnel; it serves percentiles (p0.0 to p100)."
                : $"The value {extended} for parameter ExtendedStatistic is not matching the expected pattern {Percentiles.Pattern}.");
        int period = Positive(r, "Period") ?? throw Validation("Period must not be null");
        if (period % 60 != 0)
            throw Validation($"The parameter Period must be a multiple of 60 in Runnel, which keeps metrics at 1-minute resolution; not {period}.");
        int evaluationPeriods = Positive(r, "EvaluationPeriods") ?? throw Validation("1 validation error detected: Value null at 'evaluationPeriods' failed to satisfy constraint: Member must not be null");
        int? datapoints = Positive(r, "DatapointsToAlarm");
        if (datapoints > evaluationPeriods)
            throw Validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods");
        if ((long)period * evaluationPeriods > (period >= 3600 ? 604_800 : 86_400))
            throw Validation($"The evaluation period (Period x EvaluationPeriods) must not exceed {(period >= 3600 ? "7 days" : "1 day (7 days with a Period of an hour or more)")}.");
        string thresholdText = r.Integer("Threshold") ?? throw Validation("Threshold must not be null");
        if (!double.TryParse(thresholdText, NumberStyles.Float, CultureInfo.InvariantCulture, out double threshold) || !double.IsFinite(threshold))
            throw Validation($"The value {thresholdText} for parameter Threshold is not a number.");
        string comparison = r.String("ComparisonOperator") ?? throw Validation("1 validation error detected: Value null at 'comparisonOperator' failed to satisfy constraint: Member must not be null");
        if (AnomalyComparisons.Contains(comparison))
            throw Validation($"The comparison {comparison} needs an anomaly detection band, which Runnel does not serve.");
        if (!Comparisons.Contains(comparison))
            throw Enum(comparison, "comparisonOperator", "[GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]");
        string? treat = r.String("TreatMissingData");
        if (treat is not null && !MissingTreatments.Contains(treat))
            throw Validation($"Option {treat} is not supported. Supported options for parameter TreatMissingData are missing, ignore, breaching and notBreaching.");
        string? lowSamples = r.String("EvaluateLowSampleCountPercentile");
        if (lowSamples is not null && lowSamples is not ("evaluate" or "ignore"))
            throw Validation($"Option {lowSamples} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore.");
        if (lowSamples is not null && extended is null)
            throw Validation("EvaluateLowSampleCountPercentile applies to percentile alarms (ExtendedStatistic) only.");
        var dimensions = r.Dimensions("Dimensions");
        if (dimensions.Count > 30)
            throw Validation($"1 validation error detected: Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 30");
        foreach (var (dimension, value) in dimensions)
        {
            if (dimension.Length is 0 or > 255)
                throw Validation("The value of a dimension's Name must be 1 to 255 characters.");
            if (value is null or { Length: 0 or > 1024 })
                throw Validation($"The dimension {dimension} needs a Value of 1 to 1024 characters.");
        }
        var tags = r.Structures("Tags").Select(t => new KeyValuePair<string, string>(t.Required("Key"), t.String("Value") ?? "")).ToList();
        if (tags.Count > 50)
            throw Validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50");
        var alarm = new MetricAlarm
        {
            Name = name,
            Arn = alarms.ArnOf(name),
            Description = r.String("AlarmDescription"),
            ActionsEnabled = r.Boolean("ActionsEnabled") ?? true,
            OkActions = Actions(r, "OKActions", "oKActions"),
            AlarmActions = Actions(r, "AlarmActions", "alarmActions"),
            InsufficientDataActions = Actions(r, "InsufficientDataActions", "insufficientDataActions"),
            Namespace = ns,
            MetricName = metric,
            Dimensions = MetricQueries.Sorted(dimensions.Select(d => new KeyValuePair<string, string>(d.Name, d.Value!))),
            Statistic = statistic,
            ExtendedStatistic = extended,
            EvaluateLowSampleCountPercentile = lowSamples,
            Period = period,
            Unit = r.String("Unit"),
            EvaluationPeriods = evaluationPeriods,
            DatapointsToAlarm = datapoints,
            Threshold = threshold,
            ComparisonOperator = comparison,
            TreatMissingData = treat,
            Tags = tags,
            ConfigurationUpdatedMillis = 0,
            StateUpdatedMillis = 0,
            StateTransitionedMillis = 0,
        };
        alarms.Put(alarm);
        return NoResult.Instance;
    }

    public AlarmsPage DescribeAlarms(CloudWatchRequest r)
    {
        var names = r.Strings("AlarmNames");
        string? prefix = r.String("AlarmNamePrefix");
        if (names.Count > 100)
            throw Validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100");
        if (names.Count > 0 && prefix is not null)
            throw Validation("AlarmNamePrefix and AlarmNames cannot be used together.");
        if (r.String("ChildrenOfAlarmName") is not null || r.String("ParentsOfAlarmName") is not null)
            return new AlarmsPage([], null); // composite alarms are not served: none has children or parents
        string? state = State(r.String("StateValue"), "stateValue");
        string? actionPrefix = r.String("ActionPrefix");
        var types = r.Strings("AlarmTypes");
        bool metricAlarms = types.Count == 0 || types.Contains("MetricAlarm");
        var selected = !metricAlarms ? [] : alarms.All()
            .Where(a => (names.Count == 0 || names.Contains(a.Name)) && (prefix is null || a.Name.StartsWith(prefix, StringComparison.Ordinal))
                && (state is null || a.StateValue == state)
                && (actionPrefix is null || a.OkActions.Concat(a.AlarmActions).Concat(a.InsufficientDataActions).Any(x => x.StartsWith(actionPrefix, StringComparison.Ordinal))))
            .ToList();
        var (page, next) = Page(selected, r, 50);
        return new AlarmsPage(page, next);
    }

    public AlarmsPage DescribeAlarmsForMetric(CloudWatchRequest r)
    {
        string ns = r.Required("Namespace"), metric = r.Required("MetricName");
        string? statistic = r.String("Statistic"), extended = r.String("ExtendedStatistic"), unit = r.String("Unit");
        int? period = Positive(r, "Period");
        var dimensions = MetricQueries.Sorted(r.Dimensions("Dimensions").Select(d => new KeyValuePair<string, string>(d.Name, d.Value ?? "")));
        return new AlarmsPage(alarms.All().Where(a => a.Namespace == ns && a.MetricName == metric && (dimensions.Count == 0 || a.Dimensions.SequenceEqual(dimensions))
            && (statistic is null || a.Statistic == statistic) && (extended is null || a.ExtendedStatistic == extended) && (period is null || a.Period == period) && (unit is null || a.Unit == unit)).ToList(), null);
    }

    public NoResult DeleteAlarms(CloudWatchRequest r)
    {
        var names = r.Strings("AlarmNames");
        if (names.Count > 100)
            throw Validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100");
        if (alarms.Delete(names).Count > 0)
            throw new CloudWatchException("ResourceNotFound", "", 404);
        return NoResult.Instance;
    }

    public NoResult SetAlarmState(CloudWatchRequest r)
    {
        string name = AlarmName(r.String("AlarmName"), "alarmName");
        string state = State(r.String("StateValue"), "stateValue") ?? throw Validation("1 validation error detected: Value null at 'stateValue' failed to satisfy constraint: Member must not be null");
        string reason = r.String("StateReason") ?? throw Validation("1 validation error detected: Value null at 'stateReason' failed to satisfy constraint: Member must not be null");
        if (reason.Length > 1023)
            throw Length(reason, "stateReason", 1023);
        string? data = r.String("StateReasonData");
        if (data is not null)
        {
            if (data.Length > 4000)
                throw Length(data, "stateReasonData", 4000);
            try
            {
                using var _ = System.Text.Json.JsonDocument.Parse(data);
            }
            catch (System.Text.Json.JsonException)
            {
                throw new CloudWatchException("InvalidFormat", "Data was not syntactically valid JSON");
            }
        }
        if (!alarms.SetState(name, state, reason, data))
            throw new CloudWatchException("ResourceNotFound", "", 404);
        return NoResult.Instance;
    }

    public HistoryPage DescribeAlarmHistory(CloudWatchRequest r)
    {
        string? name = r.String("AlarmName");
        string? type = r.String("HistoryItemType");
        if (type is not null && !HistoryTypes.Contains(type) && type is not ("AlarmContributorStateUpdate" or "AlarmContributorAction"))
            throw Enum(type, "historyItemType", "[ConfigurationUpdate, StateUpdate, Action, AlarmContributorStateUpdate, AlarmContributorAction]");
        long? from = r.Time("StartDate"), to = r.Time("EndDate");
        var types = r.Strings("AlarmTypes");
        bool ascending = r.String("ScanBy") switch
        {
            null or "TimestampDescending" => false,
            "TimestampAscending" => true,
            var other => throw Enum(other, "scanBy", "[TimestampDescending, TimestampAscending]"),
        };
        var items = (types.Count == 0 || types.Contains("MetricAlarm") ? alarms.History(name) : [])
            .Where(i => (type is null || i.Type == type) && (from is null || i.TimestampMillis >= from * 1000) && (to is null || i.TimestampMillis <= to * 1000));
        var ordered = (ascending ? items : items.Reverse()).ToList();
        var (page, next) = Page(ordered, r, 100);
        return new HistoryPage(page, next);
    }

    public NoResult SetActionsEnabled(CloudWatchRequest r, bool enabled)
    {
        var names = r.Strings("AlarmNames");
        if (names.Count > 100)
            throw Validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100");
        foreach (string name in names)
            alarms.Catalog.Update(name, a => a.ActionsEnabled == enabled ? a : a with { ActionsEnabled = enabled });
        return NoResult.Instance;
    }

    /// <summary>A page of <paramref name="all"/> from the request's NextToken (an offset, opaque to clients), MaxRecords long.</summary>
    private static (List<T> Page, string? Next) Page<T>(IReadOnlyList<T> all, CloudWatchRequest r, int defaultSize)
    {
        int size = Positive(r, "MaxRecords") ?? defaultSize;
        if (size > 100)
            throw Validation($"1 validation error detected: Value '{size}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100");
        int from = 0;
        if (r.String("NextToken") is { } token)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            }
            catch (FormatException)
            {
                decoded = "";
            }
            if (!decoded.StartsWith("alarms:", StringComparison.Ordinal) || !int.TryParse(decoded.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out from) || from > all.Count)
                throw new CloudWatchException("InvalidNextToken", "The service cannot understand the token.");
        }
        int next = from + size;
        return (all.Skip(from).Take(size).ToList(), next < all.Count ? Convert.ToBase64String(Encoding.UTF8.GetBytes("alarms:" + next.ToString(CultureInfo.InvariantCulture))) : null);
    }

    private static string AlarmName(string? name, string member)
    {
        if (name is null)
            throw Validation($"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null");
        if (name.Length == 0)
            throw Validation($"1 validation error detected: Value '' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1");
        if (name.Length > 255)
            throw Length(name, member, 255);
        if (name.Any(char.IsControl))
            throw Validation($"The alarm name {name} holds a control character.");
        if (Encoding.UTF8.GetByteCount(name) > Runnel.Storage.Metadata.MetadataDocument.MaxKeyBytes)
            throw Validation($"Runnel keeps alarm names of at most {Runnel.Storage.Metadata.MetadataDocument.MaxKeyBytes} UTF-8 bytes; this one is longer.");
        return name;
    }

    private static string? State(string? state, string member) =>
        state is null || AlarmStates.All.Contains(state) ? state : throw Enum(state, member, "[INSUFFICIENT_DATA, ALARM, OK]");

    private static IReadOnlyList<string> Actions(CloudWatchRequest r, string name, string member)
    {
        var actions = r.Strings(name);
        if (actions.Count > 5)
            throw Validation($"1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to 5");
        foreach (string action in actions)
            if (action.Length is 0 or > 1024 || !action.StartsWith("arn:", StringComparison.Ordinal))
                throw Validation($"Invalid arn syntax: {action}");
        return actions;
    }

    private static int? Positive(CloudWatchRequest r, string name) => r.Integer(name) switch
    {
        null => null,
        var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1 => value,
        var text => throw Validation($"1 validation error detected: Value '{text}' at '{char.ToLowerInvariant(name[0]) + name[1..]}' failed to satisfy constraint: Member must have value greater than or equal to 1"),
    };

    private static CloudWatchException Validation(string message) => new("ValidationError", message);

    private static CloudWatchException Enum(string value, string member, string set) =>
        Validation($"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: {set}");

    private static CloudWatchException Length(string value, string member, int max) =>
        Validation($"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}");
}
