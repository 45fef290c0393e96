using System.Text.RegularExpressions;

namespace Runnel.Functions.Api;

/// <summary>A function's name as the API takes it (a name, a partial ARN or a full ARN, maybe qualified) and its ARN.</summary>
public static partial class FunctionNames
{
    /// <summary>The model's pattern for <c>FunctionName</c>: a name, optionally with the ARN's parts before it and a qualifier after.</summary>
    [GeneratedRegex(@"^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$")]
    private static partial Regex Pattern();

    /// <summary>The model's pattern for a function's execution role.</summary>
    [GeneratedRegex(@"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")]
    public static partial Regex RolePattern();

    public const string PatternText = @"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";

    public static string Arn(string region, string account, string name) => $"arn:aws:lambda:{region}:{account}:function:{name}";

    /// <summary>
    /// The function's bare name from what a path or a body gives (<paramref name="maxLength"/> 140 for most operations,
    /// 64 for CreateFunction's name); the model's error when it does not match, and Lambda's when an ARN names another
    /// account or region.
    /// </summary>
    public static string Parse(string value, string member, string region, string account, int maxLength = 140)
    {
        if (value.Length > maxLength)
            throw LambdaErrors.Validation(value, member, $"Member must have length less than or equal to {maxLength}");
        var match = Pattern().Match(value);
        if (!match.Success)
            throw LambdaErrors.Validation(value, member, $"Member must satisfy regular expression pattern: {PatternText}");
        string name = match.Groups[7].Value;
        if (match.Groups[3].Success && match.Groups[3].Value.TrimEnd(':') != region)
            throw LambdaErrors.InvalidParameter($"Region {match.Groups[3].Value.TrimEnd(':')} in the ARN does not match the region of this endpoint, {region}.");
        if (match.Groups[5].Success && match.Groups[5].Value.TrimEnd(':') != account)
            throw LambdaErrors.FunctionNotFound(Arn(region, match.Groups[5].Value.TrimEnd(':'), name));
        if (match.Groups[9].Success && match.Groups[9].Value != "$LATEST")
            throw LambdaErrors.FunctionNotFound(Arn(region, account, name) + ":" + match.Groups[9].Value); // versions and aliases are not kept
        return name;
    }
}
