using Runnel.Client.Leases;

namespace Runnel.Client.Processing;

/// <summary>
/// A lease this worker holds: its latest stored state, changed by renewals and checkpoints one at a time (each is
/// conditional on the counter the last one left), and whether it has been lost. Thread-safe.
/// </summary>
internal sealed class HeldLease(LeaseTable table, Lease lease)
{
    private readonly SemaphoreSlim _writing = new(1, 1);
    private Lease _lease = lease;
    private volatile bool _lost;

    public string Key => _lease.LeaseKey;

    public Lease Current => Volatile.Read(ref _lease);

    public bool IsLost => _lost;

    /// <summary>Takes the lease for lost (the table gives it to another worker): nothing more is written for it.</summary>
    public void MarkLost() => _lost = true;

    /// <summary>Renews the lease; false once it is lost.</summary>
    public Task<bool> RenewAsync(CancellationToken cancellationToken) => Change(l => table.RenewAsync(l, cancellationToken), cancellationToken);

    /// <summary>Checkpoints the lease; false once it is lost.</summary>
    public Task<bool> CheckpointAsync(ExtendedSequenceNumber position, IReadOnlyList<string>? children, CancellationToken cancellationToken) =>
        Change(l => table.CheckpointAsync(l, position, children, cancellationToken), cancellationToken);

    /// <summary>Lets the lease go (shutdown, or a finished shard); it counts as lost after.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_lost && !await table.ReleaseAsync(_lease, cancellationToken).ConfigureAwait(false)
                && await StillOursAsync(cancellationToken).ConfigureAwait(false) is { } stored)
                await table.ReleaseAsync(stored, cancellationToken).ConfigureAwait(false);
            _lost = true;
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task<bool> Change(Func<Lease, Task<Lease?>> write, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_lost)
                return false;
            var changed = await write(_lease).ConfigureAwait(false);
            if (changed is null && await StillOursAsync(cancellationToken).ConfigureAwait(false) is { } stored)
            {
                Volatile.Write(ref _lease, stored);
                changed = await write(stored).ConfigureAwait(false);
            }
            if (changed is not null)
            {
                Volatile.Write(ref _lease, changed);
                return true;
            }
            _lost = true;
            return false;
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>
    /// After a write's condition failed: the lease as stored when the table still names this holder, else null (it
    /// changed hands). The table names us still when a write of ours landed but its answer never came (a call cancelled
    /// at shutdown, or timed out): the counter moved on without us, and the next write goes from what is stored.
    /// </summary>
    private async Task<Lease?> StillOursAsync(CancellationToken cancellationToken) =>
        await table.GetAsync(_lease.LeaseKey, cancellationToken).ConfigureAwait(false) is { } stored
        && stored.LeaseOwner is not null && stored.LeaseOwner == _lease.LeaseOwner
        && stored.LeaseCounter != _lease.LeaseCounter
            ? stored
            : null;
}
