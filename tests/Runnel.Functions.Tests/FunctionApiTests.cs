using System.Net;
using System.Text;
using System.Text.Json;
using Runnel.Functions.Api;
using Runnel.Functions.Catalog;
using Runnel.Functions.Invoke;
using Runnel.Functions.Runtime;
using Runnel.Storage.Metadata;

namespace Runnel.Functions.Tests;

/// <summary>
/// The functions' operations behind the HTTP front, over a real metadata store in a directory of their own: created,
/// read by name and by ARN, listed page by page, kept across a reopening, deleted; invoked over HTTP against a local
/// endpoint (an answer, a function error, a timeout); Lambda's errors in Lambda's order.
/// </summary>
public sealed class FunctionApiTests : IDisposable
{
    private const string Account = "123456789012";
    private const string Role = "arn:aws:iam::123456789012:role/test";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-functions-" + Guid.NewGuid().ToString("N"));
    private readonly MetadataStore _metadata;
    private readonly HttpClient _http = new();
    private LambdaApi _api;

    public FunctionApiTests()
    {
        _metadata = new MetadataStore(_dir);
        _api = Api();
    }

    private LambdaApi Api()
    {
        var options = new FunctionsOptions { Region = "eu-west-1" };
        var runtimeOptions = new RuntimeOptions { CodeDirectory = Path.Combine(_dir, "code") };
        var launch = new FunctionLaunch(new FunctionCodeStore(_metadata), runtimeOptions, "eu-west-1");
        var functions = new FunctionOperations(new FunctionCatalog(_metadata, TimeProvider.System, null), new FunctionCode(new FunctionCodeStore(_metadata), launch, null), options, TimeProvider.System);
        var mappings = new EventSourceMappingOperations(new EventSourceMappingCatalog(_metadata, TimeProvider.System, null), functions, new KnownStreams(), options, TimeProvider.System);
        return new LambdaApi(functions, new InvokeOperation(functions, new HttpFunctionInvoker(_http, TimeProvider.System), options), mappings);
    }

    /// <summary>The server's streams, as the mappings' checks see them: two streams of the test's account.</summary>
    private sealed class KnownStreams : IEventSourceStreams
    {
        public bool Exists(string account, string arn) =>
            account == Account && arn is "arn:aws:kinesis:eu-west-1:123456789012:stream/orders" or "arn:aws:kinesis:eu-west-1:123456789012:stream/events";
    }

