using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Runnel.Functions.Catalog;
using Runnel.Functions.Runtime;

namespace Runnel.Functions.Api;

/// <summary>A function's code as CreateFunction gives it, checked: where it runs and what to keep of it.</summary>
public sealed record CodeParts
{
    public string? ImageUri { get; init; }

    public IReadOnlyList<string> EntryPoint { get; init; } = [];

    public IReadOnlyList<string> Command { get; init; } = [];

    public string? WorkingDirectory { get; init; }

    public string? CodeDirectory { get; init; }

    /// <summary>Uploaded Zip code, to store.</summary>
    public byte[]? Zip { get; init; }

    public required byte[] Sha256 { get; init; }

    public long Size { get; init; }
}

/// <summary>
/// A function's code in Runnel's terms (docs/compatibility.md, "Lambda"): <c>Image</c> with <c>Code.ImageUri</c> an
/// http(s) URL (the function runs there), or with <c>ImageConfig.EntryPoint</c> (the command runs as the image would,
/// serving the Runtime API); <c>Zip</c> as <c>ZipFile</c> (kept in the metadata store) or as <c>S3Bucket</c>
/// <c>hot-reload</c> with <c>S3Key</c> a local directory (used in place), with a runtime Runnel runs. Parses, checks in
/// Lambda's words, stores and forgets code. Thread-safe.
/// </summary>
public sealed class FunctionCode(FunctionCodeStore store, FunctionLaunch launch, FunctionRuntimes? runtimes)
{
    /// <summary>LocalStack's bucket name for code used in place from a local directory; Runnel takes the same.</summary>
    public const string HotReloadBucket = "hot-reload";

    public CodeParts Parse(JsonElement body, JsonElement code, string packageType, string? runtime, string? handler) =>
        Allowed(packageType == "Image" ? ParseImage(body, code) : ParseZip(code, runtime, handler));

    /// <summary>The code, unless it runs in processes and this server runs none (then Lambda's error, saying why).</summary>
    private CodeParts Allowed(CodeParts parts) =>
        parts.ImageUri is not null && parts.EntryPoint.Count == 0 || launch.ProcessesRefused is not { } refused
            ? parts
            : throw LambdaErrors.InvalidParameter(refused);

