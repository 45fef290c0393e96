using System.Text;
using System.Text.Json;
using Runnel.Core.Errors;

namespace Runnel.Server.Kinesis;

/// <summary>
/// Checks a resource-based policy as IAM reads one (PutResourcePolicy): a JSON object with an optional
/// <c>Version</c> and <c>Id</c> and one <c>Statement</c> or a list of them; each statement has an <c>Effect</c>
/// (Allow or Deny), a principal (<c>Principal</c> or <c>NotPrincipal</c>: a resource policy must name who it
/// applies to), actions (<c>Action</c> or <c>NotAction</c>, Kinesis actions or <c>*</c>), and optionally
/// <c>Sid</c>, <c>Resource</c>/<c>NotResource</c> and <c>Condition</c>. Anything else is refused with
/// InvalidArgumentException naming the problem (AWS's texts for these cases are not published).
/// </summary>
internal static class PolicyDocument
{
    /// <summary>The largest policy accepted, bytes of UTF-8 (Runnel's bound; AWS does not publish one for Kinesis).</summary>
    public const int MaxBytes = 20 * 1024;

    private static readonly HashSet<string> TopLevel = ["Version", "Id", "Statement"];
    private static readonly HashSet<string> StatementKeys = ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

    public static void Check(string policy)
    {
        if (Encoding.UTF8.GetByteCount(policy) > MaxBytes)
            throw Invalid($"the policy is larger than {MaxBytes} bytes");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(policy);
        }
        catch (JsonException e)
        {
            throw Invalid($"the policy is not JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Invalid("the policy must be a JSON object");
            foreach (var property in root.EnumerateObject())
                if (!TopLevel.Contains(property.Name))
                    throw Invalid($"unsupported element '{property.Name}'");
            if (root.TryGetProperty("Version", out var version) && Text(version) is not ("2012-10-17" or "2008-10-17"))
                throw Invalid("Version must be \"2012-10-17\" or \"2008-10-17\"");
            if (root.TryGetProperty("Id", out var id) && id.ValueKind != JsonValueKind.String)
                throw Invalid("Id must be a string");
            if (!root.TryGetProperty("Statement", out var statements))
                throw Invalid("the policy has no Statement");
            var list = statements.ValueKind == JsonValueKind.Array ? statements.EnumerateArray().ToList() : [statements];
            if (list.Count == 0)
                throw Invalid("Statement is empty");
            foreach (var statement in list)
                CheckStatement(statement);
        }
    }

    private static void CheckStatement(JsonElement statement)
    {
        if (statement.ValueKind != JsonValueKind.Object)
            throw Invalid("each Statement must be a JSON object");
        foreach (var property in statement.EnumerateObject())
            if (!StatementKeys.Contains(property.Name))
                throw Invalid($"unsupported element '{property.Name}' in a statement");
        if (statement.TryGetProperty("Sid", out var sid) && sid.ValueKind != JsonValueKind.String)
            throw Invalid("Sid must be a string");
        if (!statement.TryGetProperty("Effect", out var effect) || Text(effect) is not ("Allow" or "Deny"))
            throw Invalid("each statement needs an Effect of \"Allow\" or \"Deny\"");
        var principal = OneOf(statement, "Principal", "NotPrincipal");
        if (principal.ValueKind == JsonValueKind.String ? Text(principal) != "*" : principal.ValueKind != JsonValueKind.Object)
            throw Invalid("Principal must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}");
        if (principal.ValueKind == JsonValueKind.Object)
            foreach (var kind in principal.EnumerateObject())
                Strings(kind.Value, $"Principal {kind.Name}");
        foreach (string action in Strings(OneOf(statement, "Action", "NotAction"), "Action"))
            if (action != "*" && !action.StartsWith("kinesis:", StringComparison.OrdinalIgnoreCase))
                throw Invalid($"action '{action}' is not a Kinesis action (kinesis:...)");
        if (statement.TryGetProperty("Resource", out var resource))
            Strings(resource, "Resource");
        if (statement.TryGetProperty("NotResource", out var notResource))
            Strings(notResource, "NotResource");
        if (statement.TryGetProperty("Condition", out var condition) && condition.ValueKind != JsonValueKind.Object)
            throw Invalid("Condition must be a JSON object");
    }

    /// <summary>The member <paramref name="name"/> or its negation: exactly one of them must be there.</summary>
    private static JsonElement OneOf(JsonElement statement, string name, string negation)
    {
        bool has = statement.TryGetProperty(name, out var value), hasNot = statement.TryGetProperty(negation, out var not);
        if (has == hasNot)
            throw Invalid($"each statement needs exactly one of {name} and {negation}");
        return has ? value : not;
    }

    /// <summary>A string or a non-empty list of strings.</summary>
    private static List<string> Strings(JsonElement value, string what)
    {
        var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
        if (items.Count == 0 || items.Any(i => i.ValueKind != JsonValueKind.String || i.GetString()!.Length == 0))
            throw Invalid($"{what} must be a string or a list of strings");
        return items.Select(i => i.GetString()!).ToList();
    }

    private static string? Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static KinesisException Invalid(string problem) => KinesisErrors.InvalidArgument($"Invalid policy document: {problem}.");
}