    public void Dispose()
    {
        _http.Dispose();
        _metadata.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<LambdaAnswer> Call(string method, string path, string? body = null, Dictionary<string, string>? query = null, Dictionary<string, string>? headers = null) =>
        _api.HandleAsync(new LambdaRequest(method, path.Split('/').Select(Uri.UnescapeDataString).ToList(), query ?? [], headers ?? [],
            body is null ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(body), Account), CancellationToken.None);

    private static JsonElement Json(LambdaAnswer answer) => JsonDocument.Parse(answer.Body).RootElement.Clone();

    private static string CreateBody(string name, string url, string extra = "") =>
        $$"""{"FunctionName":"{{name}}","Role":"{{Role}}","PackageType":"Image","Code":{"ImageUri":"{{url}}"}{{extra}}}""";

    [Fact]
    public async Task A_function_is_created_read_listed_kept_and_deleted()
    {
        var created = await Call("POST", "functions", CreateBody("echo", "http://127.0.0.1:9/", ""","Timeout":7,"Environment":{"Variables":{"A":"1"}}"""));
        Assert.Equal(201, created.StatusCode);
        var configuration = Json(created);
        Assert.Equal("arn:aws:lambda:eu-west-1:123456789012:function:echo", configuration.GetProperty("FunctionArn").GetString());
        Assert.Equal(7, configuration.GetProperty("Timeout").GetInt32());
        Assert.Equal("1", configuration.GetProperty("Environment").GetProperty("Variables").GetProperty("A").GetString());

        foreach (string name in new[] { "echo", "arn:aws:lambda:eu-west-1:123456789012:function:echo", "123456789012:function:echo", "echo:$LATEST" })
            Assert.Equal("echo", Json(await Call("GET", "functions/" + Uri.EscapeDataString(name))).GetProperty("Configuration").GetProperty("FunctionName").GetString());

        for (int i = 0; i < 4; i++)
            await Call("POST", "functions", CreateBody($"f{i}", "http://127.0.0.1:9/"));
        var names = new List<string>();
        string? marker = null;
        do
        {
            var page = Json(await Call("GET", "functions/", query: marker is null ? new() { ["MaxItems"] = "2" } : new() { ["MaxItems"] = "2", ["Marker"] = marker }));
            names.AddRange(page.GetProperty("Functions").EnumerateArray().Select(f => f.GetProperty("FunctionName").GetString()!));
            marker = page.TryGetProperty("NextMarker", out var next) ? next.GetString() : null;
        }
        while (marker is not null);
        Assert.Equal(["echo", "f0", "f1", "f2", "f3"], names);

        _api = Api(); // a restart: the catalog reads the documents back
        Assert.Equal(200, (await Call("GET", "functions/f2")).StatusCode);
        Assert.Equal(204, (await Call("DELETE", "functions/f2")).StatusCode);
        var missing = await Assert.ThrowsAsync<LambdaException>(() => Call("GET", "functions/f2"));
        Assert.Equal(("ResourceNotFoundException", 404, "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:f2"), (missing.ErrorType, missing.StatusCode, missing.Message));
    }

    [Fact]
    public async Task Lambdas_errors_in_lambdas_order()
    {
        await Call("POST", "functions", CreateBody("taken", "http://127.0.0.1:9/"));
        async Task<LambdaException> Refused(string method, string path, string? body = null) => await Assert.ThrowsAsync<LambdaException>(() => Call(method, path, body));

        Assert.Equal("ResourceConflictException", (await Refused("POST", "functions", CreateBody("taken", "http://127.0.0.1:9/"))).ErrorType);
        var badName = await Refused("POST", "functions", CreateBody("bad name", "http://127.0.0.1:9/"));
        Assert.Equal("ValidationException", badName.ErrorType);
        Assert.StartsWith("1 validation error detected: Value 'bad name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern", badName.Message);
        Assert.Equal("ValidationException", (await Refused("POST", "functions", """{"FunctionName":"x","Code":{}}""")).ErrorType); // no Role
        Assert.Equal("InvalidParameterValueException", (await Refused("POST", "functions", CreateBody("t", "http://127.0.0.1:9/", ""","Timeout":901"""))).ErrorType);
        Assert.Equal("InvalidParameterValueException", (await Refused("POST", "functions", CreateBody("ftp", "ftp://127.0.0.1/"))).ErrorType);
        Assert.Equal("InvalidParameterValueException", (await Refused("POST", "functions",
            $$$"""{"FunctionName":"zip","Role":"{{{Role}}}","Runtime":"nodejs20.x","Handler":"index.handler","Code":{"ZipFile":"UEs="}}""")).ErrorType);
        Assert.Equal("InvalidRequestContentException", (await Refused("POST", "functions", "{not json")).ErrorType);
        Assert.Equal("ResourceNotFoundException", (await Refused("GET", "functions/arn:aws:lambda:eu-west-1:999999999999:function:taken")).ErrorType);
        Assert.Equal("UnknownOperationException", (await Refused("PATCH", "functions/taken")).ErrorType);
        Assert.Equal("InvalidRequestContentException", (await Refused("POST", "functions/taken/invocations", "not json")).ErrorType);
    }

    [Fact(Timeout = 30_000)]
    public async Task Invocations_go_to_the_functions_endpoint_and_its_errors_and_timeouts_are_the_functions()
    {
        using var endpoint = new HttpListener();
        int port = FreePort();
        endpoint.Prefixes.Add($"http://127.0.0.1:{port}/");
        endpoint.Start();
        var serving = Task.Run(async () =>
        {
            while (endpoint.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await endpoint.GetContextAsync();
                }
                catch (Exception) when (!endpoint.IsListening)
                {
                    return;
                }
                _ = AnswerAsync(context); // each on its own: the slow one must not hold back the next
            }
        });

        static async Task AnswerAsync(HttpListenerContext context)
        {
            try
            {
                string body = await new StreamReader(context.Request.InputStream).ReadToEndAsync();
                if (body.Contains("sleep", StringComparison.Ordinal))
                    await Task.Delay(6000);
                context.Response.StatusCode = body.Contains("fail", StringComparison.Ordinal) ? 500 : 200;
                string answer = body.Contains("fail", StringComparison.Ordinal)
                    ? """{"errorMessage":"boom","errorType":"Error"}"""
                    : $$"""{"event":{{body}},"arn":"{{context.Request.Headers["Lambda-Runtime-Invoked-Function-Arn"]}}"}""";
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(answer));
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
            {
                // the invoker gave up on it (the timeout)
            }
        }

        await Call("POST", "functions", CreateBody("live", $"http://127.0.0.1:{port}/", ""","Timeout":3""")); // room for a loaded machine

        var answer = await Call("POST", "functions/live/invocations", """{"n":1}""");
        Assert.Equal(200, answer.StatusCode);
        Assert.False(answer.Headers.ContainsKey("X-Amz-Function-Error"));
        Assert.Equal("""{"event":{"n":1},"arn":"arn:aws:lambda:eu-west-1:123456789012:function:live"}""", Encoding.UTF8.GetString(answer.Body.Span));

        var failed = await Call("POST", "functions/live/invocations", """{"fail":true}""");
        Assert.Equal(("Unhandled", """{"errorMessage":"boom","errorType":"Error"}"""), (failed.Headers["X-Amz-Function-Error"], Encoding.UTF8.GetString(failed.Body.Span)));

        var timedOut = await Call("POST", "functions/live/invocations", """{"sleep":true}""");
        Assert.Equal("Unhandled", timedOut.Headers["X-Amz-Function-Error"]);
        Assert.Equal("Sandbox.Timedout", Json(timedOut).GetProperty("errorType").GetString());

        Assert.Equal(204, (await Call("POST", "functions/live/invocations", "{}", headers: new() { ["X-Amz-Invocation-Type"] = "DryRun" })).StatusCode);
        endpoint.Stop();
        await serving;
    }

