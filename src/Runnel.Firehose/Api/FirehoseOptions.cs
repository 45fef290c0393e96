namespace Runnel.Firehose.Api;

/// <summary>The settings Firehose takes from the server's (region and account as in stream ARNs).</summary>
public sealed record FirehoseOptions
{
    public string Region { get; init; } = "us-east-1";
    public string AccountId { get; init; } = "000000000000";

    /// <summary>How long a new delivery stream stays CREATING (AWS: tens of seconds; 0 by default, as for streams).</summary>
    public TimeSpan CreateDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How long a channel stays CREATING, UPDATING or DELETING (AWS: minutes; 0 by default).</summary>
    public TimeSpan ChannelDelay { get; init; } = TimeSpan.Zero;

    /// <summary>When set, how long every channel buffers before it writes an object, instead of its own data freshness
    /// (AWS's 300 to 900 seconds are long for development and tests).</summary>
    public TimeSpan? ChannelFreshness { get; init; }

    /// <summary>Most delivery streams the account may have (AWS's quota: 5,000 per Region).</summary>
    public int MaxDeliveryStreams { get; init; } = 5000;

    public string ArnOf(string name) => $"arn:aws:firehose:{Region}:{AccountId}:deliverystream/{name}";
}
