using Runnel.Server.CloudWatch;

namespace Runnel.Server.Tests;

/// <summary>
/// Metric math as CloudWatch defines it (docs/adr/0003-observability-facts.md, 3.1): arithmetic with a missing value as
/// 0 and a division by zero dropping the point, functions of one series giving a number and of an array a series,
/// RATE and DIFF against the point before, FILL over the range's periods, and unknown names refused.
/// </summary>
public sealed class MetricMathTests
{
    private static readonly long[] Grid = [0, 60, 120, 180];

    private static MathSeries Series(string label, params (long T, double V)[] points) =>
        new(label, new SortedDictionary<long, double>(points.ToDictionary(p => p.T, p => p.V)));

    private static readonly Dictionary<string, MathSeries> Queries = new()
    {
        ["count"] = Series("throttled", (0, 2), (60, 0), (120, 5)),
        ["total"] = Series("total", (0, 10), (60, 0), (180, 20)),
    };

    private static IReadOnlyList<MathSeries> Evaluate(string expression) =>
        new MetricMath(id => Queries.GetValueOrDefault(id), Queries.Select(q => (q.Key, q.Value)).ToList(), Grid, 60).Evaluate(expression, "e1");

    private static IEnumerable<(long, double)> Points(MathSeries series) => series.Points.Select(p => (p.Key, p.Value));

    [Fact]
    public void Arithmetic_counts_a_missing_value_as_zero_and_drops_a_division_by_zero()
    {
        // AWS's CDK dashboards: ( count / total ) * 100.
        var percent = Assert.Single(Evaluate("( count / total ) * 100"));
        Assert.Equal("e1", percent.Label);
        Assert.Equal([(0L, 20.0), (180L, 0.0)], Points(percent)); // 60: 0/0 dropped; 120: 5/0 dropped; 180: 0/20
        Assert.Equal([(0L, 12.0), (60L, 0.0), (120L, 5.0), (180L, 20.0)], Points(Evaluate("count + total")[0]));
        Assert.Equal([(0L, -2.0), (60L, 0.0), (120L, -5.0)], Points(Evaluate("-count")[0]));
        Assert.Equal([(0L, 4.0), (60L, 0.0), (120L, 25.0)], Points(Evaluate("count ^ 2")[0]));
        Assert.Equal([(0L, 1.0), (60L, 0.0), (120L, 0.0), (180L, 0.0)], Points(Evaluate("count > 1 AND total >= 0")[0])); // 120: total has no value, 0
    }

    [Fact]
    public void Functions_of_a_series_give_a_number_and_of_an_array_a_series()
    {
        Assert.Equal([(0L, 7.0), (60L, 7.0), (120L, 7.0), (180L, 7.0)], Points(Evaluate("SUM(count)")[0])); // a number at every period
        Assert.Equal([(0L, 12.0), (60L, 0.0), (120L, 5.0), (180L, 20.0)], Points(Evaluate("SUM([count, total])")[0]));
        Assert.Equal([(0L, 10.0), (60L, 0.0), (120L, 5.0), (180L, 20.0)], Points(Evaluate("MAX(METRICS())")[0]));
        Assert.Equal(["throttled"], Evaluate("METRICS(\"cou\")").Select(s => s.Label));
        Assert.Equal(2, Evaluate("METRICS()").Count);
        Assert.Equal([(0L, 2.0), (60L, 2.0), (120L, 2.0), (180L, 2.0)], Points(Evaluate("METRIC_COUNT(METRICS())")[0]));
        Assert.Equal([(0L, 60.0), (60L, 60.0), (120L, 60.0), (180L, 60.0)], Points(Evaluate("PERIOD(count)")[0]));
    }

    [Fact]
    public void Rate_diff_fill_if_and_running_sum_follow_the_series()
    {
        Assert.Equal([(60L, -2.0), (120L, 5.0)], Points(Evaluate("DIFF(count)")[0]));
        Assert.Equal([(60L, -2.0 / 60), (120L, 5.0 / 60)], Points(Evaluate("RATE(count)")[0]));
        Assert.Equal([(0L, 2.0), (60L, 2.0), (120L, 7.0)], Points(Evaluate("RUNNING_SUM(count)")[0]));
        Assert.Equal([(0L, 2.0), (60L, 0.0), (120L, 5.0), (180L, 0.0)], Points(Evaluate("FILL(count, 0)")[0]));
        Assert.Equal([(0L, 2.0), (60L, 0.0), (120L, 5.0), (180L, 5.0)], Points(Evaluate("FILL(count, REPEAT)")[0]));
        Assert.Equal([(0L, 10.0), (60L, 0.0), (120L, 10.0), (180L, 20.0)], Points(Evaluate("FILL(total, LINEAR)")[0]));
        Assert.Equal([(0L, 10.0)], Points(Evaluate("IF(count > 1, total)")[0])); // 120: total has no value there
        Assert.Equal([(0L, 0.0), (60L, 0.0), (120L, 1.0)], Points(Evaluate("IF(count == 5, 1, 0)")[0]));
    }

    [Theory]
    [InlineData("nope + 1", "Error in expression: Unrecognized identifier nope.")]
    [InlineData("SEARCH('x', 'Sum', 60)", "Error in expression: unexpected ''' at position 8.")]
    [InlineData("ANOMALY_DETECTION_BAND(count)", "Error in expression: the function ANOMALY_DETECTION_BAND is not served by Runnel")]
    [InlineData("(count", "Error in expression: expected ')' at the end.")]
    public void Bad_expressions_are_validation_errors(string expression, string message)
    {
        var error = Assert.Throws<CloudWatchException>(() => Evaluate(expression));
        Assert.Equal("ValidationError", error.Code);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
