using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Api;

/// <summary>
/// CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions and DeleteFunction: parse, check in Lambda's
/// order (the model's constraints, then what Runnel can run), decide with the <see cref="FunctionCatalog"/>, answer
/// Lambda's shapes. Thread-safe.
/// </summary>
public sealed class FunctionOperations(FunctionCatalog catalog, FunctionCode code, FunctionsOptions options, TimeProvider clock)
{
    private const int DefaultMaxItems = 50;

    public LambdaAnswer Create(LambdaRequest request)
    {
        using var document = Parse(request.Body);
        var body = document.RootElement;
        string name = FunctionNames.Parse(RequiredString(body, "FunctionName", "functionName"), "functionName", options.Region, request.AccountId, maxLength: 140);
        if (name.Length > 64)
            throw LambdaErrors.Validation(name, "functionName", "Member must have length less than or equal to 64");
        string role = RequiredString(body, "Role", "role");
        var settings = FunctionSettings.Parse(body);
        if (!body.TryGetProperty("Code", out var codeGiven) || codeGiven.ValueKind != JsonValueKind.Object)
            throw LambdaErrors.Validation("null", "code", "Member must not be null");
        string packageType = OptionalString(body, "PackageType") ?? "Zip";
        if (packageType is not ("Zip" or "Image"))
            throw LambdaErrors.Validation(packageType, "packageType", "Member must satisfy enum value set: [Zip, Image]");
        settings.CheckValues();
        string? runtime = settings.Runtime, handler = settings.Handler;
        var parts = code.Parse(body, codeGiven, packageType, runtime, handler);
        if (catalog.Find(name) is not null)
            throw LambdaErrors.FunctionExists(name);

        var function = new LambdaFunction
        {
            Name = name,
            Arn = FunctionNames.Arn(options.Region, request.AccountId, name),
            Role = role,
            PackageType = packageType,
            Runtime = runtime,
            Handler = handler,
            ImageUri = parts.ImageUri,
            EntryPoint = parts.EntryPoint,
            Command = parts.Command,
            WorkingDirectory = parts.WorkingDirectory,
            CodeDirectory = parts.CodeDirectory,
            Description = settings.Description ?? "",
            Timeout = settings.Timeout ?? 3,
            MemorySize = settings.MemorySize ?? 128,
            Environment = settings.Environment ?? new Dictionary<string, string>(StringComparer.Ordinal),
            CodeSha256 = Convert.ToBase64String(parts.Sha256),
            CodeSize = parts.Size,
            LastModifiedMillis = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            RevisionId = Guid.NewGuid().ToString(),
        };
        function = code.Store(function, parts);
        if (!catalog.TryCreate(name, function))
            throw LambdaErrors.FunctionExists(name); // created meanwhile, with code of its own under its own revision
        return LambdaAnswer.Json(201, Write(json => WriteConfiguration(json, catalog.Find(name) ?? function)));
    }