    private static CodeParts ParseImage(JsonElement body, JsonElement code)
    {
        string? imageUri = String(code, "ImageUri");
        if (imageUri is null)
            throw LambdaErrors.InvalidParameter("Please provide ImageUri when PackageType is Image.");
        var config = body.TryGetProperty("ImageConfig", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        return Image(imageUri, Strings(config, "EntryPoint"), Strings(config, "Command"), String(config, "WorkingDirectory"));
    }

    /// <summary>
    /// UpdateFunctionCode's code for a function as it is: a Zip function takes a new ZipFile or hot-reload directory
    /// (its runtime and handler as they are), an image a new ImageUri (its ImageConfig as it is).
    /// </summary>
    public CodeParts ParseUpdate(JsonElement body, LambdaFunction current)
    {
        if (current.PackageType == "Image")
        {
            if (String(body, "ZipFile") is not null || String(body, "S3Bucket") is not null)
                throw LambdaErrors.InvalidParameter("Please don't provide ZipFile, S3Bucket or S3Key when updating a function with packageType Image.");
            string imageUri = String(body, "ImageUri") ?? throw LambdaErrors.InvalidParameter("Please provide ImageUri when updating a function with packageType Image.");
            return Allowed(Image(imageUri, current.EntryPoint, current.Command, current.WorkingDirectory));
        }
        if (String(body, "ImageUri") is not null)
            throw LambdaErrors.InvalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.");
        return Allowed(ParseZip(body, current.Runtime, current.Handler));
    }

    /// <summary>Checks an image's configuration given on its own (UpdateFunctionConfiguration), as a new one for the function.</summary>
    public static CodeParts ImageConfig(JsonElement config, LambdaFunction current) =>
        Image(current.ImageUri ?? "", Strings(config, "EntryPoint") is { Length: > 0 } entryPoint ? entryPoint : current.EntryPoint,
            config.TryGetProperty("Command", out _) ? Strings(config, "Command") : current.Command,
            config.TryGetProperty("WorkingDirectory", out _) ? String(config, "WorkingDirectory") : current.WorkingDirectory);

    private static CodeParts Image(string imageUri, IReadOnlyList<string> entryPoint, IReadOnlyList<string> command, string? workingDirectory)
    {
        if (entryPoint.Count > 0)
        {
            if (workingDirectory is not null && !Directory.Exists(workingDirectory))
                throw LambdaErrors.InvalidParameter($"ImageConfig.WorkingDirectory {workingDirectory} is not a directory on this server.");
            return new CodeParts
            {
                ImageUri = imageUri,
                EntryPoint = entryPoint,
                Command = command,
                WorkingDirectory = workingDirectory,
                Sha256 = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', [imageUri, .. entryPoint, .. command]))),
                Size = 0,
            };
        }
        if (!Uri.TryCreate(imageUri, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw LambdaErrors.InvalidParameter("Runnel runs an image's code as ImageConfig.EntryPoint (a command on this server that serves Lambda's Runtime API), "
                + "or at Code.ImageUri when it is an http:// or https:// URL that answers POSTed invocation payloads (docs/compatibility.md, \"Lambda\").");
        return new CodeParts { ImageUri = imageUri, Sha256 = SHA256.HashData(Encoding.UTF8.GetBytes(imageUri)) };
    }

    private CodeParts ParseZip(JsonElement code, string? runtime, string? handler)
    {
        if (runtime is null || handler is null)
            throw LambdaErrors.InvalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
        if (String(code, "ImageUri") is not null)
            throw LambdaErrors.InvalidParameter("Please don't provide ImageUri when PackageType is Zip.");
        if (!launch.Runs(runtime))
            throw LambdaErrors.InvalidParameter($"Runnel does not run the runtime {runtime}: Zip code runs with a custom runtime (provided.al2023, provided.al2: "
                + "the code's bootstrap serves Lambda's Runtime API) or, where npm's aws-lambda-ric is installed, a nodejs runtime; "
                + "an image's EntryPoint or an HTTP endpoint runs any code (docs/compatibility.md, \"Lambda\").");
        if (String(code, "ZipFile") is { } base64)
        {
            byte[] zip;
            try
            {
                zip = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                throw LambdaErrors.InvalidRequestContent("Could not parse request body into json: Code.ZipFile is not base64.");
            }
            try
            {
                using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
                _ = archive.Entries.Count;
            }
            catch (InvalidDataException)
            {
                throw LambdaErrors.InvalidParameter("Could not unzip uploaded file. Please check your file, then try to upload again.");
            }
            return new CodeParts { Zip = zip, Sha256 = SHA256.HashData(zip), Size = zip.Length };
        }
        string? bucket = String(code, "S3Bucket");
        if (bucket == HotReloadBucket)
        {
            string directory = String(code, "S3Key") ?? "";
            if (!Path.IsPathRooted(directory) || !Directory.Exists(directory))
                throw LambdaErrors.InvalidParameter($"With S3Bucket {HotReloadBucket}, S3Key is the absolute path of a directory on this server holding the code; '{directory}' is not one.");
            return new CodeParts { CodeDirectory = directory, Sha256 = SHA256.HashData(Encoding.UTF8.GetBytes(directory)) };
        }
        if (bucket is not null)
            throw LambdaErrors.InvalidParameter($"Runnel keeps no S3 buckets, so it cannot read code from s3://{bucket}: give the code as ZipFile, or as S3Bucket "
                + $"{HotReloadBucket} with S3Key a local directory (docs/compatibility.md, \"Lambda\").");
        throw LambdaErrors.InvalidParameter("Please provide a source for function code.");
    }

    /// <summary>Keeps uploaded code (before the function is written) and gives the function with its chunk count.</summary>
    public LambdaFunction Store(LambdaFunction function, CodeParts parts) => parts.Zip is { } zip
        ? function with { CodeChunks = store.Save(function.Name, Convert.ToHexStringLower(parts.Sha256), zip) }
        : function;

    /// <summary>After a function's code changed: drops the old uploaded code and stops the processes running it (the next invocation starts the new code).</summary>
    public async Task ReplacedAsync(LambdaFunction old, LambdaFunction updated)
    {
        if (old.CodeChunks > 0 && old.CodeSha256 != updated.CodeSha256)
            store.Delete(old.Name, Convert.ToHexStringLower(Convert.FromBase64String(old.CodeSha256)), old.CodeChunks);
        if (runtimes is not null)
            await runtimes.ForgetAsync(old.Name).ConfigureAwait(false);
    }

    /// <summary>Drops a deleted function's code and stops its processes.</summary>
    public async Task DeletedAsync(LambdaFunction function)
    {
        if (function.CodeChunks > 0)
            store.Delete(function.Name, Convert.ToHexStringLower(Convert.FromBase64String(function.CodeSha256)), function.CodeChunks);
        if (runtimes is not null)
            await runtimes.ForgetAsync(function.Name).ConfigureAwait(false);
    }

    /// <summary>The variables CreateFunction refuses (Lambda sets them itself), as Lambda names them.</summary>
    public static void CheckVariables(IEnumerable<string> names)
    {
        var reserved = names.Where(FunctionLaunch.ReservedVariables.Contains).ToList();
        if (reserved.Count > 0)
            throw LambdaErrors.InvalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided "
                + $"contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {string.Join(", ", reserved)}");
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] Strings(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)]
            : [];
}