    /// <summary>Counts invocations and fails each with a function error.</summary>
    private sealed class FailingInvoker : IFunctionInvoker
    {
        public int Calls;

        public Task<InvocationOutcome> InvokeAsync(LambdaFunction function, string requestId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(InvocationErrors.Outcome("Error", "always"));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task An_asynchronous_invocation_that_fails_is_tried_twice_more()
    {
        var options = new FunctionsOptions { Region = "eu-west-1", AsyncRetryWaits = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20)] };
        var runtimeOptions = new RuntimeOptions { CodeDirectory = Path.Combine(_dir, "code") };
        var launch = new FunctionLaunch(new FunctionCodeStore(_metadata), runtimeOptions, "eu-west-1");
        var functions = new FunctionOperations(new FunctionCatalog(_metadata, TimeProvider.System, null), new FunctionCode(new FunctionCodeStore(_metadata), launch, null), options, TimeProvider.System);
        var invoker = new FailingInvoker();
        var warnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var invoke = new InvokeOperation(functions, invoker, options, warnings.Enqueue);
        var request = (string path, string body, Dictionary<string, string> headers) =>
            new LambdaRequest("POST", path.Split('/'), new Dictionary<string, string>(), headers, Encoding.UTF8.GetBytes(body), Account);
        functions.Create(request("functions", CreateBody("async", "http://127.0.0.1:9/"), []));

