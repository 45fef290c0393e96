using System.Globalization;
using System.Text;
using Runnel.Storage.Metrics;

namespace Runnel.Server.CloudWatch;

/// <summary>GetMetricStatistics' answer: the label, the statistics asked for, and the datapoints.</summary>
public sealed record StatisticsResult(string Label, IReadOnlyList<string> Statistics, IReadOnlyList<Datapoint> Datapoints);

/// <summary>ListMetrics' answer: a page of metrics and the token of the next, if any.</summary>
public sealed record ListResult(IReadOnlyList<MetricSeries> Metrics, string? NextToken);

/// <summary>
/// The CloudWatch operations Runnel serves, read from a request of any protocol and answered as typed results that
/// each protocol's endpoint writes: the checks (with AWS's texts where known, docs/compatibility.md "Metrics"), then
/// <see cref="MetricQueries"/>. Thread-safe.
/// </summary>
public sealed class CloudWatchOperations(MetricQueries queries)
{
    private static readonly string[] BasicStatistics = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

    public bool Has(string operation) => operation is "GetMetricStatistics" or "ListMetrics";

    public object Run(string operation, CloudWatchRequest request) => operation switch
    {
        "GetMetricStatistics" => GetMetricStatistics(request),
        "ListMetrics" => ListMetrics(request),
        _ => throw new InvalidOperationException($"{operation} is not served."),
    };

    public StatisticsResult GetMetricStatistics(CloudWatchRequest r)
    {
        string ns = r.Required("Namespace"), name = r.Required("MetricName");
        long start = r.RequiredTime("StartTime"), end = r.RequiredTime("EndTime");
        string periodText = r.Integer("Period") ?? throw CloudWatchException.Missing("Period");
        int period = int.TryParse(periodText, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed > 0
            ? parsed : throw CloudWatchException.InvalidValue("The parameter Period must be a positive integer.");
        var statistics = r.Strings("Statistics").Distinct().ToList();
        if (r.Strings("ExtendedStatistics").Count > 0)
            throw CloudWatchException.InvalidValue("ExtendedStatistics (percentiles) are not served: Runnel keeps each minute's statistic set, not its samples.");
        if (statistics.Count == 0)
            throw CloudWatchException.Combination("Must specify either Statistics or ExtendedStatistics.");
        foreach (string statistic in statistics)
            if (!BasicStatistics.Contains(statistic))
                throw CloudWatchException.InvalidValue($"The parameter Statistics contains the invalid value {statistic}; valid values are SampleCount, Average, Sum, Minimum, Maximum.");
        var dimensions = r.Dimensions("Dimensions").Select(d => new KeyValuePair<string, string>(d.Name, d.Value ?? "")).ToList();
        return new StatisticsResult(name, statistics, queries.Statistics(ns, name, dimensions, start, end, period, r.String("Unit")));
    }

    public ListResult ListMetrics(CloudWatchRequest r)
    {
        string? recently = r.String("RecentlyActive");
        if (recently is not (null or "PT3H"))
            throw CloudWatchException.InvalidValue($"The parameter RecentlyActive must be PT3H, not {recently}.");
        var series = queries.List(r.String("Namespace"), r.String("MetricName"), r.Dimensions("Dimensions"), recently is not null);
        int from = 0;
        if (r.String("NextToken") is { } token && !(int.TryParse(Decode(token), NumberStyles.None, CultureInfo.InvariantCulture, out from) && from <= series.Count))
            throw CloudWatchException.InvalidValue("Request parameter NextToken is invalid");
        int next = from + MetricQueries.ListPage;
        return new ListResult(series.Skip(from).Take(MetricQueries.ListPage).ToList(),
            next < series.Count ? Convert.ToBase64String(Encoding.UTF8.GetBytes(next.ToString(CultureInfo.InvariantCulture))) : null);
    }

    /// <summary>A statistic of a datapoint by its API name.</summary>
    public static double Value(StatisticSet s, string statistic) => statistic switch
    {
        "SampleCount" => s.SampleCount,
        "Average" => s.SampleCount == 0 ? 0 : s.Sum / s.SampleCount,
        "Sum" => s.Sum,
        "Minimum" => s.Minimum,
        _ => s.Maximum,
    };

    /// <summary>A double as AWS writes one, in XML and JSON alike (Java's form: <c>42.0</c>, <c>0.5</c>).</summary>
    public static string Format(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? value.ToString("0.0", CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Decode(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            return "";
        }
    }
}
