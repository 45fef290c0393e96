using System.Globalization;
using System.Text;
using Runnel.Storage.Metrics;

namespace Runnel.Server.CloudWatch;

/// <summary>GetMetricStatistics' answer: the label, the statistics and the percentiles (<c>p99</c>) asked for, and the datapoints.</summary>
public sealed record StatisticsResult(string Label, IReadOnlyList<string> Statistics, IReadOnlyList<Datapoint> Datapoints)
{
    /// <summary>The ExtendedStatistics asked for, as asked (each datapoint's map names them so).</summary>
    public IReadOnlyList<string> ExtendedStatistics { get; init; } = [];

    /// <summary>The percentiles asked for that a datapoint can tell, in the order asked (one that cannot be told is left
    /// out, as AWS leaves out what it cannot compute): each protocol's ExtendedStatistics map.</summary>
    public List<(string Name, double Value)> PercentilesOf(Datapoint point) =>
        ExtendedStatistics.Select(p => (Name: p, Value: CloudWatchOperations.Statistic(point.Statistics, p)))
            .Where(p => p.Value is not null).Select(p => (p.Name, p.Value!.Value)).ToList();
}

/// <summary>One result of GetMetricData: a query's id and label and its values by timestamp, in the order asked for.</summary>
public sealed record MetricDataResult(string Id, string Label, IReadOnlyList<long> Timestamps, IReadOnlyList<double> Values);

/// <summary>GetMetricData's answer.</summary>
public sealed record MetricDataAnswer(IReadOnlyList<MetricDataResult> Results);

/// <summary>ListMetrics' answer: a page of metrics and the token of the next, if any.</summary>
public sealed record ListResult(IReadOnlyList<MetricSeries> Metrics, string? NextToken);

/// <summary>
/// The CloudWatch operations Runnel serves, read from a request of any protocol and answered as typed results that
/// each protocol's endpoint writes: the checks (with AWS's texts where known, docs/compatibility.md "Metrics"), then
/// <see cref="MetricQueries"/>. Thread-safe.
/// </summary>
public sealed class CloudWatchOperations(MetricQueries queries, Alarms.AlarmOperations? alarms = null)
{
    private static readonly string[] BasicStatistics = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

    public bool Has(string operation) => operation is "GetMetricStatistics" or "ListMetrics" or "GetMetricData"
        || (alarms is not null && Alarms.AlarmOperations.Has(operation));

    /// <summary>What a verified key may do (<c>--auth sigv4</c>); null: anything.</summary>
    public CloudWatchAccess? Access { get; init; }

    /// <summary>Waits until this node holds every change other nodes made before (a cluster), as Kinesis's control plane
    /// does behind a load balancer: an alarm deleted through one node is gone through the next. Null on one node.</summary>
    public Action? CatchUp { get; init; }

    /// <summary>Runs an operation for <paramref name="credential"/> (null when signatures are not verified), once IAM allows it.</summary>
    public object Run(string operation, CloudWatchRequest request, Auth.Credential? credential)
    {
        if (credential is not null)
            Access?.Authorize(credential, operation, request);
        if (alarms is not null && Alarms.AlarmOperations.Has(operation))
            CatchUp?.Invoke();
        return Run(operation, request);
    }

