using System.Globalization;
using System.Text;
using Runnel.Core.Errors;

namespace Runnel.Server.Kinesis;

/// <summary>
/// Pagination tokens: opaque to clients, base64 of a small versioned text record. ListShards tokens carry
/// the stream, its creation time, the last shard listed, the filter of the first call and their issue
/// time, and expire after 300 seconds as AWS's do; ListStreamConsumers tokens likewise.
/// </summary>
internal static class PageToken
{
    public static readonly TimeSpan ListShardsLifetime = TimeSpan.FromSeconds(300);

    public static string EncodeStreamName(string lastName) => Encode($"s1|{lastName}");

    public static string DecodeStreamName(string token)
    {
        string? text = Decode(token);
        if (text is null || !text.StartsWith("s1|", StringComparison.Ordinal))
            throw KinesisErrors.InvalidArgument("Invalid NextToken.");
        return text[3..];
    }

    public sealed record ShardPage(string StreamName, long StreamCreatedMillis, int LastShardIndex, string? FilterType, string? FilterShardId, long? FilterTimestampMillis, long IssuedMillis);

    public static string EncodeShards(ShardPage page) => Encode(string.Join('|',
        "h1",
        page.IssuedMillis.ToString(CultureInfo.InvariantCulture),
        page.StreamCreatedMillis.ToString(CultureInfo.InvariantCulture),
        page.LastShardIndex.ToString(CultureInfo.InvariantCulture),
        page.FilterType ?? "",
        page.FilterShardId ?? "",
        page.FilterTimestampMillis?.ToString(CultureInfo.InvariantCulture) ?? "",
        page.StreamName));

    public static ShardPage DecodeShards(string token, DateTimeOffset now)
    {
        string[]? parts = Decode(token)?.Split('|', 8);
        if (parts is not { Length: 8 } || parts[0] != "h1"
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out long issued)
            || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long created)
            || !int.TryParse(parts[3], CultureInfo.InvariantCulture, out int last))
            throw KinesisErrors.InvalidArgument("Invalid ShardId in NextToken.");
        if (now.ToUnixTimeMilliseconds() - issued > (long)ListShardsLifetime.TotalMilliseconds)
            throw KinesisErrors.ExpiredNextToken("The timestamp in the NextToken has expired. Please call ListShards again without NextToken.");
        long? timestamp = long.TryParse(parts[6], CultureInfo.InvariantCulture, out long t) ? t : null;
        return new ShardPage(parts[7], created, last, parts[4].Length == 0 ? null : parts[4], parts[5].Length == 0 ? null : parts[5], timestamp, issued);
    }

    /// <summary>A ListStreamConsumers page: the stream incarnation, the last consumer name listed and the issue time.</summary>
    public sealed record ConsumerPage(string StreamName, long StreamCreatedMillis, string LastConsumerName, long IssuedMillis);

    public static string EncodeConsumers(ConsumerPage page) => Encode(string.Join('|',
        "c1",
        page.IssuedMillis.ToString(CultureInfo.InvariantCulture),
        page.StreamCreatedMillis.ToString(CultureInfo.InvariantCulture),
        page.StreamName,
        page.LastConsumerName));

    /// <summary>Reads a ListStreamConsumers token; InvalidArgumentException when it is not one, ExpiredNextTokenException after 300 s.</summary>
    public static ConsumerPage DecodeConsumers(string token, DateTimeOffset now)
    {
        // Stream and consumer names are [a-zA-Z0-9_.-]+, so '|' cannot occur in them.
        string[]? parts = Decode(token)?.Split('|');
        if (parts is not { Length: 5 } || parts[0] != "c1"
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out long issued)
            || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long created))
            throw KinesisErrors.InvalidArgument("Invalid NextToken.");
        if (now.ToUnixTimeMilliseconds() - issued > (long)ListShardsLifetime.TotalMilliseconds)
            throw KinesisErrors.ExpiredNextToken("The timestamp in the NextToken has expired. Please call ListStreamConsumers again without NextToken.");
        return new ConsumerPage(parts[3], created, parts[4], issued);
    }

    /// <summary>A ListChannels page: the last channel name listed, with the issue time (300 s, as the other lists' tokens).</summary>
    public static string EncodeChannels(string lastName, DateTimeOffset now) =>
        Encode($"n1|{now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}|{lastName}");

    /// <summary>Reads a ListChannels token: the last channel name listed; InvalidArgumentException when it is not one, ExpiredNextTokenException after 300 s.</summary>
    public static string DecodeChannels(string token, DateTimeOffset now)
    {
        string[]? parts = Decode(token)?.Split('|', 3);
        if (parts is not { Length: 3 } || parts[0] != "n1" || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out long issued))
            throw KinesisErrors.InvalidArgument("Invalid NextToken.");
        if (now.ToUnixTimeMilliseconds() - issued > (long)ListShardsLifetime.TotalMilliseconds)
            throw KinesisErrors.ExpiredNextToken("The timestamp in the NextToken has expired. Please call ListChannels again without NextToken.");
        return parts[2];
    }

    private static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string? Decode(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
