using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Runnel.Storage.Metrics;

namespace Runnel.Server.CloudWatch;

/// <summary>
/// CloudWatch's API in the query protocol (form-encoded <c>Action=…&amp;Version=2010-08-01</c> requests, XML answers), as
/// Debian's AWS CLI and boto3 send it: GetMetricStatistics and ListMetrics over the metrics' history
/// (docs/adr/0003-observability-facts.md, 3 and 4.2). Requests are told apart from the Kinesis API's by their content
/// type, on the same port. Thread-safe.
/// </summary>
public sealed class QueryEndpoint(MetricQueries queries)
{
    public const string Namespace = "http://monitoring.amazonaws.com/doc/2010-08-01/";

    /// <summary>Whether a request is CloudWatch's in the query protocol: a form POST signed for the <c>monitoring</c>
    /// service (the Kinesis API answers every other request, form POSTs included, as before).</summary>
    public static bool Accepts(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.ContentType is { } type && type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
        && request.Headers.Authorization.ToString().Contains("/monitoring/aws4_request", StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        string requestId = Guid.NewGuid().ToString("D");
        var http = context.Response;
        http.Headers["x-amzn-RequestId"] = requestId;
        string? action = null;
        try
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var values = form.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
            action = values.GetValueOrDefault("Action") ?? values.GetValueOrDefault("Operation");
            Kinesis.Authentication.Check(context.Request);
            var body = action switch
            {
                "GetMetricStatistics" => GetMetricStatistics(values),
                "ListMetrics" => ListMetrics(values),
                null => throw CloudWatchException.Missing("Action"),
                _ => throw new CloudWatchException("InvalidAction", $"Could not find operation {action} for version {values.GetValueOrDefault("Version") ?? "NO_VERSION_SPECIFIED"}"),
            };
            await WriteAsync(http, 200, Envelope(action, body, requestId));
        }
        catch (CloudWatchException e)
        {
            await WriteAsync(http, e.Status, Error(e.Code, e.Message, requestId));
        }
        catch (Core.Errors.KinesisException e)
        {
            await WriteAsync(http, e.StatusCode, Error(e.ErrorType, e.WireMessage ?? e.ErrorType, requestId));
        }
    }

