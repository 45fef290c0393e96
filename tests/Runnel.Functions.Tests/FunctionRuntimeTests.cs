using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Runnel.Functions.Api;
using Runnel.Functions.Catalog;
using Runnel.Functions.Invoke;
using Runnel.Functions.Runtime;
using Runnel.Storage.Metadata;

namespace Runnel.Functions.Tests;

/// <summary>
/// Functions that run in processes through Lambda's Runtime API: a custom runtime's bootstrap (a runtime client written
/// here, in Python, as a user's bootstrap would be) and an image's entry point; warm reuse, errors, timeouts that kill
/// and restart, exits, init errors, concurrency, and the checks of CreateFunction.
/// </summary>
public sealed class FunctionRuntimeTests : IAsyncDisposable
{
    private const string Account = "123456789012";
    private const string Role = "arn:aws:iam::123456789012:role/lambda";
    private const int Timeout = 60_000;

    /// <summary>A runtime client: asks for invocations and acts as the event says (echo, fail, sleep, exit).</summary>
    private const string Bootstrap = """
        #!/usr/bin/python3
        import json, os, sys, time, urllib.request
        api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/"
        if os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "init-fails")):
            urllib.request.urlopen(urllib.request.Request(api + "init/error", data=json.dumps({"errorType": "Runtime.ImportModuleError", "errorMessage": "no module"}).encode(),
                headers={"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"}, method="POST")).read()
            sys.exit(1)
        def post(path, body, headers={}):
            urllib.request.urlopen(urllib.request.Request(api + path, data=json.dumps(body).encode(), headers=headers, method="POST")).read()
        while True:
            with urllib.request.urlopen(api + "invocation/next") as r:
                rid, deadline, arn = r.headers["Lambda-Runtime-Aws-Request-Id"], r.headers["Lambda-Runtime-Deadline-Ms"], r.headers["Lambda-Runtime-Invoked-Function-Arn"]
                event = json.loads(r.read())
            action = event.get("action")
            if action == "sleep":
                time.sleep(event["seconds"])
            if action == "exit":
                sys.exit(3)
            if action == "fail":
                post("invocation/" + rid + "/error", {"errorType": "Boom", "errorMessage": "it failed", "trace": []})
                continue
            names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_REGION", "MINE", "AWS_EXECUTION_ENV"]
            post("invocation/" + rid + "/response", {"echo": event, "pid": os.getpid(), "requestId": rid, "arn": arn, "deadline": int(deadline),
                "env": {n: os.environ.get(n) for n in names}})
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-runtime-" + Guid.NewGuid().ToString("N"));
    private readonly MetadataStore _metadata;
    private readonly FunctionRuntimes _runtimes;
    private readonly LambdaApi _api;
    private readonly List<string> _warnings = [];

    public FunctionRuntimeTests()
    {
        _metadata = new MetadataStore(Path.Combine(_dir, "metadata"));
        var options = new FunctionsOptions { Region = "eu-west-1" };
        var runtimeOptions = new RuntimeOptions { CodeDirectory = Path.Combine(_dir, "code"), MaxConcurrency = 3, EndpointUrl = () => "http://127.0.0.1:4567" };
        var launch = new FunctionLaunch(new FunctionCodeStore(_metadata), runtimeOptions, "eu-west-1");
        _runtimes = new FunctionRuntimes(launch, runtimeOptions, new RuntimeLog(_ => { }, w => { lock (_warnings) _warnings.Add(w); }), TimeProvider.System);
        var catalog = new FunctionCatalog(_metadata, TimeProvider.System, null);
        var code = new FunctionCode(new FunctionCodeStore(_metadata), launch, _runtimes);
        var functions = new FunctionOperations(catalog, code, options, TimeProvider.System);
        var invoker = new FunctionInvoker(new HttpFunctionInvoker(new HttpClient(), TimeProvider.System), _runtimes);
        var mappings = new EventSourceMappingOperations(new EventSourceMappingCatalog(_metadata, TimeProvider.System, null), functions, new NoStreams(), options, TimeProvider.System);
        _api = new LambdaApi(functions, new InvokeOperation(functions, invoker, options), mappings, new FunctionUpdates(catalog, functions, code, launch, TimeProvider.System));
    }

    private sealed class NoStreams : IEventSourceStreams
    {
        public bool Exists(string account, string arn) => false;
    }

    public async ValueTask DisposeAsync()
    {
        await _runtimes.DisposeAsync();
        _metadata.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<LambdaAnswer> Call(string method, string path, string? body = null, Dictionary<string, string>? headers = null) =>
        _api.HandleAsync(new LambdaRequest(method, path.Split('/').ToList(), new Dictionary<string, string>(), headers ?? [],
            body is null ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(body), Account), CancellationToken.None);

    private async Task<(JsonElement Payload, string? Error)> Invoke(string function, string payload)
    {
        var answer = await Call("POST", $"functions/{function}/invocations", payload);
        Assert.Equal(200, answer.StatusCode);
        return (JsonDocument.Parse(answer.Body).RootElement.Clone(), answer.Headers.GetValueOrDefault("X-Amz-Function-Error"));
    }

    private static string Zip(params (string Name, string Text)[] files)
    {
        var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, text) in files)
            {
                var entry = zip.CreateEntry(name);
                entry.ExternalAttributes = Convert.ToInt32("100755", 8) << 16;
                using var writer = new StreamWriter(entry.Open());
                writer.Write(text);
            }
        }
        return Convert.ToBase64String(buffer.ToArray());
    }

    private async Task CreateZip(string name, string zipBase64, int timeout = 3, string environment = "")
    {
        var created = await Call("POST", "functions",
            $$$"""{"FunctionName":"{{{name}}}","Role":"{{{Role}}}","Runtime":"provided.al2023","Handler":"my.handler","Timeout":{{{timeout}}},"Code":{"ZipFile":"{{{zipBase64}}}"}{{{environment}}}}""");
        Assert.Equal(201, created.StatusCode);
    }

    [Fact(Timeout = Timeout)]
    public async Task A_custom_runtimes_bootstrap_serves_invocations_warm_with_lambdas_environment_and_errors()
    {
        await CreateZip("echo", Zip(("bootstrap", Bootstrap)), environment: ""","Environment":{"Variables":{"MINE":"yes"}}""");
        var configuration = JsonDocument.Parse((await Call("GET", "functions/echo")).Body).RootElement;
        Assert.Equal("Zip", configuration.GetProperty("Configuration").GetProperty("PackageType").GetString());
        Assert.True(configuration.GetProperty("Configuration").GetProperty("CodeSize").GetInt64() > 100);

        var (first, error) = await Invoke("echo", """{"n":1}""");
        Assert.Null(error);
        Assert.Equal(1, first.GetProperty("echo").GetProperty("n").GetInt32());
        Assert.Equal("arn:aws:lambda:eu-west-1:123456789012:function:echo", first.GetProperty("arn").GetString());
        long deadline = first.GetProperty("deadline").GetInt64();
        Assert.InRange(deadline - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), -1000, 3000);
        var env = first.GetProperty("env");
        Assert.Equal("echo", env.GetProperty("AWS_LAMBDA_FUNCTION_NAME").GetString());
        Assert.Equal("128", env.GetProperty("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").GetString());
        Assert.Equal("$LATEST", env.GetProperty("AWS_LAMBDA_FUNCTION_VERSION").GetString());
        Assert.Equal("my.handler", env.GetProperty("_HANDLER").GetString());
        Assert.Equal("eu-west-1", env.GetProperty("AWS_REGION").GetString());
        Assert.Equal("yes", env.GetProperty("MINE").GetString());
        Assert.Equal("AWS_Lambda_provided.al2023", env.GetProperty("AWS_EXECUTION_ENV").GetString());
        Assert.True(File.Exists(Path.Combine(env.GetProperty("LAMBDA_TASK_ROOT").GetString()!, "bootstrap")));

        var (second, _) = await Invoke("echo", """{"n":2}""");
        Assert.Equal(first.GetProperty("pid").GetInt32(), second.GetProperty("pid").GetInt32()); // warm: the same process
        Assert.NotEqual(first.GetProperty("requestId").GetString(), second.GetProperty("requestId").GetString());

        var (failed, failure) = await Invoke("echo", """{"action":"fail"}""");
        Assert.Equal("Unhandled", failure);
        Assert.Equal(("Boom", "it failed"), (failed.GetProperty("errorType").GetString(), failed.GetProperty("errorMessage").GetString()));
        var (after, _) = await Invoke("echo", """{"n":3}""");
        Assert.Equal(first.GetProperty("pid").GetInt32(), after.GetProperty("pid").GetInt32()); // an error does not end the process

        Assert.Equal(204, (await Call("DELETE", "functions/echo")).StatusCode);
        Assert.Null(_runtimes.Find("echo")); // its processes stopped
        Assert.False(Directory.EnumerateDirectories(Path.Combine(_dir, "code")).Any()); // its unpacked code removed
        Assert.Empty(_metadata.ReadDocuments(FunctionCodeStore.Kind));
    }

    [Fact(Timeout = Timeout)]
    public async Task A_timeout_kills_the_process_and_the_next_invocation_starts_a_new_one()
    {
        await CreateZip("slow", Zip(("bootstrap", Bootstrap)), timeout: 2);
        var (warm, _) = await Invoke("slow", "{}");
        var (timedOut, error) = await Invoke("slow", """{"action":"sleep","seconds":30}""");
        Assert.Equal("Unhandled", error);
        Assert.Equal("Sandbox.Timedout", timedOut.GetProperty("errorType").GetString());
        Assert.EndsWith("Task timed out after 2.00 seconds", timedOut.GetProperty("errorMessage").GetString());
        var (fresh, freshError) = await Invoke("slow", "{}");
        Assert.Null(freshError);
        Assert.NotEqual(warm.GetProperty("pid").GetInt32(), fresh.GetProperty("pid").GetInt32());
        Assert.Equal(1, _runtimes.Find("slow")!.Sandboxes);
    }

    [Fact(Timeout = Timeout)]
    public async Task A_process_that_exits_fails_its_invocation_and_concurrent_invocations_get_processes_of_their_own()
    {
        await CreateZip("busy", Zip(("bootstrap", Bootstrap)), timeout: 10);
        var (exited, error) = await Invoke("busy", """{"action":"exit"}""");
        Assert.Equal("Unhandled", error);
        Assert.Equal("Runtime.ExitError", exited.GetProperty("errorType").GetString());
        Assert.EndsWith("Runtime exited with error: exit status 3", exited.GetProperty("errorMessage").GetString());

        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Invoke("busy", """{"action":"sleep","seconds":1}""")));
        Assert.All(answers, a => Assert.Null(a.Error));
        Assert.Equal(3, answers.Select(a => a.Payload.GetProperty("pid").GetInt32()).Distinct().Count());
        Assert.Equal(3, _runtimes.Find("busy")!.Sandboxes);

        // At most MaxConcurrency (3) processes: a fourth and fifth invocation wait for one of them.
        answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Invoke("busy", """{"action":"sleep","seconds":1}""")));
        Assert.All(answers, a => Assert.Null(a.Error));
        Assert.InRange(answers.Select(a => a.Payload.GetProperty("pid").GetInt32()).Distinct().Count(), 1, 3);
        Assert.Equal(3, _runtimes.Find("busy")!.Sandboxes);
    }

    [Fact(Timeout = Timeout)]
    public async Task Init_errors_and_missing_bootstraps_are_the_invocations_errors()
    {
        await CreateZip("broken", Zip(("bootstrap", Bootstrap), ("init-fails", "")));
        var (initError, error) = await Invoke("broken", "{}");
        Assert.Equal("Unhandled", error);
        Assert.Equal(("Runtime.ImportModuleError", "no module"), (initError.GetProperty("errorType").GetString(), initError.GetProperty("errorMessage").GetString()));

        await CreateZip("empty", Zip(("README", "no bootstrap here")));
        var (missing, missingError) = await Invoke("empty", "{}");
        Assert.Equal("Unhandled", missingError);
        Assert.Equal("Runtime.InvalidEntrypoint", missing.GetProperty("errorType").GetString());
        Assert.Contains("Couldn't find valid bootstrap(s)", missing.GetProperty("errorMessage").GetString());
    }

    [Fact(Timeout = Timeout)]
    public async Task An_images_entry_point_and_a_local_directory_run_as_processes()
    {
        string code = Path.Combine(_dir, "local");
        Directory.CreateDirectory(code);
        File.WriteAllText(Path.Combine(code, "handler.py"), Bootstrap);
        File.WriteAllText(Path.Combine(code, "bootstrap"), Bootstrap);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path.Combine(code, "bootstrap"), (UnixFileMode)Convert.ToInt32("755", 8));

        var image = await Call("POST", "functions", $$"""
            {"FunctionName":"image","Role":"{{Role}}","PackageType":"Image","Code":{"ImageUri":"local/handler:latest"},
             "ImageConfig":{"EntryPoint":["/usr/bin/python3"],"Command":["handler.py"],"WorkingDirectory":"{{code}}"} }
            """);
        Assert.Equal(201, image.StatusCode);
        var imageConfig = JsonDocument.Parse(image.Body).RootElement.GetProperty("ImageConfigResponse").GetProperty("ImageConfig");
        Assert.Equal("/usr/bin/python3", imageConfig.GetProperty("EntryPoint")[0].GetString());
        var (fromImage, error) = await Invoke("image", """{"from":"image"}""");
        Assert.Null(error);
        Assert.Equal("image", fromImage.GetProperty("echo").GetProperty("from").GetString());
        Assert.Equal("handler.py", fromImage.GetProperty("env").GetProperty("_HANDLER").GetString());

        var local = await Call("POST", "functions", $$"""
            {"FunctionName":"local","Role":"{{Role}}","Runtime":"provided.al2","Handler":"x","Code":{"S3Bucket":"hot-reload","S3Key":"{{code}}"} }
            """);
        Assert.Equal(201, local.StatusCode);
        var (fromDirectory, localError) = await Invoke("local", """{"from":"directory"}""");
        Assert.Null(localError);
        Assert.Equal(code, fromDirectory.GetProperty("env").GetProperty("LAMBDA_TASK_ROOT").GetString());
    }

    [Fact(Timeout = Timeout)]
    public async Task New_code_and_configuration_run_in_new_processes()
    {
        await CreateZip("changing", Zip(("bootstrap", Bootstrap)));
        var (before, _) = await Invoke("changing", """{"v":1}""");
        string revision = JsonDocument.Parse((await Call("GET", "functions/changing")).Body).RootElement.GetProperty("Configuration").GetProperty("RevisionId").GetString()!;

        var configured = await Call("PUT", "functions/changing/configuration", $$"""{"Timeout":7,"MemorySize":256,"Environment":{"Variables":{"MINE":"changed"} },"RevisionId":"{{revision}}"}""");
        Assert.Equal(200, configured.StatusCode);
        var configuration = JsonDocument.Parse(configured.Body).RootElement;
        Assert.Equal((7, 256), (configuration.GetProperty("Timeout").GetInt32(), configuration.GetProperty("MemorySize").GetInt32()));
        Assert.NotEqual(revision, configuration.GetProperty("RevisionId").GetString());
        var (after, _) = await Invoke("changing", "{}");
        Assert.NotEqual(before.GetProperty("pid").GetInt32(), after.GetProperty("pid").GetInt32());
        Assert.Equal(("changed", "256"), (after.GetProperty("env").GetProperty("MINE").GetString(), after.GetProperty("env").GetProperty("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").GetString()));

        var stale = await Assert.ThrowsAsync<LambdaException>(() => Call("PUT", "functions/changing/code", $$"""{"ZipFile":"{{Zip(("bootstrap", Bootstrap))}}","RevisionId":"{{revision}}"}"""));
        Assert.Equal(("PreconditionFailedException", 412), (stale.ErrorType, stale.StatusCode));

        string echo = Bootstrap.Replace("\"echo\": event", "\"echo\": event, \"version\": 2", StringComparison.Ordinal);
        var updated = await Call("PUT", "functions/changing/code", $$"""{"ZipFile":"{{Zip(("bootstrap", echo))}}"}""");
        Assert.Equal(200, updated.StatusCode);
        var (newCode, error) = await Invoke("changing", "{}");
        Assert.Null(error);
        Assert.Equal(2, newCode.GetProperty("version").GetInt32());
        Assert.Single(_metadata.ReadDocuments(FunctionCodeStore.Kind).Select(d => d.Key.Split('/')[1]).Distinct()); // the old code is gone
        var imageUri = await Assert.ThrowsAsync<LambdaException>(() => Call("PUT", "functions/changing/code", """{"ImageUri":"repo/image:2"}"""));
        Assert.Equal("Please don't provide ImageUri when updating a function with packageType Zip.", imageUri.Message);
    }

    [Fact]
    public void A_server_that_runs_no_processes_refuses_code_that_needs_them_and_takes_endpoints()
    {
        var options = new RuntimeOptions { CodeDirectory = Path.Combine(_dir, "code"), ProcessesRefused = "no processes here" };
        var code = new FunctionCode(new FunctionCodeStore(_metadata), new FunctionLaunch(new FunctionCodeStore(_metadata), options, "eu-west-1"), null);
        using var zip = JsonDocument.Parse($$"""{"ZipFile":"{{Zip(("bootstrap", Bootstrap))}}"}""");
        var refused = Assert.Throws<LambdaException>(() => code.Parse(zip.RootElement, zip.RootElement, "Zip", "provided.al2023", "h"));
        Assert.Equal(("InvalidParameterValueException", "no processes here"), (refused.ErrorType, refused.Message));
        using var image = JsonDocument.Parse("""{"ImageConfig":{"EntryPoint":["/bin/true"]},"Code":{"ImageUri":"local/x"}}""");
        Assert.Throws<LambdaException>(() => code.Parse(image.RootElement, image.RootElement.GetProperty("Code"), "Image", null, null));
        using var endpoint = JsonDocument.Parse("""{"Code":{"ImageUri":"http://127.0.0.1:9/"}}""");
        Assert.Equal("http://127.0.0.1:9/", code.Parse(endpoint.RootElement, endpoint.RootElement.GetProperty("Code"), "Image", null, null).ImageUri);
        var launch = Assert.Throws<LaunchException>(() => new FunctionLaunch(new FunctionCodeStore(_metadata), options, "eu-west-1").For(new LambdaFunction
        {
            Name = "old",
            Arn = "arn:aws:lambda:eu-west-1:123456789012:function:old",
            Role = Role,
            PackageType = "Zip",
            Runtime = "provided.al2023",
            CodeSha256 = "",
            LastModifiedMillis = 0,
            RevisionId = "r",
        }));
        Assert.Equal(("Runtime.Unavailable", "no processes here"), (launch.ErrorType, launch.Message)); // made before the server stopped running them
    }

    [Fact(Timeout = Timeout)]
    public async Task CreateFunction_refuses_code_it_cannot_run_in_lambdas_words()
    {
        async Task<LambdaException> Refused(string body) => await Assert.ThrowsAsync<LambdaException>(() => Call("POST", "functions", body));

        var noHandler = await Refused($$$"""{"FunctionName":"a","Role":"{{{Role}}}","Runtime":"provided.al2023","Code":{"ZipFile":"{{{Zip(("bootstrap", "x"))}}}"}}""");
        Assert.Equal(("InvalidParameterValueException", "Runtime and Handler are mandatory parameters for functions created with deployment packages."), (noHandler.ErrorType, noHandler.Message));
        var notZip = await Refused($$$"""{"FunctionName":"a","Role":"{{{Role}}}","Runtime":"provided.al2023","Handler":"h","Code":{"ZipFile":"bm90IGEgemlw"}}""");
        Assert.Equal("Could not unzip uploaded file. Please check your file, then try to upload again.", notZip.Message);
        var python = await Refused($$$"""{"FunctionName":"a","Role":"{{{Role}}}","Runtime":"python3.12","Handler":"h","Code":{"ZipFile":"{{{Zip(("a.py", "x"))}}}"}}""");
        Assert.Equal("InvalidParameterValueException", python.ErrorType);
        Assert.StartsWith("Runnel does not run the runtime python3.12", python.Message);
        var s3 = await Refused($$$"""{"FunctionName":"a","Role":"{{{Role}}}","Runtime":"provided.al2023","Handler":"h","Code":{"S3Bucket":"code","S3Key":"a.zip"}}""");
        Assert.Contains("cannot read code from s3://code", s3.Message);
        var noDirectory = await Refused($$$"""{"FunctionName":"a","Role":"{{{Role}}}","Runtime":"provided.al2023","Handler":"h","Code":{"S3Bucket":"hot-reload","S3Key":"/no/such/dir"}}""");
        Assert.Contains("'/no/such/dir' is not one", noDirectory.Message);
        var reserved = await Refused($$$"""{"FunctionName":"a","Role":"{{{Role}}}","PackageType":"Image","Code":{"ImageUri":"http://127.0.0.1:9/"},"Environment":{"Variables":{"AWS_REGION":"x","OK":"1"} } }""");
        Assert.Equal("InvalidParameterValueException", reserved.ErrorType);
        Assert.EndsWith("Reserved keys used in this request: AWS_REGION", reserved.Message);
        var image = await Refused($$$"""{"FunctionName":"a","Role":"{{{Role}}}","PackageType":"Image","Code":{"ImageUri":"repo/image:1"}}""");
        Assert.StartsWith("Runnel runs an image's code as ImageConfig.EntryPoint", image.Message);
    }
}