    public object Run(string operation, CloudWatchRequest request) => operation switch
    {
        _ when alarms is not null && Alarms.AlarmOperations.Has(operation) => alarms.Run(operation, request),
        "GetMetricStatistics" => GetMetricStatistics(request),
        "GetMetricData" => GetMetricData(request),
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
        var extended = r.Strings("ExtendedStatistics");
        if (statistics.Count == 0 && extended.Count == 0)
            throw CloudWatchException.Combination("Must specify either Statistics or ExtendedStatistics.");
        foreach (string statistic in statistics)
            if (!BasicStatistics.Contains(statistic))
                throw CloudWatchException.InvalidValue($"The parameter Statistics contains the invalid value {statistic}; valid values are SampleCount, Average, Sum, Minimum, Maximum.");
        if (extended.Count > Percentiles.MaxExtendedStatistics)
            throw CloudWatchException.InvalidValue($"The collection ExtendedStatistics must not have more than {Percentiles.MaxExtendedStatistics} members.");
        for (int i = 0; i < extended.Count; i++)
            if (!Percentiles.IsPercentile(extended[i]))
                throw CloudWatchException.InvalidValue($"The value {extended[i]} for parameter ExtendedStatistics.member.{i + 1} is not matching the expected pattern {Percentiles.Pattern}.");
        var dimensions = r.Dimensions("Dimensions").Select(d => new KeyValuePair<string, string>(d.Name, d.Value ?? "")).ToList();
        return new StatisticsResult(name, statistics, queries.Statistics(ns, name, dimensions, start, end, period, r.String("Unit")))
        {
            ExtendedStatistics = extended.Distinct(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>One MetricStat query of GetMetricData, as read.</summary>
    private abstract record Query(string Id, string? Label, bool ReturnData);

    private sealed record DataQuery(string Id, string? Label, bool ReturnData, string Namespace, string Name,
        IReadOnlyList<KeyValuePair<string, string>> Dimensions, int Period, string Stat, string? Unit) : Query(Id, Label, ReturnData)
    {
        public bool SameMetric(DataQuery other) =>
            Namespace == other.Namespace && Name == other.Name && Dimensions.SequenceEqual(other.Dimensions);
    }

    /// <summary>A query of GetMetricData with a metric-math Expression instead of a MetricStat.</summary>
    private sealed record ExpressionQuery(string Id, string? Label, bool ReturnData, string Expression, int? Period) : Query(Id, Label, ReturnData);

    /// <summary>
    /// GetMetricData: MetricStat queries (a metric, a period, a basic statistic or a percentile, a unit), each query's
    /// values per period with samples (a percentile only where it can be told), units merged unless one is named; and
    /// Expression queries, metric math over the others (<see cref="MetricMath"/>), which may name each other. Newest
    /// first unless ScanBy says TimestampAscending.
    /// </summary>
    public MetricDataAnswer GetMetricData(CloudWatchRequest r)
    {
        long start = r.RequiredTime("StartTime"), end = r.RequiredTime("EndTime");
        if (start == end)
            throw new CloudWatchException("ValidationError", "The parameter StartTime must not equal parameter EndTime.");
        var members = r.Structures("MetricDataQueries");
        if (members.Count == 0)
            throw CloudWatchException.Missing("MetricDataQueries");
        if (members.Count > 500)
            throw CloudWatchException.InvalidValue("The collection MetricDataQueries must not have more than 500 members.");
        bool ascending = r.String("ScanBy") switch
        {
            null or "TimestampDescending" => false,
            "TimestampAscending" => true,
            var other => throw CloudWatchException.InvalidValue($"The parameter ScanBy must be TimestampDescending or TimestampAscending, not {other}."),
        };
        var requested = members.Select(Read).ToList();
        var ids = requested.Select(q => q.Id).ToList();
        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count)
            throw new CloudWatchException("ValidationError", "The values for parameter Id in MetricDataQueries are not unique.");
        var stats = requested.OfType<DataQuery>().ToList();
        var computed = new Dictionary<string, IReadOnlyList<MathSeries>>(StringComparer.Ordinal);
        var computing = new HashSet<string>(StringComparer.Ordinal);

        IReadOnlyList<MathSeries> Compute(Query query)
        {
            string id = query.Id;
            if (computed.TryGetValue(id, out var done))
                return done;
            if (!computing.Add(id))
                throw new CloudWatchException("ValidationError", $"Error in expression {id}: it refers to itself, through other queries or directly.");
            IReadOnlyList<MathSeries> result;
            if (query is DataQuery q)
            {
                var points = queries.Statistics(q.Namespace, q.Name, q.Dimensions, start, end, q.Period, q.Unit, MetricQueries.MaxDataDatapoints)
                    .GroupBy(p => p.Timestamp)
                    .Select(g => (g.Key, Value: Statistic(g.Select(p => p.Statistics).Aggregate((a, b) => a.Merge(b)), q.Stat)))
                    .Where(p => p.Value is not null)
                    .ToDictionary(p => p.Key, p => p.Value!.Value);
                result = [new MathSeries(q.Label ?? DefaultLabel(q, stats), new SortedDictionary<long, double>(points))];
            }
            else
            {
                var e = (ExpressionQuery)query;
                int period = e.Period ?? stats.FirstOrDefault()?.Period ?? 60;
                long first = start / 60 * 60;
                var grid = new List<long>();
                for (long t = first; t < end && grid.Count < MetricQueries.MaxDataDatapoints; t += period)
                    grid.Add(t);
                var math = new MetricMath(
                    name => requested.FirstOrDefault(x => x.Id == name) is { } other ? Compute(other).FirstOrDefault() ?? new MathSeries(name, []) : null,
                    stats.Select(s => (s.Id, Compute(s)[0])).ToList(), grid, period);
                result = math.Evaluate(e.Expression, e.Label ?? e.Id);
            }
            computing.Remove(id);
            computed[id] = result;
            return result;
        }

        var results = new List<MetricDataResult>();
        foreach (var query in requested)
        {
            if (!query.ReturnData)
                continue;
            foreach (var series in Compute(query))
            {
                var ordered = (ascending ? series.Points.OrderBy(p => p.Key) : series.Points.OrderByDescending(p => p.Key)).ToList();
                results.Add(new MetricDataResult(query.Id, series.Label, ordered.Select(p => p.Key).ToList(), ordered.Select(p => p.Value).ToList()));
            }
        }
        return new MetricDataAnswer(results);
    }

    private static Query Read(CloudWatchRequest q, int index)
    {
        string at = $"MetricDataQueries.member.{index + 1}";
        string id = q.Required("Id");
        if (!char.IsAsciiLetterLower(id[0]) || !id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new CloudWatchException("ValidationError", $"The value {id} for parameter {at}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.");
        if (q.String("Expression") is { } expression)
        {
            if (q.Structure("MetricStat") is not null)
                throw new CloudWatchException("ValidationError", $"Exactly one of MetricStat and Expression must be given in {at}.");
            if (expression.Length is 0 or > 2048)
                throw new CloudWatchException("ValidationError", $"The expression of {at} must be 1 to 2048 characters.");
            if (expression.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) || expression.Contains("SEARCH(", StringComparison.OrdinalIgnoreCase))
                throw new CloudWatchException("ValidationError", $"{at}: Metrics Insights queries and SEARCH are not served by Runnel; use metric math over MetricStat queries.");
            int? expressionPeriod = q.Integer("Period") is { } p ? int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int ep) && ep > 0 && ep % 60 == 0 ? ep
                : throw CloudWatchException.InvalidValue("The parameter Period must be a multiple of 60.") : null;
            return new ExpressionQuery(id, q.String("Label"), q.Boolean("ReturnData") != false, expression, expressionPeriod);
        }
        var stat = q.Structure("MetricStat") ?? throw CloudWatchException.Missing($"{at}.MetricStat");
        var metric = stat.Structure("Metric") ?? throw CloudWatchException.Missing($"{at}.MetricStat.Metric");
        string statistic = stat.Required("Stat");
        if (!BasicStatistics.Contains(statistic) && !Percentiles.IsPercentile(statistic))
            throw CloudWatchException.InvalidValue($"{at}: the statistic {statistic} is not served; Runnel serves SampleCount, Average, Sum, Minimum, Maximum and percentiles (p0.0 to p100).");
        string period = stat.Integer("Period") ?? throw CloudWatchException.Missing($"{at}.MetricStat.Period");
        return new DataQuery(id, q.String("Label"), q.Boolean("ReturnData") != false, metric.Required("Namespace"), metric.Required("MetricName"),
            MetricQueries.Sorted(metric.Dimensions("Dimensions").Select(d => new KeyValuePair<string, string>(d.Name, d.Value ?? ""))),
            int.TryParse(period, NumberStyles.None, CultureInfo.InvariantCulture, out int parsedPeriod) && parsedPeriod > 0 ? parsedPeriod : throw CloudWatchException.InvalidValue("The parameter Period must be a positive integer."),
            statistic, stat.String("Unit"));
    }

    /// <summary>The label CloudWatch gives a query without one: the metric's name, with the stat and the period where
    /// another query of the call names the same metric with another (docs/adr/0003-observability-facts.md, 3.1).</summary>
    private static string DefaultLabel(DataQuery q, IReadOnlyList<DataQuery> all)
    {
        var same = all.Where(q.SameMetric).ToList();
        string label = q.Name;
        if (same.Select(a => a.Stat).Distinct().Count() > 1)
            label += " " + q.Stat;
        if (same.Select(a => a.Period).Distinct().Count() > 1)
            label += " " + q.Period.ToString(CultureInfo.InvariantCulture);
        return label;
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

    /// <summary>A basic statistic or a percentile (<c>p99</c>) of a datapoint by its API name; null for a percentile that cannot be told.</summary>
    public static double? Statistic(StatisticSet s, string statistic) =>
        Percentiles.IsPercentile(statistic) ? s.Percentile(Percentiles.Parse(statistic)) : Value(s, statistic);

    /// <summary>A basic statistic of a datapoint by its API name.</summary>
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
