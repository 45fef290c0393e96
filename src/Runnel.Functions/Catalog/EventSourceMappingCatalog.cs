using Runnel.Storage.Metadata;

namespace Runnel.Functions.Catalog;

/// <summary>The account's event-source mappings (<see cref="DocumentCatalog{T}"/>: documents of kind <see cref="EventSourceMappingCodec.Kind"/>, keyed by UUID). Thread-safe.</summary>
public sealed class EventSourceMappingCatalog(IMetadataStore store, TimeProvider clock, Action<string>? warn)
    : DocumentCatalog<EventSourceMapping>(store, clock, EventSourceMappingCodec.Kind, warn)
{
    protected override string Noun => "event-source mapping";

    protected override byte[] Encode(EventSourceMapping item) => EventSourceMappingCodec.Encode(item);

    protected override EventSourceMapping Decode(byte[] body, ulong revision) => EventSourceMappingCodec.Decode(body, revision);

    protected override ulong RevisionOf(EventSourceMapping item) => item.Revision;
}
