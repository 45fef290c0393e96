using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runnel.Functions.Catalog;

/// <summary>
/// A function's metadata document (kind <see cref="Kind"/>, key its name): a JSON object, its layout in
/// docs/formats/functions.md. Members this version does not know are ignored on reading. Thread-safe: stateless.
/// </summary>
public static class FunctionCodec
{
    public const string Kind = "function";

    public static byte[] Encode(LambdaFunction f)
    {
        var environment = new JsonObject();
        foreach (var (key, value) in f.Environment)
            environment[key] = value;
        var json = new JsonObject
        {
            ["name"] = f.Name,
            ["arn"] = f.Arn,
            ["role"] = f.Role,
            ["packageType"] = f.PackageType,
            ["description"] = f.Description,
            ["timeout"] = f.Timeout,
            ["memorySize"] = f.MemorySize,
            ["environment"] = environment,
            ["codeSha256"] = f.CodeSha256,
            ["codeSize"] = f.CodeSize,
            ["lastModified"] = f.LastModifiedMillis,
            ["revisionId"] = f.RevisionId,
        };
        if (f.Runtime is { } runtime)
            json["runtime"] = runtime;
        if (f.Handler is { } handler)
            json["handler"] = handler;
        if (f.ImageUri is { } imageUri)
            json["imageUri"] = imageUri;
        if (f.EntryPoint.Count > 0)
            json["entryPoint"] = Array(f.EntryPoint);
        if (f.Command.Count > 0)
            json["command"] = Array(f.Command);
        if (f.WorkingDirectory is { } workingDirectory)
            json["workingDirectory"] = workingDirectory;
        if (f.CodeDirectory is { } codeDirectory)
            json["codeDirectory"] = codeDirectory;
        if (f.CodeChunks > 0)
            json["codeChunks"] = f.CodeChunks;
        return JsonSerializer.SerializeToUtf8Bytes(json, FunctionsJsonContext.Default.JsonObject);
    }

    /// <exception cref="InvalidDataException">The body is not a function's document.</exception>
    public static LambdaFunction Decode(byte[] body, ulong revision)
    {
        try
        {
            var json = JsonNode.Parse(body)?.AsObject() ?? throw new InvalidDataException("The document is empty.");
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            if (json["environment"] is JsonObject variables)
                foreach (var (key, value) in variables)
                    environment[key] = value?.GetValue<string>() ?? "";
            return new LambdaFunction
            {
                Name = Required(json, "name"),
                Arn = Required(json, "arn"),
                Role = Required(json, "role"),
                PackageType = Required(json, "packageType"),
                Runtime = json["runtime"]?.GetValue<string>(),
                Handler = json["handler"]?.GetValue<string>(),
                ImageUri = json["imageUri"]?.GetValue<string>(),
                EntryPoint = Strings(json["entryPoint"]),
                Command = Strings(json["command"]),
                WorkingDirectory = json["workingDirectory"]?.GetValue<string>(),
                CodeDirectory = json["codeDirectory"]?.GetValue<string>(),
                CodeChunks = json["codeChunks"]?.GetValue<int>() ?? 0,
                Description = json["description"]?.GetValue<string>() ?? "",
                Timeout = json["timeout"]?.GetValue<int>() ?? 3,
                MemorySize = json["memorySize"]?.GetValue<int>() ?? 128,
                Environment = environment,
                CodeSha256 = Required(json, "codeSha256"),
                CodeSize = json["codeSize"]?.GetValue<long>() ?? 0,
                LastModifiedMillis = json["lastModified"]?.GetValue<long>() ?? 0,
                RevisionId = Required(json, "revisionId"),
                Revision = revision,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The function's document does not decode: {e.Message}", e);
        }
    }

    private static JsonArray Array(IReadOnlyList<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static string[] Strings(JsonNode? node) => node is JsonArray array ? [.. array.Select(v => v?.GetValue<string>() ?? "")] : [];

    private static string Required(JsonObject json, string name) =>
        json[name]?.GetValue<string>() ?? throw new InvalidDataException($"The function's document has no '{name}'.");
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class FunctionsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
