namespace Runnel.Core.Model;

/// <summary>
/// Consumer ARNs: <c>{stream ARN}/consumer/{consumer name}:{creation time in Unix seconds}</c>. The creation
/// time tells a consumer apart from an earlier one of the same name.
/// </summary>
public static class ConsumerArn
{
    private const string Marker = "/consumer/";

    public static string Format(string streamArn, string consumerName, long creationSeconds) =>
        $"{streamArn}{Marker}{consumerName}:{creationSeconds}";

    /// <summary>Splits a consumer ARN into its parts; false when it is not one (a stream ARN is not).</summary>
    public static bool TryParse(string arn, out string region, out string accountId, out string streamName, out string consumerName, out long creationSeconds)
    {
        region = accountId = streamName = consumerName = "";
        creationSeconds = 0;
        int marker = arn.LastIndexOf(Marker, StringComparison.Ordinal);
        int colon = arn.LastIndexOf(':');
        if (marker < 0 || colon < marker)
            return false;
        if (!StreamArn.TryParse(arn[..marker], out region, out accountId, out streamName))
            return false;
        consumerName = arn[(marker + Marker.Length)..colon];
        string seconds = arn[(colon + 1)..];
        return consumerName.Length > 0 && !consumerName.Contains('/', StringComparison.Ordinal)
            && seconds.Length is > 0 and <= 18 && seconds.All(char.IsAsciiDigit)
            && long.TryParse(seconds, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out creationSeconds);
    }
}
