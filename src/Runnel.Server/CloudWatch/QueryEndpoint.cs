using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server.CloudWatch;

/// <summary>
/// CloudWatch's API in the query protocol (form-encoded <c>Action=…&amp;Version=2010-08-01</c> requests, XML answers), as
/// Debian's AWS CLI and boto3 send it (docs/adr/0003-observability-facts.md, 4.2). Requests are told apart from the
/// Kinesis API's by their content type and their signature's service (<c>monitoring</c>), on the same port.
/// Thread-safe.
/// </summary>
public sealed class QueryEndpoint(CloudWatchOperations operations)
{
    /// <summary>Verifies signatures (<c>--auth sigv4</c>); null for none.</summary>
    public Auth.SigV4Verifier? Verifier { get; init; }

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
        try
        {
            Auth.Credential? credential = null;
            if (Verifier is not null)
                context.Request.EnableBuffering(); // read again for the signature once the form is read
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var values = form.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
            string? action = values.GetValueOrDefault("Action") ?? values.GetValueOrDefault("Operation");
            Kinesis.Authentication.Check(context.Request);
            if (Verifier is not null)
            {
                context.Request.Body.Position = 0;
                credential = await Verifier.VerifyAsync(context.Request, context.RequestAborted);
            }
            if (action is null)
                throw CloudWatchException.Missing("Action");
            if (!operations.Has(action))
                throw new CloudWatchException("InvalidAction", $"Could not find operation {action} for version {values.GetValueOrDefault("Version") ?? "NO_VERSION_SPECIFIED"}");
            var answer = operations.Run(action, new FormRequest(values), credential);
            string result = answer switch
            {
                StatisticsResult statistics => Xml(statistics),
                ListResult list => Xml(list),
                MetricDataAnswer data => Xml(data),
                var other => Alarms.AlarmWire.TryXml(other, out string xml) ? xml : "",
            };
            if (answer is not Alarms.NoResult)
                result = $"<{action}Result>{result}</{action}Result>";
            await WriteAsync(http, 200, $"<{action}Response xmlns=\"{Namespace}\">{result}<ResponseMetadata><RequestId>{requestId}</RequestId></ResponseMetadata></{action}Response>");
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

    private static string Xml(StatisticsResult result)
    {
        var xml = new StringBuilder("<Datapoints>");
        foreach (var point in result.Datapoints)
        {
            xml.Append("<member><Timestamp>").Append(Iso(point.Timestamp)).Append("</Timestamp>");
            foreach (string statistic in result.Statistics)
                xml.Append('<').Append(statistic).Append('>').Append(CloudWatchOperations.Format(CloudWatchOperations.Value(point.Statistics, statistic))).Append("</").Append(statistic).Append('>');
            xml.Append("<Unit>").Append(Escape(point.Unit)).Append("</Unit>");
            var percentiles = result.PercentilesOf(point);
            if (percentiles.Count > 0)
            {
                // A map in the query protocol: entries of key and value, after Unit (the model's xmlOrder).
                xml.Append("<ExtendedStatistics>");
                foreach (var (name, value) in percentiles)
                    xml.Append("<entry><key>").Append(Escape(name)).Append("</key><value>").Append(CloudWatchOperations.Format(value)).Append("</value></entry>");
                xml.Append("</ExtendedStatistics>");
            }
            xml.Append("</member>");
        }
        return xml.Append("</Datapoints><Label>").Append(Escape(result.Label)).Append("</Label>").ToString();
    }

    private static string Xml(MetricDataAnswer answer)
    {
        var xml = new StringBuilder("<MetricDataResults>");
        foreach (var result in answer.Results)
        {
            xml.Append("<member><Id>").Append(Escape(result.Id)).Append("</Id><Label>").Append(Escape(result.Label)).Append("</Label><Timestamps>");
            foreach (long timestamp in result.Timestamps)
                xml.Append("<member>").Append(Iso(timestamp)).Append("</member>");
            xml.Append("</Timestamps><Values>");
            foreach (double value in result.Values)
                xml.Append("<member>").Append(CloudWatchOperations.Format(value)).Append("</member>");
            xml.Append("</Values><StatusCode>Complete</StatusCode><Messages/></member>");
        }
        return xml.Append("</MetricDataResults><Messages/>").ToString();
    }

    private static string Xml(ListResult result)
    {
        var xml = new StringBuilder("<Metrics>");
        foreach (var metric in result.Metrics)
        {
            xml.Append("<member><Namespace>").Append(Escape(metric.Namespace)).Append("</Namespace><MetricName>").Append(Escape(metric.Name)).Append("</MetricName><Dimensions>");
            foreach (var (key, value) in metric.Dimensions)
                xml.Append("<member><Name>").Append(Escape(key)).Append("</Name><Value>").Append(Escape(value)).Append("</Value></member>");
            xml.Append("</Dimensions></member>");
        }
        xml.Append("</Metrics>");
        if (result.NextToken is { } token)
            xml.Append("<NextToken>").Append(token).Append("</NextToken>");
        return xml.ToString();
    }

    private static string Error(string code, string message, string requestId) =>
        $"<ErrorResponse xmlns=\"{Namespace}\"><Error><Type>Sender</Type><Code>{Escape(code)}</Code>" + (message.Length > 0 ? $"<Message>{Escape(message)}</Message>" : "")
        + $"</Error><RequestId>{requestId}</RequestId></ErrorResponse>";

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

    internal static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
            .Replace("\"", "&quot;", StringComparison.Ordinal).Replace("'", "&apos;", StringComparison.Ordinal);
}