        var accepted = await invoke.InvokeAsync(request("functions/async/invocations", "{}", new() { ["X-Amz-Invocation-Type"] = "Event" }), "async", CancellationToken.None);
        Assert.Equal(202, accepted.StatusCode);
        for (int i = 0; i < 200 && Volatile.Read(ref invoker.Calls) < 3; i++)
            await Task.Delay(20);
        await Task.Delay(200); // no fourth
        Assert.Equal(3, Volatile.Read(ref invoker.Calls));
        Assert.Contains(warnings, w => w.Contains("attempt 3; given up", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mapping_is_created_described_updated_kept_and_deleted_with_lambdas_checks()
    {
        await Call("POST", "functions", CreateBody("consumer", "http://127.0.0.1:9/"));
        const string Orders = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";
        var created = Json(await Call("POST", "event-source-mappings/",
            $$"""{"FunctionName":"consumer","EventSourceArn":"{{Orders}}","StartingPosition":"AT_TIMESTAMP","StartingPositionTimestamp":1796540400.5,"BatchSize":10,"MaximumRecordAgeInSeconds":60,"BisectBatchOnFunctionError":true}"""));
        string uuid = created.GetProperty("UUID").GetString()!;
        Assert.Equal("Creating", created.GetProperty("State").GetString());
        Assert.Equal(1796540400.5, created.GetProperty("StartingPositionTimestamp").GetDouble());
        Assert.Equal(("arn:aws:lambda:eu-west-1:123456789012:function:consumer", 10, 60, true),
            (created.GetProperty("FunctionArn").GetString(), created.GetProperty("BatchSize").GetInt32(), created.GetProperty("MaximumRecordAgeInSeconds").GetInt32(),
             created.GetProperty("BisectBatchOnFunctionError").GetBoolean()));

        _api = Api(); // kept across a restart
        Assert.Equal("Enabled", Json(await Call("GET", "event-source-mappings/" + uuid)).GetProperty("State").GetString());
        var updated = Json(await Call("PUT", "event-source-mappings/" + uuid, """{"Enabled":false,"ParallelizationFactor":10}"""));
        Assert.Equal(("Updating", 10, 10), (updated.GetProperty("State").GetString(), updated.GetProperty("ParallelizationFactor").GetInt32(), updated.GetProperty("BatchSize").GetInt32()));
        var listed = Json(await Call("GET", "event-source-mappings/", query: new() { ["FunctionName"] = "consumer" })).GetProperty("EventSourceMappings");
        Assert.Equal("Disabled", Assert.Single(listed.EnumerateArray()).GetProperty("State").GetString());

        async Task<LambdaException> Refused(string method, string path, string body) => await Assert.ThrowsAsync<LambdaException>(() => Call(method, path, body));
        Assert.Equal("ResourceConflictException", (await Refused("POST", "event-source-mappings/", $$"""{"FunctionName":"consumer","EventSourceArn":"{{Orders}}","StartingPosition":"LATEST"}""")).ErrorType);
        Assert.Equal("ValidationException", (await Refused("POST", "event-source-mappings/", $$"""{"FunctionName":"consumer","EventSourceArn":"{{Orders}}","StartingPosition":"LATEST","BatchSize":10001}""")).ErrorType);
        Assert.Equal("ValidationException", (await Refused("PUT", "event-source-mappings/" + uuid, """{"ParallelizationFactor":11}""")).ErrorType);
        Assert.Equal("InvalidParameterValueException", (await Refused("POST", "event-source-mappings/", """{"FunctionName":"consumer","EventSourceArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/nope","StartingPosition":"LATEST"}""")).ErrorType);
        Assert.Equal("InvalidParameterValueException", (await Refused("POST", "event-source-mappings/", """{"FunctionName":"consumer","EventSourceArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/events"}""")).ErrorType);
        Assert.Equal("InvalidParameterValueException", (await Refused("POST", "event-source-mappings/", """{"FunctionName":"consumer","EventSourceArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/events","StartingPosition":"LATEST","MaximumRecordAgeInSeconds":30}""")).ErrorType);
        Assert.Equal("ResourceNotFoundException", (await Refused("POST", "event-source-mappings/", """{"FunctionName":"nobody","EventSourceArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/events","StartingPosition":"LATEST"}""")).ErrorType);

        Assert.Equal("Deleting", Json(await Call("DELETE", "event-source-mappings/" + uuid)).GetProperty("State").GetString());
        Assert.Equal("ResourceNotFoundException", (await Refused("GET", "event-source-mappings/" + uuid, "")).ErrorType);
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