    public LambdaAnswer Get(LambdaRequest request, string nameOrArn)
    {
        var function = Find(request, nameOrArn);
        return LambdaAnswer.Json(200, Write(json =>
        {
            json.WriteStartObject();
            json.WritePropertyName("Configuration");
            WriteConfiguration(json, function);
            json.WriteStartObject("Code");
            if (function.PackageType == "Image")
            {
                json.WriteString("RepositoryType", "ECR");
                json.WriteString("ImageUri", function.ImageUri);
                json.WriteString("ResolvedImageUri", function.ImageUri);
            }
            else
            {
                json.WriteString("RepositoryType", "S3");
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }));
    }

    public LambdaAnswer GetConfiguration(LambdaRequest request, string nameOrArn)
    {
        var function = Find(request, nameOrArn);
        return LambdaAnswer.Json(200, Write(json => WriteConfiguration(json, function)));
    }

    public LambdaAnswer List(LambdaRequest request)
    {
        int maxItems = DefaultMaxItems;
        if (request.Query.TryGetValue("MaxItems", out string? max))
        {
            if (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out maxItems) || maxItems is < 1 or > 10000)
                throw LambdaErrors.Validation(max, "maxItems", "Member must have value between 1 and 10000");
        }
        string? marker = request.Query.GetValueOrDefault("Marker");
        var all = catalog.All(); // ordered by name
        var page = all.Where(f => marker is null || string.CompareOrdinal(f.Name, marker) > 0).Take(maxItems + 1).ToList();
        string? next = page.Count > maxItems ? page[maxItems - 1].Name : null;
        return LambdaAnswer.Json(200, Write(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("Functions");
            foreach (var function in page.Take(maxItems))
                WriteConfiguration(json, function);
            json.WriteEndArray();
            if (next is not null)
                json.WriteString("NextMarker", next);
            json.WriteEndObject();
        }));
    }

    public async Task<LambdaAnswer> DeleteAsync(LambdaRequest request, string nameOrArn)
    {
        var function = Find(request, nameOrArn);
        catalog.Delete(function.Name);
        await code.DeletedAsync(function).ConfigureAwait(false);
        return LambdaAnswer.Empty(204);
    }

    /// <summary>The function of this name as stored now, or null when it was deleted.</summary>
    public LambdaFunction? Current(string name) => catalog.Find(name);

    /// <summary>The function named, or Lambda's not-found error.</summary>
    public LambdaFunction Find(LambdaRequest request, string nameOrArn)
    {
        string name = FunctionNames.Parse(nameOrArn, "functionName", options.Region, request.AccountId);
        return catalog.Find(name) ?? throw LambdaErrors.FunctionNotFound(FunctionNames.Arn(options.Region, request.AccountId, name));
    }

    /// <summary>A <c>FunctionConfiguration</c> as Lambda writes it.</summary>
    public static void WriteConfiguration(Utf8JsonWriter json, LambdaFunction f)
    {
        json.WriteStartObject();
        json.WriteString("FunctionName", f.Name);
        json.WriteString("FunctionArn", f.Arn);
        if (f.Runtime is { } runtime)
            json.WriteString("Runtime", runtime);
        json.WriteString("Role", f.Role);
        if (f.Handler is { } handler)
            json.WriteString("Handler", handler);
        json.WriteNumber("CodeSize", f.CodeSize);
        json.WriteString("Description", f.Description);
        json.WriteNumber("Timeout", f.Timeout);
        json.WriteNumber("MemorySize", f.MemorySize);
        json.WriteString("LastModified", DateTimeOffset.FromUnixTimeMilliseconds(f.LastModifiedMillis).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture));
        json.WriteString("CodeSha256", f.CodeSha256);
        json.WriteString("Version", "$LATEST");
        if (f.Environment.Count > 0)
        {
            json.WriteStartObject("Environment");
            json.WriteStartObject("Variables");
            foreach (var (key, value) in f.Environment)
                json.WriteString(key, value);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteStartObject("TracingConfig");
        json.WriteString("Mode", "PassThrough");
        json.WriteEndObject();
        json.WriteString("RevisionId", f.RevisionId);
        json.WriteString("State", "Active");
        json.WriteString("LastUpdateStatus", "Successful");
        json.WriteString("PackageType", f.PackageType);
        if (f.EntryPoint.Count > 0)
        {
            json.WriteStartObject("ImageConfigResponse");
            json.WriteStartObject("ImageConfig");
            WriteStrings(json, "EntryPoint", f.EntryPoint);
            if (f.Command.Count > 0)
                WriteStrings(json, "Command", f.Command);
            if (f.WorkingDirectory is { } workingDirectory)
                json.WriteString("WorkingDirectory", workingDirectory);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteStartArray("Architectures");
        json.WriteStringValue("x86_64");
        json.WriteEndArray();
        json.WriteStartObject("EphemeralStorage");
        json.WriteNumber("Size", 512);
        json.WriteEndObject();
        json.WriteStartObject("LoggingConfig");
        json.WriteString("LogFormat", "Text");
        json.WriteString("LogGroup", "/aws/lambda/" + f.Name);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }

    /// <summary>A JSON body written by <paramref name="write"/>.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
            write(json);
        return buffer.WrittenSpan.ToArray();
    }

    internal static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body.IsEmpty ? "{}"u8.ToArray() : body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            throw LambdaErrors.InvalidRequestContent("Could not parse request body into json: the body is not JSON.");
        }
    }

    private static string RequiredString(JsonElement body, string name, string member) =>
        OptionalString(body, name) ?? throw LambdaErrors.Validation("null", member, "Member must not be null");

    private static string? OptionalString(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? OptionalInt(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) ? number : null;
}
