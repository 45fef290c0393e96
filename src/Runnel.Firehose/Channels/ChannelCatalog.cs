using Runnel.Storage.Metadata;

namespace Runnel.Firehose.Channels;

/// <summary>
/// The channels of the account (<see cref="DocumentCatalog{T}"/>: metadata documents of kind
/// <see cref="ChannelCodec.Kind"/> keyed by name, changed by compare-and-set), found by name or by ARN. A channel
/// whose status change is due is shown changed: CREATING becomes ACTIVE (or FAILED when it has a reason), UPDATING
/// becomes ACTIVE, and a DELETING channel is gone.
/// <para>Thread-safety: every member is thread-safe.</para>
/// </summary>
public sealed class ChannelCatalog(IMetadataStore store, TimeProvider clock, Action<string>? warn = null)
    : DocumentCatalog<Channel>(store, clock, ChannelCodec.Kind, warn)
{
    protected override string Noun => "channel";

    /// <summary>The channel with this ARN as it is now, or null.</summary>
    public Channel? FindByArn(string arn) => All().FirstOrDefault(c => c.Arn == arn);

    /// <summary>The channels that read the stream of this name, as they are now.</summary>
    public IReadOnlyList<Channel> OfStream(string streamName) => All().Where(c => c.StreamName == streamName).ToList();

    protected override byte[] Encode(Channel item) => ChannelCodec.Encode(item);

    protected override Channel Decode(byte[] body, ulong revision) => ChannelCodec.Decode(body, revision);

    protected override ulong RevisionOf(Channel item) => item.Revision;

    protected override long? DueOf(Channel item) => item.DueMillis;

    protected override Channel? Advanced(Channel channel, long nowMillis) => channel.Status switch
    {
        ChannelStatus.Deleting => null,
        ChannelStatus.Creating when channel.StatusReason is not null => channel with { Status = ChannelStatus.Failed, DueMillis = null },
        ChannelStatus.Creating => channel with { Status = ChannelStatus.Active, DueMillis = null, DeliveryStartMillis = channel.DueMillis },
        ChannelStatus.Updating => channel with { Status = ChannelStatus.Active, DueMillis = null },
        _ => channel with { DueMillis = null },
    };
}
