using Runnel.Server.CloudWatch.Alarms;

namespace Runnel.Server.Tests;

/// <summary>
/// CloudWatch's evaluation of M out of N datapoints with each TreatMissingData, checked against the tables AWS
/// publishes (docs/adr/0003-observability-facts.md, 5.1): `0` a datapoint under the threshold, `X` one over it,
/// `-` a period without data, oldest first, over an evaluation range of N + 2 periods.
/// </summary>
public sealed class AlarmEvaluationTests
{
    private const long End = 1_800_000_000 / 60 * 60;

    private static MetricAlarm Alarm(int n, int? m, string? treat, string state = AlarmStates.Ok) => new()
    {
        Name = "a",
        Arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a",
        Namespace = "AWS/Kinesis",
        MetricName = "IncomingRecords",
        Statistic = "Sum",
        Period = 60,
        EvaluationPeriods = n,
        DatapointsToAlarm = m,
        Threshold = 5,
        ComparisonOperator = "GreaterThanThreshold",
        TreatMissingData = treat,
        ConfigurationUpdatedMillis = 0,
        StateValue = state,
        StateUpdatedMillis = 0,
        StateTransitionedMillis = 0,
    };

    private static AlarmDecision? Run(MetricAlarm alarm, string points)
    {
        var marks = points.Split(' ');
        Assert.Equal(AlarmEvaluation.RangeOf(alarm.EvaluationPeriods), marks.Length);
        var starts = Enumerable.Range(0, marks.Length).Select(i => End - ((marks.Length - i) * 60L)).ToList();
        var range = marks.Select((mark, i) => mark switch
        {
            "0" => new AlarmDatapoint(starts[i], 1, 1),
            "X" => new AlarmDatapoint(starts[i], 9, 1),
            _ => (AlarmDatapoint?)null,
        }).ToList();
        return AlarmEvaluation.Evaluate(alarm, range, starts, End * 1000);
    }

    // AWS's table for N = M = 3: MISSING, IGNORE (null: the state is kept), BREACHING, NOT BREACHING.
    [Theory]
    [InlineData("0 - X - X", "OK", "OK", "OK", "OK")]
    [InlineData("0 - - - -", "OK", "OK", "OK", "OK")]
    [InlineData("- - - - -", "INSUFFICIENT_DATA", null, "ALARM", "OK")]
    [InlineData("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM")]
    [InlineData("- - X - -", "ALARM", null, "ALARM", "OK")]
    public void Three_out_of_three_follows_AWSs_table(string points, string? missing, string? ignore, string? breaching, string? notBreaching)
    {
        Assert.Equal(missing, Run(Alarm(3, 3, "missing"), points)?.State);
        Assert.Equal(missing, Run(Alarm(3, 3, null), points)?.State); // missing is the default
        Assert.Equal(ignore, Run(Alarm(3, 3, "ignore"), points)?.State);
        Assert.Equal(breaching, Run(Alarm(3, 3, "breaching"), points)?.State);
        Assert.Equal(notBreaching, Run(Alarm(3, 3, "notBreaching"), points)?.State);
    }

    // AWS's table for M = 2, N = 3.
    [Theory]
    [InlineData("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM")]
    [InlineData("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM")]
    [InlineData("0 - X - -", "OK", "OK", "ALARM", "OK")]
    [InlineData("- - - - 0", "OK", "OK", "ALARM", "OK")]
    [InlineData("- - - X -", "ALARM", null, "ALARM", "OK")]
    public void Two_out_of_three_follows_AWSs_table(string points, string? missing, string? ignore, string? breaching, string? notBreaching)
    {
        Assert.Equal(missing, Run(Alarm(3, 2, "missing"), points)?.State);
        Assert.Equal(ignore, Run(Alarm(3, 2, "ignore"), points)?.State);
        Assert.Equal(breaching, Run(Alarm(3, 2, "breaching"), points)?.State);
        Assert.Equal(notBreaching, Run(Alarm(3, 2, "notBreaching"), points)?.State);
    }

    [Theory]
    [InlineData("- - - - X")] // the newest breaching datapoint alone is too young for 3 of 3
    [InlineData("- - - X -")]
    public void A_breaching_datapoint_younger_than_M_periods_does_not_alarm_early(string points) =>
        Assert.Equal("OK", Run(Alarm(3, 3, "missing"), points)?.State);

    [Fact]
    public void Reasons_name_the_datapoints_newest_first_in_AWSs_words()
    {
        var alarm = Alarm(3, 2, null);
        var decision = Run(alarm, "0 0 X 0 X")!;
        string newest = DateTimeOffset.FromUnixTimeSeconds(End - 60).UtcDateTime.ToString("dd/MM/yy HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        string older = DateTimeOffset.FromUnixTimeSeconds(End - 180).UtcDateTime.ToString("dd/MM/yy HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"Threshold Crossed: 2 out of the last 3 datapoints [9.0 ({newest}), 9.0 ({older})] were greater than the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition).", decision.Reason);
        using var data = System.Text.Json.JsonDocument.Parse(decision.ReasonData!);
        Assert.Equal("1.0", data.RootElement.GetProperty("version").GetString());
        Assert.Equal("Sum", data.RootElement.GetProperty("statistic").GetString());
        Assert.Equal(3, data.RootElement.GetProperty("evaluatedDatapoints").GetArrayLength());
        Assert.EndsWith("+0000", data.RootElement.GetProperty("queryDate").GetString(), StringComparison.Ordinal);

        var ok = Run(Alarm(1, null, null, AlarmStates.Alarm), "0 0 0")!;
        Assert.Equal("OK", ok.State);
        Assert.StartsWith("Threshold Crossed: 1 datapoint [1.0 (", ok.Reason, StringComparison.Ordinal);
        Assert.EndsWith(")] was not greater than the threshold (5.0).", ok.Reason, StringComparison.Ordinal);
        Assert.Equal("Insufficient Data: 1 datapoint was unknown.", Run(Alarm(1, null, null), "- - -")!.Reason);
        Assert.Equal("Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].",
            Run(Alarm(1, null, "breaching"), "- - -")!.Reason);
    }

    [Theory]
    [InlineData("p99", 999, null)] // 10/(1-0.99) = 1,000 samples needed: kept
    [InlineData("p99", 1000, "ALARM")]
    [InlineData("p50", 19, null)] // 10/(1-0.5) = 20
    [InlineData("p10", 99, null)] // below p50: 10/0.1 = 100
    [InlineData("p10", 100, "ALARM")]
    [InlineData("p100", 1, "ALARM")] // the maximum: any count will do
    public void A_percentile_alarm_that_ignores_low_sample_counts_keeps_its_state_until_a_period_has_enough(string percentile, double samples, string? state)
    {
        var alarm = Alarm(1, null, null) with { Statistic = null, ExtendedStatistic = percentile, EvaluateLowSampleCountPercentile = "ignore" };
        var starts = Enumerable.Range(0, 3).Select(i => End - ((3 - i) * 60L)).ToList();
        AlarmDatapoint?[] range = [null, null, new AlarmDatapoint(starts[2], 9, samples)];
        Assert.Equal(state, AlarmEvaluation.Evaluate(alarm, range, starts, End * 1000)?.State);
        Assert.Equal("ALARM", AlarmEvaluation.Evaluate(alarm with { EvaluateLowSampleCountPercentile = "evaluate" }, range, starts, End * 1000)?.State);
    }
}
