using System.Runtime.CompilerServices;

namespace Runnel.Server.Auth;

/// <summary>
/// Decides whether a verified key may perform an action on a resource, with IAM's evaluation logic: an explicit deny in
/// the key's policy or in the resource's policy wins; within one account, an allow in either suffices; across accounts
/// (the key's account is not the resource's), both must allow. A key without a policy may do anything in its own
/// account, as the account's root user may, and elsewhere what the resource's policy grants its account. The answer
/// is AWS's message for the denial, or null. Thread-safe.
/// </summary>
/// <param name="serverAccount">The account of a key that names none, and of Runnel's resources.</param>
/// <param name="resourcePolicy">The policy document stored for a resource ARN (PutResourcePolicy), or null.</param>
public sealed class AccessControl(string serverAccount, Func<string, string?> resourcePolicy)
{
    private readonly ConditionalWeakTable<string, IamPolicy?> _parsed = [];

    public Principal PrincipalOf(Credential credential) => new(credential.AccountId ?? serverAccount, credential.Profile);

    /// <summary>Null when <paramref name="credential"/> may perform <paramref name="action"/> (<c>kinesis:PutRecord</c>)
    /// on <paramref name="resource"/> (an ARN, or <c>*</c> for actions on no resource); otherwise why not, in AWS's words.</summary>
    public string? Denial(Credential credential, string action, string resource)
    {
        var principal = PrincipalOf(credential);
        if (principal.AccountId != serverAccount && ServerAccountOnly(action) is { } service)
            return $"User: {principal.Arn} is not authorized to perform: {action} because this server keeps {service} for account {serverAccount} only";
        var identity = credential.Policy;
        var onResource = resource == "*" ? null : ResourcePolicy(resource);
        string? reason = null;
        if (identity?.Denies(action, resource, null) == true)
            reason = "with an explicit deny in an identity-based policy";
        else if (onResource?.Denies(action, resource, principal) == true)
            reason = "with an explicit deny in a resource-based policy";
        else
        {
            bool identityAllows = identity is null || identity.Allows(action, resource, null);
            bool resourceAllows = onResource?.Allows(action, resource, principal) == true;
            string account = AccountOf(resource) ?? principal.AccountId;
            if (account == principal.AccountId ? identityAllows || resourceAllows : identityAllows && resourceAllows)
                return null;
            reason = account != principal.AccountId && !resourceAllows
                ? $"because no resource-based policy allows the {action} action"
                : $"because no identity-based policy allows the {action} action";
        }
        string on = resource == "*" ? "" : $" on resource: {resource}";
        return $"User: {principal.Arn} is not authorized to perform: {action}{on} {reason}";
    }

    /// <summary>The service of an action that only the server's own account has (docs/security.md, "Accounts"): Firehose
    /// and CloudWatch (with Runnel's own /metrics) hold one account's resources; other accounts have Kinesis streams only.</summary>
    private static string? ServerAccountOnly(string action) =>
        action.StartsWith("firehose:", StringComparison.Ordinal) ? "Firehose"
        : action.StartsWith("cloudwatch:", StringComparison.Ordinal) ? "CloudWatch"
        : null;

    /// <summary>The account field of an ARN (<c>arn:aws:kinesis:REGION:ACCOUNT:…</c>), or null.</summary>
    private static string? AccountOf(string arn) =>
        arn.Split(':', 6) is ["arn", _, _, _, { Length: > 0 } account, _] ? account : null;

    /// <summary>The resource's policy, parsed once per stored text (a policy that no longer parses is ignored; PutResourcePolicy checked it).</summary>
    private IamPolicy? ResourcePolicy(string resource)
    {
        if (resourcePolicy(resource) is not { } text)
            return null;
        return _parsed.GetValue(text, t =>
        {
            try
            {
                return IamPolicy.Parse(t);
            }
            catch (FormatException)
            {
                return null;
            }
        });
    }
}
