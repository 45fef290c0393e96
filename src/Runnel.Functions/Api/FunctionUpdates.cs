using System.Text.Json;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Api;

/// <summary>
/// UpdateFunctionCode and UpdateFunctionConfiguration: parse, check as CreateFunction does (the model's constraints,
/// then Lambda's), apply to the function as stored (compare-and-set through the <see cref="FunctionCatalog"/>), answer
/// the new <c>FunctionConfiguration</c>. A change gives the function a new <c>RevisionId</c>, so the next invocation
/// runs in new processes; a code change also drops the old uploaded code. Thread-safe.
/// </summary>
public sealed class FunctionUpdates(FunctionCatalog catalog, FunctionOperations functions, FunctionCode code, Runtime.FunctionLaunch launch, TimeProvider clock)
{
    public async Task<LambdaAnswer> CodeAsync(LambdaRequest request, string nameOrArn)
    {
        using var document = FunctionOperations.Parse(request.Body);
        var body = document.RootElement;
        var current = functions.Find(request, nameOrArn);
        CheckRevision(body, current);
        var parts = code.ParseUpdate(body, current);
        int chunks = code.Store(current with { CodeChunks = 0 }, parts).CodeChunks;
        return await ApplyAsync(current, old => Stamped(old with
        {
            ImageUri = parts.ImageUri ?? old.ImageUri,
            CodeDirectory = parts.CodeDirectory,
            CodeChunks = chunks,
            CodeSha256 = Convert.ToBase64String(parts.Sha256),
            CodeSize = parts.Size,
        }), codeChanged: true).ConfigureAwait(false);
    }

    public async Task<LambdaAnswer> ConfigurationAsync(LambdaRequest request, string nameOrArn)
    {
        using var document = FunctionOperations.Parse(request.Body);
        var body = document.RootElement;
        var settings = FunctionSettings.Parse(body);
        var current = functions.Find(request, nameOrArn);
        settings.CheckValues();
        CheckRevision(body, current);
        if (current.PackageType == "Zip" && settings.Runtime is { } runtime && !launch.Runs(runtime))
            throw LambdaErrors.InvalidParameter($"Runnel does not run the runtime {runtime} (docs/compatibility.md, \"Lambda\").");
        CodeParts? image = null;
        if (body.TryGetProperty("ImageConfig", out var config) && config.ValueKind == JsonValueKind.Object)
        {
            if (current.PackageType != "Image")
                throw LambdaErrors.InvalidParameter("ImageConfig is only for functions of packageType Image.");
            image = FunctionCode.ImageConfig(config, current);
        }
        return await ApplyAsync(current, old => Stamped(old with
        {
            Role = settings.Role ?? old.Role,
            Description = settings.Description ?? old.Description,
            Timeout = settings.Timeout ?? old.Timeout,
            MemorySize = settings.MemorySize ?? old.MemorySize,
            Handler = settings.Handler ?? old.Handler,
            Runtime = settings.Runtime ?? old.Runtime,
            Environment = settings.Environment ?? old.Environment,
            EntryPoint = image?.EntryPoint ?? old.EntryPoint,
            Command = image?.Command ?? old.Command,
            WorkingDirectory = image is null ? old.WorkingDirectory : image.WorkingDirectory,
            CodeSha256 = image is null ? old.CodeSha256 : Convert.ToBase64String(image.Sha256),
        }), codeChanged: false).ConfigureAwait(false);
    }

    private LambdaFunction Stamped(LambdaFunction f) =>
        f with { LastModifiedMillis = clock.GetUtcNow().ToUnixTimeMilliseconds(), RevisionId = Guid.NewGuid().ToString() };

    private async Task<LambdaAnswer> ApplyAsync(LambdaFunction current, Func<LambdaFunction, LambdaFunction> change, bool codeChanged)
    {
        var updated = catalog.Update(current.Name, change) ?? throw LambdaErrors.FunctionNotFound(current.Arn);
        if (codeChanged)
            await code.ReplacedAsync(current, updated).ConfigureAwait(false);
        return LambdaAnswer.Json(200, FunctionOperations.Write(json => FunctionOperations.WriteConfiguration(json, updated)));
    }

    /// <summary>A <c>RevisionId</c> given must be the function's (Lambda's optimistic lock).</summary>
    private static void CheckRevision(JsonElement body, LambdaFunction current)
    {
        if (FunctionSettings.String(body, "RevisionId") is { } revision && revision != current.RevisionId)
            throw new LambdaException("PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id", 412);
    }
}
