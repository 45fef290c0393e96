namespace Runnel.Core.Model;

/// <summary>Stream ARNs: <c>arn:aws:kinesis:{region}:{account}:stream/{name}</c>.</summary>
public static class StreamArn
{
    public static string Format(string region, string accountId, string streamName) =>
        $"arn:aws:kinesis:{region}:{accountId}:stream/{streamName}";

    /// <summary>Splits an ARN into its parts; false when it is not a Kinesis stream ARN.</summary>
    public static bool TryParse(string arn, out string region, out string accountId, out string streamName)
    {
        region = accountId = streamName = "";
        var parts = arn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || parts[2] != "kinesis" || !parts[5].StartsWith("stream/", StringComparison.Ordinal))
            return false;
        region = parts[3];
        accountId = parts[4];
        streamName = parts[5]["stream/".Length..];
        return streamName.Length > 0 && !streamName.Contains('/', StringComparison.Ordinal);
    }
}