    private string GetMetricStatistics(Dictionary<string, string> p)
    {
        string ns = Required(p, "Namespace"), name = Required(p, "MetricName");
        long start = Time(p, "StartTime"), end = Time(p, "EndTime");
        int period = int.TryParse(Required(p, "Period"), NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed > 0
            ? parsed : throw CloudWatchException.InvalidValue("The parameter Period must be a positive integer.");
        var statistics = Members(p, "Statistics").ToList();
        if (Members(p, "ExtendedStatistics").Any())
            throw CloudWatchException.InvalidValue("ExtendedStatistics (percentiles) are not served: Runnel keeps each minute's statistic set, not its samples.");
        if (statistics.Count == 0)
            throw CloudWatchException.Combination("Must specify either Statistics or ExtendedStatistics.");
        foreach (string statistic in statistics)
            if (statistic is not ("SampleCount" or "Average" or "Sum" or "Minimum" or "Maximum"))
                throw CloudWatchException.InvalidValue($"The parameter Statistics contains the invalid value {statistic}; valid values are SampleCount, Average, Sum, Minimum, Maximum.");
        var datapoints = queries.Statistics(ns, name, Dimensions(p), start, end, period, p.GetValueOrDefault("Unit"));
        var xml = new StringBuilder("<Datapoints>");
        foreach (var point in datapoints)
        {
            xml.Append("<member><Timestamp>").Append(Iso(point.Timestamp)).Append("</Timestamp>");
            var s = point.Statistics;
            foreach (string statistic in statistics.Distinct())
            {
                double value = statistic switch
                {
                    "SampleCount" => s.SampleCount,
                    "Average" => s.SampleCount == 0 ? 0 : s.Sum / s.SampleCount,
                    "Sum" => s.Sum,
                    "Minimum" => s.Minimum,
                    _ => s.Maximum,
                };
                xml.Append('<').Append(statistic).Append('>').Append(Number(value)).Append("</").Append(statistic).Append('>');
            }
            xml.Append("<Unit>").Append(Escape(point.Unit)).Append("</Unit></member>");
        }
        return xml.Append("</Datapoints><Label>").Append(Escape(name)).Append("</Label>").ToString();
    }

    private string ListMetrics(Dictionary<string, string> p)
    {
        var filters = new List<(string, string?)>();
        for (int i = 1; p.TryGetValue($"Dimensions.member.{i}.Name", out string? dimension); i++)
            filters.Add((dimension, p.GetValueOrDefault($"Dimensions.member.{i}.Value")));
        string? recently = p.GetValueOrDefault("RecentlyActive");
        if (recently is not (null or "PT3H"))
            throw CloudWatchException.InvalidValue($"The parameter RecentlyActive must be PT3H, not {recently}.");
        var series = queries.List(p.GetValueOrDefault("Namespace"), p.GetValueOrDefault("MetricName"), filters, recently is not null);
        int from = 0;
        if (p.GetValueOrDefault("NextToken") is { } token && !(int.TryParse(Decode(token), NumberStyles.None, CultureInfo.InvariantCulture, out from) && from <= series.Count))
            throw CloudWatchException.InvalidValue("Request parameter NextToken is invalid");
        var xml = new StringBuilder("<Metrics>");
        foreach (var metric in series.Skip(from).Take(MetricQueries.ListPage))
        {
            xml.Append("<member><Namespace>").Append(Escape(metric.Namespace)).Append("</Namespace><MetricName>").Append(Escape(metric.Name)).Append("</MetricName><Dimensions>");
            foreach (var (key, value) in metric.Dimensions)
                xml.Append("<member><Name>").Append(Escape(key)).Append("</Name><Value>").Append(Escape(value)).Append("</Value></member>");
            xml.Append("</Dimensions></member>");
        }
        xml.Append("</Metrics>");
        if (from + MetricQueries.ListPage < series.Count)
            xml.Append("<NextToken>").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes((from + MetricQueries.ListPage).ToString(CultureInfo.InvariantCulture)))).Append("</NextToken>");
        return xml.ToString();
    }

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

    private static string Required(Dictionary<string, string> p, string name) =>
        p.TryGetValue(name, out string? value) && value.Length > 0 ? value : throw CloudWatchException.Missing(name);

    /// <summary>An ISO 8601 timestamp member in Unix seconds.</summary>
    private static long Time(Dictionary<string, string> p, string name) =>
        DateTimeOffset.TryParse(Required(p, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at.ToUnixTimeSeconds()
            : throw CloudWatchException.InvalidValue($"The parameter {name} must be an ISO 8601 UTC timestamp, not {p[name]}.");

    private static IEnumerable<string> Members(Dictionary<string, string> p, string list)
    {
        for (int i = 1; p.TryGetValue($"{list}.member.{i}", out string? value); i++)
            yield return value;
    }

    private static List<KeyValuePair<string, string>> Dimensions(Dictionary<string, string> p)
    {
        var dimensions = new List<KeyValuePair<string, string>>();
        for (int i = 1; p.TryGetValue($"Dimensions.member.{i}.Name", out string? name); i++)
            dimensions.Add(new(name, p.GetValueOrDefault($"Dimensions.member.{i}.Value") ?? ""));
        return dimensions;
    }

    private static string Envelope(string action, string result, string requestId) =>
        $"<{action}Response xmlns=\"{Namespace}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{requestId}</RequestId></ResponseMetadata></{action}Response>";

    private static string Error(string code, string message, string requestId) =>
        $"<ErrorResponse xmlns=\"{Namespace}\"><Error><Type>Sender</Type><Code>{Escape(code)}</Code><Message>{Escape(message)}</Message></Error><RequestId>{requestId}</RequestId></ErrorResponse>";

    private static async Task WriteAsync(HttpResponse http, int status, string xml)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        http.StatusCode = status;
        http.ContentType = "text/xml";
        http.ContentLength = bytes.Length;
        await http.Body.WriteAsync(bytes);
    }

    private static string Iso(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A double as AWS writes one (Java's form: <c>42.0</c>, <c>0.5</c>).</summary>
    private static string Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? value.ToString("0.0", CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
            .Replace("\"", "&quot;", StringComparison.Ordinal).Replace("'", "&apos;", StringComparison.Ordinal);
}
