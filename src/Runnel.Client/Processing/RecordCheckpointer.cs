using Runnel.Client.Leases;

namespace Runnel.Client.Processing;

/// <summary>
/// Checkpoints a shard's lease for its record processor: at the last record given so far (the default), or at an
/// earlier record of those given; at a closed shard's end, at SHARD_END. A checkpoint is stored in the lease table
/// before the call returns; after a crash, processing resumes after the last one, so records after it are given again.
/// </summary>
public sealed class RecordCheckpointer
{
    private readonly HeldLease _lease;
    private readonly IReadOnlyList<string>? _children;
    private ExtendedSequenceNumber? _largestGiven;
    private readonly bool _atShardEnd;

    internal RecordCheckpointer(HeldLease lease, ExtendedSequenceNumber? largestGiven, bool atShardEnd = false, IReadOnlyList<string>? children = null)
    {
        _lease = lease;
        _largestGiven = largestGiven;
        _atShardEnd = atShardEnd;
        _children = children;
    }

    /// <summary>The lease's checkpoint as last stored.</summary>
    public ExtendedSequenceNumber LastCheckpoint => _lease.Current.Checkpoint;

    /// <summary>Checkpoints at the last record given (at SHARD_END when the shard ended).</summary>
    /// <exception cref="LeaseLostException">The worker no longer holds the lease.</exception>
    public Task CheckpointAsync(CancellationToken cancellationToken = default)
    {
        if (_atShardEnd)
            return Store(ExtendedSequenceNumber.ShardEnd, _children, cancellationToken);
        return _largestGiven is { } position ? Store(position, null, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>Checkpoints at <paramref name="record"/>, one of the records given.</summary>
    /// <exception cref="LeaseLostException">The worker no longer holds the lease.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The record comes after the last given, or before the last checkpoint.</exception>
    public Task CheckpointAsync(ConsumerRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var position = record.Position;
        if (_largestGiven is not { } largest || position > largest)
            throw new ArgumentOutOfRangeException(nameof(record), $"{position} has not been given to the processor yet");
        if (!_lease.Current.Checkpoint.IsSentinel && position < _lease.Current.Checkpoint)
            throw new ArgumentOutOfRangeException(nameof(record), $"{position} is before the last checkpoint {_lease.Current.Checkpoint}");
        return Store(position, null, cancellationToken);
    }

    internal void Given(ExtendedSequenceNumber position) => _largestGiven = position;

    private async Task Store(ExtendedSequenceNumber position, IReadOnlyList<string>? children, CancellationToken cancellationToken)
    {
        if (!await _lease.CheckpointAsync(position, children, cancellationToken).ConfigureAwait(false))
            throw new LeaseLostException(_lease.Key);
    }
}

/// <summary>The worker no longer holds the shard's lease: another worker may be processing it; nothing can be checkpointed.</summary>
public sealed class LeaseLostException(string leaseKey) : Exception($"the lease of {leaseKey} is no longer held by this worker")
{
    /// <summary>The lease's key (the shard id).</summary>
    public string LeaseKey { get; } = leaseKey;
}
