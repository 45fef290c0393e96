using System.Globalization;
using System.Text.Json;

namespace Runnel.Functions.Api;

/// <summary>
/// The settings CreateFunction and UpdateFunctionConfiguration share, each null where the request does not give it:
/// <see cref="Parse"/> checks the model's constraints (ValidationException), <see cref="CheckValues"/> Lambda's own
/// (InvalidParameterValueException), so that a caller keeps Lambda's order: every model check before the others.
/// </summary>
internal sealed record FunctionSettings(string? Role, string? Description, int? Timeout, int? MemorySize, string? Handler, string? Runtime,
    IReadOnlyDictionary<string, string>? Environment)
{
    public static FunctionSettings Parse(JsonElement body)
    {
        string? role = String(body, "Role");
        if (role is not null && !FunctionNames.RolePattern().IsMatch(role))
            throw LambdaErrors.Validation(role, "role", @"Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+");
        string? description = String(body, "Description");
        if (description is { Length: > 256 })
            throw LambdaErrors.Validation(description, "description", "Member must have length less than or equal to 256");
        int? timeout = Int(body, "Timeout");
        if (timeout < 1)
            throw LambdaErrors.Validation(timeout.Value.ToString(CultureInfo.InvariantCulture), "timeout", "Member must have value greater than or equal to 1");
        int? memory = Int(body, "MemorySize");
        if (memory is < 128 or > 10240)
            throw LambdaErrors.Validation(memory.Value.ToString(CultureInfo.InvariantCulture), "memorySize",
                memory < 128 ? "Member must have value greater than or equal to 128" : "Member must have value less than or equal to 10240");
        string? handler = String(body, "Handler");
        if (handler is { Length: > 128 })
            throw LambdaErrors.Validation(handler, "handler", "Member must have length less than or equal to 128");
        Dictionary<string, string>? environment = null;
        if (body.TryGetProperty("Environment", out var env) && env.ValueKind == JsonValueKind.Object)
        {
            environment = new Dictionary<string, string>(StringComparer.Ordinal);
            if (env.TryGetProperty("Variables", out var variables) && variables.ValueKind == JsonValueKind.Object)
                foreach (var variable in variables.EnumerateObject())
                    environment[variable.Name] = variable.Value.ValueKind == JsonValueKind.String ? variable.Value.GetString()! : variable.Value.GetRawText();
        }
        return new FunctionSettings(role, description, timeout, memory, handler, String(body, "Runtime"), environment);
    }

    /// <summary>Lambda's checks beyond the model's: the timeout's maximum, the variables Lambda reserves.</summary>
    public void CheckValues()
    {
        if (Timeout > 900)
            throw LambdaErrors.InvalidParameter($"{Timeout} is not a valid timeout. The maximum is 900 seconds.");
        if (Environment is not null)
            FunctionCode.CheckVariables(Environment.Keys);
    }

    internal static string? String(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) ? number : null;
}
