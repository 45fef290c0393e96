using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Runnel.Core.Errors;
using Runnel.Functions.Api;
using Runnel.Server.Streams;

namespace Runnel.Server.Functions;

/// <summary>
/// The HTTP front of Lambda's REST API (docs/compatibility.md, "Lambda"): any method on a path under
/// <c>/2015-03-31/</c>, on the same port as Kinesis. It does the envelope (body size, authentication and, under
/// <c>--auth sigv4</c>, the signature and the key's permission on the function), splits the path, hands the call to
/// <see cref="LambdaApi"/>, and answers Lambda's way: JSON, the error type in <c>x-amzn-ErrorType</c> and the body
/// <c>{"Type", "message"}</c>; every failure is Lambda's error, never a stack trace. Thread-safe.
/// </summary>
public sealed class LambdaEndpoint(LambdaApi api, StreamService streams, StorageHealth health, ILogger log)
{
    /// <summary>Verifies signatures (<c>--auth sigv4</c>); null: any well-formed signature is taken.</summary>
    public Auth.SigV4Verifier? Verifier { get; set; }

    /// <summary>Decides what a verified key may do; set with <see cref="Verifier"/>.</summary>
    public Auth.AccessControl? Access { get; set; }

    /// <summary>The largest CreateFunction body: Lambda takes a 50 MB zip file, which base64 makes 67 MB.</summary>
    private const long MaxCreateFunctionBytes = 70L * 1024 * 1024;

    /// <summary>Whether a request is Lambda's (its path is under the API's version).</summary>
    public static bool Accepts(HttpRequest request) => request.Path.StartsWithSegments("/2015-03-31", StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var http = context.Response;
        string requestId = Guid.NewGuid().ToString();
        http.Headers["x-amzn-RequestId"] = requestId;
        try
        {
            long limit = HttpMethods.IsPost(request.Method) && request.Path.Value?.TrimEnd('/') == "/2015-03-31/functions"
                ? Math.Max(streams.Options.MaxRequestBytes, MaxCreateFunctionBytes) // a ZipFile of Lambda's 50 MB, in base64
                : streams.Options.MaxRequestBytes;
            using var body = request.ContentLength > limit ? null : await Kinesis.KinesisEndpoint.ReadBodyAsync(request, limit, context.RequestAborted);
            if (body is null)
                throw LambdaErrors.RequestTooLarge(limit);
            Kinesis.Authentication.Check(request);
            var credential = Verifier?.Verify(request, body.WrittenMemory.Span);
            string account = credential?.AccountId ?? streams.AccountId;
            string path = request.Path.Value!["/2015-03-31/".Length..];
            var segments = path.Split('/').Select(Uri.UnescapeDataString).ToList();
            if (credential is not null && Access is not null && Resource(segments, account) is { } resource
                && Access.Denial(credential, "lambda:" + Action(request.Method, segments), resource) is { } denial)
                throw new LambdaException("AccessDeniedException", denial, 403);
            var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string header in new[] { "X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context" })
                if (request.Headers.TryGetValue(header, out var value))
                    headers[header] = value.ToString();
            await streams.CatchUpAsync(); // read-your-writes behind a load balancer; nothing to wait for on one node
            var answer = await api.HandleAsync(new LambdaRequest(request.Method, segments, query, headers, body.WrittenMemory.ToArray(), account), context.RequestAborted);
            http.StatusCode = answer.StatusCode;
            foreach (var (header, value) in answer.Headers)
                http.Headers[header] = value;
            if (answer.StatusCode is 204 or 202 && answer.Body.IsEmpty)
                return;
            http.ContentType = "application/json";
            http.ContentLength = answer.Body.Length;
            await http.Body.WriteAsync(answer.Body, context.RequestAborted);
        }
        catch (LambdaException e)
        {
            await WriteErrorAsync(http, e);
        }
        catch (KinesisException e)
        {
            // The envelope's checks are shared with Kinesis; Lambda names them the same.
            await WriteErrorAsync(http, new LambdaException(e.ErrorType, e.WireMessage ?? e.Message, e.StatusCode));
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            var fault = health.Failed("Lambda", e);
            if (fault is null)
                log.LogError(e, "Lambda {Method} {Path} failed unexpectedly; answered ServiceException. This is a Runnel bug: please report it with this log.", request.Method, request.Path);
            if (!http.HasStarted)
                await WriteErrorAsync(http, LambdaErrors.Service(fault is { } kind ? $"Internal server error: {Runnel.Storage.StorageFault.ClientDetail(kind)}" : "Internal server error"));
        }
    }

    /// <summary>The resource a call acts on, for the policy check: the function's ARN, or <c>*</c> (lists, mappings).</summary>
    private string? Resource(List<string> segments, string account) => segments switch
    {
        ["functions", { Length: > 0 } name, ..] => FunctionNames.Arn(streams.Options.Region, account, name.Split(':')[^1]),
        ["functions", ..] or ["event-source-mappings", ..] => "*",
        _ => null,
    };

    /// <summary>The IAM action of a call, for the policy check.</summary>
    private static string Action(string method, List<string> segments) => (segments[0], method, segments.Count > 2 ? segments[2] : null, segments.Count > 1 && segments[1].Length > 0) switch
    {
        ("event-source-mappings", "POST", _, _) => "CreateEventSourceMapping",
        ("event-source-mappings", "PUT", _, _) => "UpdateEventSourceMapping",
        ("event-source-mappings", "DELETE", _, _) => "DeleteEventSourceMapping",
        ("event-source-mappings", _, _, true) => "GetEventSourceMapping",
        ("event-source-mappings", _, _, false) => "ListEventSourceMappings",
        (_, "POST", "invocations", _) => "InvokeFunction",
        (_, "PUT", "code", _) => "UpdateFunctionCode",
        (_, "PUT", "configuration", _) => "UpdateFunctionConfiguration",
        (_, "GET", "configuration", _) => "GetFunctionConfiguration",
        (_, "GET", _, true) => "GetFunction",
        (_, "GET", _, false) => "ListFunctions",
        (_, "DELETE", _, _) => "DeleteFunction",
        _ => "CreateFunction",
    };

    private static async Task WriteErrorAsync(HttpResponse http, LambdaException e)
    {
        var body = FunctionOperations.Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("Type", e.Kind);
            json.WriteString("message", e.Message);
            json.WriteEndObject();
        });
        http.StatusCode = e.StatusCode;
        http.Headers["x-amzn-ErrorType"] = e.ErrorType;
        http.ContentType = "application/json";
        http.ContentLength = body.Length;
        await http.Body.WriteAsync(body);
    }
}
