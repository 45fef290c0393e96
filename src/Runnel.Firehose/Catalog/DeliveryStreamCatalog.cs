using Runnel.Storage.Metadata;

namespace Runnel.Firehose.Catalog;

/// <summary>
/// The delivery streams of the account (<see cref="DocumentCatalog{T}"/>: metadata documents of kind
/// <see cref="DeliveryStreamCodec.Kind"/>, changed by compare-and-set). A CREATING stream is shown ACTIVE once its
/// time has come (CREATING_FAILED when it has a failure).
/// <para>Thread-safety: every member is thread-safe.</para>
/// </summary>
public sealed class DeliveryStreamCatalog(IMetadataStore store, TimeProvider clock, Action<string>? warn = null)
    : DocumentCatalog<DeliveryStream>(store, clock, DeliveryStreamCodec.Kind, warn)
{
    protected override string Noun => "delivery stream";

    /// <summary>Stores a new stream; false when one of that name is stored already (here or by another node).</summary>
    public bool TryCreate(DeliveryStream stream) => TryCreate(stream.Name, stream);

    protected override byte[] Encode(DeliveryStream item) => DeliveryStreamCodec.Encode(item);

    protected override DeliveryStream Decode(byte[] body, ulong revision) => DeliveryStreamCodec.Decode(body, revision);

    protected override ulong RevisionOf(DeliveryStream item) => item.Revision;

    protected override long? DueOf(DeliveryStream item) => item.DueMillis;

    protected override DeliveryStream Advanced(DeliveryStream stream, long nowMillis) =>
        stream.Status == DeliveryStreamStatus.Creating
            ? stream with { Status = stream.Failure is null ? DeliveryStreamStatus.Active : DeliveryStreamStatus.CreatingFailed, DueMillis = null }
            : stream with { DueMillis = null };
}
