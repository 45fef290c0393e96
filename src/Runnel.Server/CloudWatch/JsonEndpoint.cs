using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server.CloudWatch;

/// <summary>
/// CloudWatch's API in JSON 1.0 (target prefix <c>GraniteServiceVersion20100801</c>), what current SDKs and AWS CLIs
/// send (docs/adr/0003-observability-facts.md, 4.3): epoch-second timestamps, errors as <c>__type</c> and
/// <c>message</c> with the <c>x-amzn-query-error</c> header that query-compatible clients read the code from,
/// statuses as the model says when the client asks for query mode (400 otherwise). Thread-safe.
/// </summary>
public sealed class JsonEndpoint(CloudWatchOperations operations)
{
    /// <summary>Verifies signatures (<c>--auth sigv4</c>); null for none.</summary>
    public Auth.SigV4Verifier? Verifier { get; init; }

    public const string TargetPrefix = "GraniteServiceVersion20100801.";
    private const string ErrorNamespace = "com.amazonaws.cloudwatch.v2010_08_01#";

    /// <summary>Whether a request is CloudWatch's in JSON 1.0 (its target names the service).</summary>
    public static bool Accepts(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Headers["X-Amz-Target"].ToString().StartsWith(TargetPrefix, StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var http = context.Response;
        http.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString("D");
        bool queryMode = context.Request.Headers["x-amzn-query-mode"].ToString() == "true";
        string operation = context.Request.Headers["X-Amz-Target"].ToString()[TargetPrefix.Length..];
        try
        {
            Kinesis.Authentication.Check(context.Request);
            var credential = Verifier is null ? null : await Verifier.VerifyAsync(context.Request, context.RequestAborted);
            if (!operations.Has(operation))
                throw new CloudWatchException("UnknownOperationException", $"The operation {operation} is not served by Runnel's CloudWatch API.");
            JsonDocument body;
            try
            {
                body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            }
            catch (JsonException)
            {
                throw new CloudWatchException("SerializationException", "The request body is not JSON.");
            }
            using (body)
            {
                var result = operations.Run(operation, new JsonRequest(body.RootElement), credential);
                await WriteAsync(http, 200, json => Write(json, result));
            }
        }
        catch (CloudWatchException e)
        {
            http.Headers["x-amzn-query-error"] = $"{e.Code};Sender";
            await WriteAsync(http, queryMode ? e.Status : 400, json =>
            {
                json.WriteStartObject();
                json.WriteString("__type", ErrorType(e.Code));
                if (e.Message.Length > 0)
                    json.WriteString("message", e.Message);
                json.WriteEndObject();
            });
        }
        catch (Core.Errors.KinesisException e)
        {
            await WriteAsync(http, e.StatusCode, json =>
            {
                json.WriteStartObject();
                json.WriteString("__type", e.ErrorType);
                json.WriteString("message", e.WireMessage ?? e.ErrorType);
                json.WriteEndObject();
            });
        }
    }

    /// <summary>The <c>__type</c> of an error code: the model's shape, in CloudWatch's namespace (validation errors in Coral's).</summary>
    internal static string ErrorType(string code) => code == "ValidationError" ? "com.amazon.coral.validate#ValidationException" : ErrorNamespace + ShapeName(code);

    /// <summary>The model's shape of an error code (what <c>__type</c> names).</summary>
    private static string ShapeName(string code) => code switch
    {
        "InvalidParameterValue" => "InvalidParameterValueException",
        "MissingParameter" => "MissingRequiredParameterException",
        "InvalidParameterCombination" => "InvalidParameterCombinationException",
        "LimitExceeded" => "LimitExceededFault",
        "InvalidFormat" => "InvalidFormatFault",
        _ => code,
    };

    internal static void Write(Utf8JsonWriter json, object result)
    {
        json.WriteStartObject();
        if (Alarms.AlarmWire.TryJson(json, result))
        {
            json.WriteEndObject();
            return;
        }
        switch (result)
        {
            case StatisticsResult statistics:
                json.WriteString("Label", statistics.Label);
                json.WriteStartArray("Datapoints");
                foreach (var point in statistics.Datapoints)
                {
                    json.WriteStartObject();
                    json.WriteNumber("Timestamp", point.Timestamp);
                    foreach (string statistic in statistics.Statistics)
                    {
                        json.WritePropertyName(statistic);
                        json.WriteRawValue(CloudWatchOperations.Format(CloudWatchOperations.Value(point.Statistics, statistic)), skipInputValidation: true);
                    }
                    json.WriteString("Unit", point.Unit);
                    var percentiles = statistics.PercentilesOf(point);
                    if (percentiles.Count > 0)
                    {
                        json.WriteStartObject("ExtendedStatistics");
                        foreach (var (name, value) in percentiles)
                        {
                            json.WritePropertyName(name);
                            json.WriteRawValue(CloudWatchOperations.Format(value), skipInputValidation: true);
                        }
                        json.WriteEndObject();
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                break;
            case MetricDataAnswer data:
                json.WriteStartArray("MetricDataResults");
                foreach (var series in data.Results)
                {
                    json.WriteStartObject();
                    json.WriteString("Id", series.Id);
                    json.WriteString("Label", series.Label);
                    json.WriteStartArray("Timestamps");
                    foreach (long timestamp in series.Timestamps)
                        json.WriteNumberValue(timestamp);
                    json.WriteEndArray();
                    json.WriteStartArray("Values");
                    foreach (double value in series.Values)
                        json.WriteRawValue(CloudWatchOperations.Format(value), skipInputValidation: true);
                    json.WriteEndArray();
                    json.WriteString("StatusCode", "Complete");
                    json.WriteStartArray("Messages");
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartArray("Messages");
                json.WriteEndArray();
                break;
            case ListResult list:
                json.WriteStartArray("Metrics");
                foreach (var metric in list.Metrics)
                {
                    json.WriteStartObject();
                    json.WriteString("Namespace", metric.Namespace);
                    json.WriteString("MetricName", metric.Name);
                    json.WriteStartArray("Dimensions");
                    foreach (var (name, value) in metric.Dimensions)
                    {
                        json.WriteStartObject();
                        json.WriteString("Name", name);
                        json.WriteString("Value", value);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                if (list.NextToken is { } token)
                    json.WriteString("NextToken", token);
                break;
        }
        json.WriteEndObject();
    }

    private static async Task WriteAsync(HttpResponse http, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
            write(json);
        http.StatusCode = status;
        http.ContentType = "application/x-amz-json-1.0";
        http.ContentLength = buffer.WrittenCount;
        await http.Body.WriteAsync(buffer.WrittenMemory);
    }
}
