using System.IO.Compression;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Runtime;

/// <summary>
/// How a function's process starts (docs/compatibility.md, "Lambda"): an image's <c>EntryPoint</c> and <c>Command</c>;
/// Zip code with a <c>provided</c> runtime runs its <c>bootstrap</c>; Zip code with a <c>nodejs</c> runtime runs npm's
/// <c>aws-lambda-ric</c> (its <c>index.mjs</c>), which takes the handler from <c>_HANDLER</c>. Uploaded code is unpacked once per version under
/// <see cref="RuntimeOptions.CodeDirectory"/>. The environment is Lambda's (function name, memory, version, handler,
/// region, task root, log names), the function's own variables, and <c>PATH</c>. Thread-safe.
/// </summary>
public sealed class FunctionLaunch(FunctionCodeStore code, RuntimeOptions options, string region)
{
    /// <summary>The variables Lambda sets itself, which a function may not set (CreateFunction refuses them).</summary>
    public static readonly IReadOnlySet<string> ReservedVariables = new HashSet<string>(StringComparer.Ordinal)
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    };

    /// <summary>Whether Runnel runs Zip code of this runtime (custom runtimes always; Node.js when the client is installed).</summary>
    public bool Runs(string runtime) => runtime.StartsWith("provided", StringComparison.Ordinal)
        || (runtime.StartsWith("nodejs", StringComparison.Ordinal) && options.NodeRuntimeClient is not null);

    /// <summary>Why this server runs no function code in processes, or null when it does (<see cref="RuntimeOptions.ProcessesRefused"/>).</summary>
    public string? ProcessesRefused => options.ProcessesRefused;

    /// <exception cref="LaunchException">The code is missing or names nothing to run, or this server runs none.</exception>
    public LaunchSpec For(LambdaFunction function)
    {
        if (options.ProcessesRefused is { } refused)
            throw new LaunchException("Runtime.Unavailable", refused);
        if (function.PackageType == "Image")
        {
            string directory = function.WorkingDirectory ?? Environment.CurrentDirectory;
            return new LaunchSpec(function.EntryPoint[0], [.. function.EntryPoint.Skip(1), .. function.Command], directory,
                EnvironmentOf(function, directory, directory, function.Command.FirstOrDefault() ?? ""));
        }
        string root = function.CodeDirectory ?? Unpack(function);
        string runtime = function.Runtime ?? "";
        if (runtime.StartsWith("nodejs", StringComparison.Ordinal) && options.NodeRuntimeClient is { } client)
        {
            var environment = EnvironmentOf(function, root, client, function.Handler ?? "");
            environment["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + runtime;
            environment["NODE_PATH"] = string.Join(':', Path.Combine(root, "node_modules"), root);
            return new LaunchSpec("node", [Path.Combine(client, "index.mjs")], root, environment); // the handler is read from _HANDLER
        }
        string bootstrap = Path.Combine(root, "bootstrap");
        if (!File.Exists(bootstrap))
            throw new LaunchException("Runtime.InvalidEntrypoint", $"Couldn't find valid bootstrap(s): [{bootstrap}]");
        var variables = EnvironmentOf(function, root, root, function.Handler ?? "");
        variables["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + runtime;
        return new LaunchSpec(bootstrap, [], root, variables);
    }

    private Dictionary<string, string> EnvironmentOf(LambdaFunction function, string taskRoot, string runtimeDirectory, string handler)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
            ["LANG"] = "en_US.UTF-8",
            ["TZ"] = ":UTC",
            ["_HANDLER"] = handler,
            ["AWS_REGION"] = region,
            ["AWS_DEFAULT_REGION"] = region,
            ["AWS_LAMBDA_FUNCTION_NAME"] = function.Name,
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = function.MemorySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST",
            ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand",
            ["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + function.Name,
            ["LAMBDA_TASK_ROOT"] = taskRoot,
            ["LAMBDA_RUNTIME_DIR"] = runtimeDirectory,
        };
        if (options.EndpointUrl?.Invoke() is { } endpoint)
            variables["AWS_ENDPOINT_URL"] = endpoint;
        foreach (var (key, value) in function.Environment)
            variables[key] = value;
        return variables;
    }

    /// <summary>The directory the function's uploaded code is unpacked in, unpacking it first if this node has not yet.</summary>
    private string Unpack(LambdaFunction function)
    {
        string sha = Convert.ToHexStringLower(Convert.FromBase64String(function.CodeSha256));
        string directory = Path.Combine(options.CodeDirectory, $"{function.Name}-{sha[..16]}");
        if (Directory.Exists(directory))
            return directory;
        byte[] zip = code.Load(function.Name, sha, function.CodeChunks)
            ?? throw new LaunchException("Runtime.InvalidEntrypoint", $"The code of function {function.Name} is missing from the metadata store (it was deleted or changed meanwhile).");
        string unpacking = directory + ".unpacking-" + Guid.NewGuid().ToString("N");
        try
        {
            Directory.CreateDirectory(unpacking);
            ZipFile.ExtractToDirectory(new MemoryStream(zip), unpacking);
            string bootstrap = Path.Combine(unpacking, "bootstrap");
            if (File.Exists(bootstrap) && !OperatingSystem.IsWindows())
                File.SetUnixFileMode(bootstrap, File.GetUnixFileMode(bootstrap) | UnixFileMode.UserExecute | UnixFileMode.UserRead);
            Directory.Move(unpacking, directory);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            TryDelete(unpacking);
            if (Directory.Exists(directory))
                return directory; // another start unpacked it meanwhile
            throw new LaunchException("Runtime.InvalidEntrypoint", $"The code of function {function.Name} could not be unpacked into {directory}: {e.Message}");
        }
        return directory;
    }

    /// <summary>Removes what this node unpacked of a function's code (all versions), after it was changed or deleted.</summary>
    public void Forget(string functionName)
    {
        if (!Directory.Exists(options.CodeDirectory))
            return;
        foreach (string directory in Directory.EnumerateDirectories(options.CodeDirectory, functionName + "-*"))
        {
            string suffix = Path.GetFileName(directory)[(functionName.Length + 1)..];
            if (suffix.Length >= 16 && suffix[..16].All(char.IsAsciiHexDigitLower))
                TryDelete(directory);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
