using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Api;

/// <summary>
/// The model's constraints on a request's members, reported as AWS's framework reports them: every failure found,
/// "N validation error(s) detected: Value 'x' at 'path' failed to satisfy constraint: …; …". Not thread-safe: one per request.
/// </summary>
internal sealed class Constraints
{
    public const string NamePattern = "[a-zA-Z0-9_.-]+";

    private readonly List<string> _failures = [];

    public void Require(bool holds, object? value, string path, string constraint)
    {
        if (holds || _failures.Count >= 10)
            return;
        string shown = value is null ? "null" : $"'{value}'";
        _failures.Add($"Value {shown} at '{path}' failed to satisfy constraint: {constraint}");
    }

    public void NotNull(object? value, string path) => Require(value is not null, null, path, "Member must not be null");

    public void Enum(string? value, string path, params string[] allowed) =>
        Require(value is null || allowed.Contains(value), value, path, $"Member must satisfy enum value set: [{string.Join(", ", allowed)}]");

    public void Name(string? value, string path, int min = 3, int max = 255)
    {
        if (value is null)
            return;
        Require(value.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '-'), value, path,
            $"Member must satisfy regular expression pattern: {NamePattern}");
        Require(value.Length >= min, value, path, $"Member must have length greater than or equal to {min}");
        Require(value.Length <= max, value, path, $"Member must have length less than or equal to {max}");
    }

    public void AtLeast(long? value, long min, string path) =>
        Require(value is null || value >= min, value, path, $"Member must have value greater than or equal to {min}");

    public void AtMost(long? value, long max, string path) =>
        Require(value is null || value <= max, value, path, $"Member must have value less than or equal to {max}");

    public void Throw()
    {
        if (_failures.Count > 0)
            throw DynamoDbErrors.Validation($"{_failures.Count} validation error{(_failures.Count > 1 ? "s" : "")} detected: {string.Join("; ", _failures)}");
    }
}
