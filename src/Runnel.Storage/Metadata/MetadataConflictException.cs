using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// A stream's document changed (through another node) since the copy a change was decided from was read:
/// nothing was written. <see cref="Current"/> is the stream as stored now, or null when it was deleted.
/// </summary>
public sealed class MetadataConflictException(long streamId, StreamInfo? current)
    : InvalidOperationException($"Stream {streamId} was changed by another node meanwhile; decide again from its current state.")
{
    public long StreamId { get; } = streamId;

    public StreamInfo? Current { get; } = current;
}
