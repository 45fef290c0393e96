using System.Text.Json;

namespace Runnel.Server.Auth;

/// <summary>Who makes a request: the key's account and its IAM user name (the credentials file's section).</summary>
public sealed record Principal(string AccountId, string UserName)
{
    public string Arn => $"arn:aws:iam::{AccountId}:user/{UserName}";
}

/// <summary>
/// An IAM policy document (identity-based, from the credentials file, or resource-based, from PutResourcePolicy) read
/// for evaluation: statements with Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal. Actions match
/// case-insensitively, resources case-sensitively, both with IAM's wildcards <c>*</c> (any run) and <c>?</c> (one
/// character). Conditions are not evaluated: a statement with a <c>Condition</c> never allows, and always denies when
/// its action and resource match (failing closed; docs/security.md). Immutable, thread-safe.
/// </summary>
public sealed class IamPolicy
{
    private readonly IReadOnlyList<Statement> _statements;

    private IamPolicy(IReadOnlyList<Statement> statements) => _statements = statements;

    private sealed record Statement(bool Allow, string[] Actions, bool NotAction, string[] Resources, bool NotResource,
        string[]? Principals, bool NotPrincipal, bool Conditional);

    /// <summary>Reads a policy; <see cref="FormatException"/> says what is wrong with it.</summary>
    public static IamPolicy Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"the policy is not JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Statement", out var statements))
                throw new FormatException("a policy is a JSON object with a Statement");
            var list = statements.ValueKind == JsonValueKind.Array ? statements.EnumerateArray().ToList() : [statements];
            return new IamPolicy(list.Select(ReadStatement).ToList());
        }
    }

    private static Statement ReadStatement(JsonElement s)
    {
        if (s.ValueKind != JsonValueKind.Object)
            throw new FormatException("each Statement is a JSON object");
        string effect = s.TryGetProperty("Effect", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "";
        if (effect is not ("Allow" or "Deny"))
            throw new FormatException("each statement needs an Effect of \"Allow\" or \"Deny\"");
        var (actions, notAction) = Either(s, "Action", "NotAction") ?? throw new FormatException("each statement needs Action or NotAction");
        var (resources, notResource) = Either(s, "Resource", "NotResource") ?? (["*"], false);
        string[]? principals = null;
        bool notPrincipal = false;
        if (s.TryGetProperty("Principal", out var p) || s.TryGetProperty("NotPrincipal", out p))
        {
            notPrincipal = !s.TryGetProperty("Principal", out _);
            principals = p.ValueKind == JsonValueKind.String ? [p.GetString()!]
                : p.ValueKind == JsonValueKind.Object ? p.EnumerateObject().Where(k => k.Name == "AWS").SelectMany(k => Strings(k.Value, "Principal")).ToArray()
                : throw new FormatException("Principal is \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}");
        }
        return new Statement(effect == "Allow", actions, notAction, resources, notResource, principals, notPrincipal, s.TryGetProperty("Condition", out _));
    }

    private static (string[] Values, bool Negated)? Either(JsonElement s, string name, string negation) =>
        s.TryGetProperty(name, out var v) ? (Strings(v, name), false)
        : s.TryGetProperty(negation, out var n) ? (Strings(n, negation), true)
        : null;

    private static string[] Strings(JsonElement value, string what) => value.ValueKind switch
    {
        JsonValueKind.String => [value.GetString()!],
        JsonValueKind.Array when value.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String) => value.EnumerateArray().Select(i => i.GetString()!).ToArray(),
        _ => throw new FormatException($"{what} is a string or a list of strings"),
    };

    /// <summary>Whether a statement denies the action on the resource (for <paramref name="principal"/> when the
    /// policy is a resource's, whose statements name principals; null for an identity's).</summary>
    public bool Denies(string action, string resource, Principal? principal) =>
        _statements.Any(s => !s.Allow && Applies(s, action, resource, principal));

    /// <summary>Whether a statement without a condition allows it.</summary>
    public bool Allows(string action, string resource, Principal? principal) =>
        _statements.Any(s => s.Allow && !s.Conditional && Applies(s, action, resource, principal));

    private static bool Applies(Statement s, string action, string resource, Principal? principal)
    {
        if (s.Actions.Any(a => Wildcard.Matches(a, action, ignoreCase: true)) == s.NotAction)
            return false;
        if (s.Resources.Any(r => Wildcard.Matches(r, resource, ignoreCase: false)) == s.NotResource)
            return false;
        if (principal is null || s.Principals is null)
            return principal is null; // an identity policy's statements name no principal; a resource policy's must
        return s.Principals.Any(p => Names(p, principal)) != s.NotPrincipal;
    }

    /// <summary>Whether a policy's principal names the requester: "*", its account (id or root ARN), or its user ARN.</summary>
    private static bool Names(string principal, Principal requester) =>
        principal == "*"
        || principal == requester.AccountId
        || principal == $"arn:aws:iam::{requester.AccountId}:root"
        || principal == requester.Arn;
}

/// <summary>IAM's wildcards: <c>*</c> any run of characters, <c>?</c> any one.</summary>
public static class Wildcard
{
    public static bool Matches(string pattern, string value, bool ignoreCase)
    {
        int p = 0, v = 0, star = -1, resume = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || Same(pattern[p], value[v], ignoreCase)))
            {
                p++;
                v++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = v;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }

    private static bool Same(char a, char b, bool ignoreCase) => a == b || (ignoreCase && char.ToLowerInvariant(a) == char.ToLowerInvariant(b));
}
