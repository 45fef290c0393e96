using System.Globalization;
using System.Text.RegularExpressions;

namespace Runnel.Server.CloudWatch;

/// <summary>
/// CloudWatch's percentile statistics as the API names them (ExtendedStatistics, ExtendedStatistic, a MetricStat's
/// Stat): <c>p</c> and a percentage from 0 to 100 with at most two decimals (<c>p99</c>, <c>p99.9</c>, <c>p0.0</c>,
/// <c>p100</c>). Read from each minute's distribution (docs/compatibility.md, "Percentiles"). Thread-safe: stateless.
/// </summary>
public static partial class Percentiles
{
    /// <summary>The model's pattern of an extended statistic, as AWS's messages quote it.</summary>
    public const string Pattern = @"p(\d{1,2}(\.\d{0,2})?|100)";

    /// <summary>Most ExtendedStatistics one GetMetricStatistics may ask for (the model's list limit).</summary>
    public const int MaxExtendedStatistics = 10;

    [GeneratedRegex("^" + Pattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex Percentile();

    /// <summary>Whether a statistic's name is a percentile's.</summary>
    public static bool IsPercentile(string statistic) => Percentile().IsMatch(statistic);

    /// <summary>Whether a statistic's name is one of CloudWatch's other extended statistics (trimmed means and counts,
    /// winsorized means, IQM, percentile ranks), which Runnel does not serve.</summary>
    public static bool IsOtherExtended(string statistic) => Other().IsMatch(statistic);

    [GeneratedRegex(@"^((tm|tc|ts|wm)\d{1,2}(\.\d{0,2})?|IQM|(PR|TM|TC|TS|WM)\(.*\))$", RegexOptions.CultureInvariant)]
    private static partial Regex Other();

    /// <summary>The percentage of a percentile's name (<c>p99.9</c>: 99.9).</summary>
    public static double Parse(string statistic) => double.Parse(statistic.AsSpan(1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    /// <summary>
    /// The fewest samples a period needs for the percentile to mean something, below which an alarm with
    /// EvaluateLowSampleCountPercentile <c>ignore</c> keeps its state: 10/(1-p) from p50 up, 10/p below (AWS's rule);
    /// none for p0 and p100 (the minimum and the maximum).
    /// </summary>
    public static double SignificantSamples(double percentage)
    {
        double p = percentage / 100;
        return p is <= 0 or >= 1 ? 0 : p >= 0.5 ? 10 / (1 - p) : 10 / p;
    }
}
