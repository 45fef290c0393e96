using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// A consumer's document changed (through another node) since the copy a change was decided from was read:
/// nothing was written. <see cref="Current"/> is the consumer as stored now, or null when it was deregistered.
/// </summary>
public sealed class ConsumerConflictException(long consumerId, ConsumerInfo? current)
    : InvalidOperationException($"Consumer {consumerId} was changed by another node meanwhile; decide again from its current state.")
{
    public long ConsumerId { get; } = consumerId;

    public ConsumerInfo? Current { get; } = current;
}
