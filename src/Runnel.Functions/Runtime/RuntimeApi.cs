using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Runnel.Functions.Invoke;

namespace Runnel.Functions.Runtime;

/// <summary>
/// Lambda's Runtime API for one <see cref="Sandbox"/>, on a port of its own on 127.0.0.1 (<c>AWS_LAMBDA_RUNTIME_API</c>
/// is only <c>host:port</c>, so the port is what tells sandboxes apart): <c>GET /2018-06-01/runtime/invocation/next</c>
/// long-polls for the next invocation, <c>POST …/invocation/{id}/response</c> and <c>…/{id}/error</c> answer it,
/// <c>POST /2018-06-01/runtime/init/error</c> reports a failed start. Parses and answers; the pool decides.
/// </summary>
internal sealed class RuntimeApi : IAsyncDisposable
{
    private const string Base = "/2018-06-01/runtime/";
    private static readonly byte[] Accepted = """{"status":"OK"}"""u8.ToArray();
    private readonly WebApplication _app;
    private readonly Sandbox _sandbox;
    private readonly int _maxResponseBytes;

    private RuntimeApi(WebApplication app, Sandbox sandbox, int maxResponseBytes)
    {
        _app = app;
        _sandbox = sandbox;
        _maxResponseBytes = maxResponseBytes;
    }

    /// <summary>What <c>AWS_LAMBDA_RUNTIME_API</c> is set to: <c>127.0.0.1:PORT</c>.</summary>
    public string Address { get; private set; } = "";

    public static async Task<RuntimeApi> StartAsync(Sandbox sandbox, int maxResponseBytes)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = maxResponseBytes + 1024L * 1024;
        });
        var app = builder.Build();
        var api = new RuntimeApi(app, sandbox, maxResponseBytes);
        app.Run(api.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        api.Address = "127.0.0.1:" + new Uri(app.Urls.First()).Port.ToString(CultureInfo.InvariantCulture);
        return api;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "";
        if (!path.StartsWith(Base, StringComparison.Ordinal))
        {
            await AnswerAsync(context, 404, Error("InvalidRequest", $"Unknown path {path}: the Runtime API's paths start with {Base}.")).ConfigureAwait(false);
            return;
        }
        string rest = path[Base.Length..];
        if (rest == "invocation/next" && HttpMethods.IsGet(request.Method))
        {
            await NextAsync(context).ConfigureAwait(false);
            return;
        }
        if (!HttpMethods.IsPost(request.Method))
        {
            await AnswerAsync(context, 405, Error("InvalidRequest", $"{request.Method} is not allowed on {path}.")).ConfigureAwait(false);
            return;
        }
        var (body, tooLarge) = await ReadAsync(request, context.RequestAborted).ConfigureAwait(false);
        if (rest == "init/error")
        {
            _sandbox.Pool.InitFailed(_sandbox, ErrorPayload(body, request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault() ?? "Runtime.Unknown"));
            await AnswerAsync(context, 202, Accepted).ConfigureAwait(false);
            return;
        }
        string[] parts = rest.Split('/');
        if (parts is not ["invocation", { Length: > 0 } requestId, "response" or "error"])
        {
            await AnswerAsync(context, 404, Error("InvalidRequest", $"Unknown path {path}.")).ConfigureAwait(false);
            return;
        }
        InvocationOutcome outcome;
        if (tooLarge)
            outcome = InvocationErrors.Outcome("Function.ResponseSizeTooLarge", $"Response payload size exceeded maximum allowed payload size ({_maxResponseBytes} bytes).");
        else if (parts[2] == "response")
            outcome = new InvocationOutcome(body, null);
        else
            outcome = new InvocationOutcome(ErrorPayload(body, request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault() ?? "Unhandled"), "Unhandled");
        if (!_sandbox.Pool.Answer(_sandbox, requestId, outcome))
            await AnswerAsync(context, 400, Error("InvalidRequestID", $"Invalid request ID: {requestId} is not the invocation this runtime was given.")).ConfigureAwait(false);
        else if (tooLarge)
            await AnswerAsync(context, 413, Error("RequestEntityTooLarge", $"The response is larger than {_maxResponseBytes} bytes.")).ConfigureAwait(false);
        else
            await AnswerAsync(context, 202, Accepted).ConfigureAwait(false);
    }

    private async Task NextAsync(HttpContext context)
    {
        var invocation = await _sandbox.Pool.NextAsync(_sandbox, context.RequestAborted).ConfigureAwait(false);
        if (invocation is null)
            return; // the runtime went away
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.Headers["Lambda-Runtime-Aws-Request-Id"] = invocation.RequestId;
        response.Headers["Lambda-Runtime-Deadline-Ms"] = invocation.DeadlineMillis.ToString(CultureInfo.InvariantCulture);
        response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = _sandbox.Pool.Function.Arn;
        response.Headers["Lambda-Runtime-Trace-Id"] = TraceId();
        response.ContentLength = invocation.Payload.Length;
        await response.Body.WriteAsync(invocation.Payload, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The body, unless it is larger than a function's answer may be (then <c>tooLarge</c>, and what was read is dropped).</summary>
    private async Task<(byte[] Body, bool TooLarge)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > _maxResponseBytes)
            return ([], true);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > _maxResponseBytes)
                return ([], true);
            buffer.Write(chunk, 0, read);
        }
        return (buffer.ToArray(), false);
    }

    /// <summary>A runtime's error body when it is Lambda's error object already, else one made around it.</summary>
    internal static byte[] ErrorPayload(byte[] body, string errorType)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("errorMessage", out _))
                return body;
        }
        catch (JsonException)
        {
        }
        return InvocationErrors.Payload(errorType, body.Length > 0 ? System.Text.Encoding.UTF8.GetString(body) : "The runtime reported an error without a message.");
    }

    private static byte[] Error(string type, string message) => InvocationErrors.Payload(type, message);

    private static string TraceId()
    {
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return $"Root=1-{seconds:x8}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12))};Parent={Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))};Sampled=0";
    }

    private static async Task AnswerAsync(HttpContext context, int status, byte[] body)
    {
        if (context.RequestAborted.IsCancellationRequested)
            return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await _app.StopAsync(patience.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
