using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>A change another node made to the shared metadata, as <see cref="IMetadataStore.Follow"/> reports it.</summary>
public abstract record MetadataChange
{
    private MetadataChange()
    {
    }

    /// <summary>A stream created or changed (its whole document, shards and tags included).</summary>
    public sealed record StreamSaved(StreamInfo Stream) : MetadataChange;

    /// <summary>A stream deleted with its consumers.</summary>
    public sealed record StreamDeleted(long StreamId) : MetadataChange;

    /// <summary>A consumer registered or changed.</summary>
    public sealed record ConsumerSaved(ConsumerInfo Consumer) : MetadataChange;

    /// <summary>A consumer deleted.</summary>
    public sealed record ConsumerDeleted(long StreamId, long ConsumerId) : MetadataChange;

    /// <summary>A setting written (<see cref="IMetadataStore.WriteSetting"/>).</summary>
    public sealed record SettingWritten(string Name, byte[] Value) : MetadataChange;

    /// <summary>A document written (<see cref="IMetadataStore.WriteDocument"/>), with its new revision.</summary>
    public sealed record DocumentWritten(MetadataDocument Document) : MetadataChange;

    /// <summary>A document deleted.</summary>
    public sealed record DocumentDeleted(string Kind, string Key) : MetadataChange;
}
