namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>
/// A metric alarm as PutMetricAlarm defines it (one metric, a basic statistic or a percentile, a static threshold) and the state it
/// is in. Times are Unix milliseconds. Immutable: a change is a new instance, stored with a compare-and-set on
/// <see cref="Revision"/>.
/// </summary>
public sealed record MetricAlarm
{
    public required string Name { get; init; }
    public required string Arn { get; init; }
    public string? Description { get; init; }
    public bool ActionsEnabled { get; init; } = true;
    public IReadOnlyList<string> OkActions { get; init; } = [];
    public IReadOnlyList<string> AlarmActions { get; init; } = [];
    public IReadOnlyList<string> InsufficientDataActions { get; init; } = [];
    public required string Namespace { get; init; }
    public required string MetricName { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Dimensions { get; init; } = [];
    /// <summary>The basic statistic; null when the alarm is on a percentile (<see cref="ExtendedStatistic"/>).</summary>
    public string? Statistic { get; init; }

    /// <summary>The percentile (<c>p99</c>); null when the alarm is on a basic statistic.</summary>
    public string? ExtendedStatistic { get; init; }

    /// <summary>A percentile alarm's EvaluateLowSampleCountPercentile, as given: <c>evaluate</c> (null means it too) or <c>ignore</c>.</summary>
    public string? EvaluateLowSampleCountPercentile { get; init; }

    /// <summary>What the alarm evaluates: its statistic or its percentile, as the API names it.</summary>
    public string StatisticName => ExtendedStatistic ?? Statistic ?? "";
    public required int Period { get; init; }
    public string? Unit { get; init; }
    public required int EvaluationPeriods { get; init; }
    public int? DatapointsToAlarm { get; init; }
    public required double Threshold { get; init; }
    public required string ComparisonOperator { get; init; }
    public string? TreatMissingData { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; init; } = [];
    public required long ConfigurationUpdatedMillis { get; init; }

    public string StateValue { get; init; } = AlarmStates.InsufficientData;
    public string StateReason { get; init; } = "Unchecked: Initial alarm creation";
    public string? StateReasonData { get; init; }
    public required long StateUpdatedMillis { get; init; }
    public required long StateTransitionedMillis { get; init; }

    /// <summary>The metadata document's revision this was read at (0: not stored yet).</summary>
    public ulong Revision { get; init; }

    /// <summary>M of "M out of N": DatapointsToAlarm, else EvaluationPeriods.</summary>
    public int Required => DatapointsToAlarm ?? EvaluationPeriods;

    /// <summary>The actions of a state.</summary>
    public IReadOnlyList<string> ActionsOf(string state) => state switch
    {
        AlarmStates.Alarm => AlarmActions,
        AlarmStates.Ok => OkActions,
        _ => InsufficientDataActions,
    };

    /// <summary>Whether the configuration (not the state) is the same as another's.</summary>
    public bool SameConfiguration(MetricAlarm other) =>
        Description == other.Description && ActionsEnabled == other.ActionsEnabled && OkActions.SequenceEqual(other.OkActions)
        && AlarmActions.SequenceEqual(other.AlarmActions) && InsufficientDataActions.SequenceEqual(other.InsufficientDataActions)
        && Namespace == other.Namespace && MetricName == other.MetricName && Dimensions.SequenceEqual(other.Dimensions)
        && Statistic == other.Statistic && ExtendedStatistic == other.ExtendedStatistic && EvaluateLowSampleCountPercentile == other.EvaluateLowSampleCountPercentile
        && Period == other.Period && Unit == other.Unit && EvaluationPeriods == other.EvaluationPeriods
        && DatapointsToAlarm == other.DatapointsToAlarm && Threshold.Equals(other.Threshold) && ComparisonOperator == other.ComparisonOperator
        && TreatMissingData == other.TreatMissingData;
}

/// <summary>The three states of an alarm, as the API spells them.</summary>
public static class AlarmStates
{
    public const string Ok = "OK";
    public const string Alarm = "ALARM";
    public const string InsufficientData = "INSUFFICIENT_DATA";

    public static readonly string[] All = [InsufficientData, Alarm, Ok];
}

/// <summary>One entry of DescribeAlarmHistory. <see cref="Data"/> is the JSON text AWS puts in HistoryData.</summary>
public sealed record AlarmHistoryItem(string AlarmName, long TimestampMillis, string Type, string Summary, string Data);
