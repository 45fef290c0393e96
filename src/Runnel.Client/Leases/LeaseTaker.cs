namespace Runnel.Client.Leases;

/// <summary>
/// Decides which leases a worker takes, as the KCL's lease taker does, from successive scans of the lease table:
/// <list type="bullet">
/// <item>A lease is <em>available</em> when nobody holds it, or when its counter has not moved for
/// <see cref="FailoverTime"/> as this worker has watched it (its holder stopped renewing). A held lease seen for the
/// first time counts as just renewed, so a worker that starts waits a failover time before taking over.</item>
/// <item>Each worker aims at <c>ceil(leases / workers)</c> (at least 1, at most <see cref="MaxLeasesForWorker"/>),
/// the workers being the holders of unavailable leases and this one.</item>
/// <item>Below its target it takes available leases first (in a random order, so workers starting together spread
/// out); when none are available it steals from the most loaded worker: up to what that worker holds over the target,
/// or one lease when that worker is at the target and this one needs more than one; never more than
/// <see cref="MaxLeasesToStealAtOneTime"/> at once.</item>
/// </list>
/// Finished leases (checkpointed at SHARD_END) are neither counted nor taken. Taking is then a conditional write
/// (<see cref="LeaseRequests.Take"/>) that fails if another worker got there first. Not thread-safe: one scan loop
/// calls it.
/// </summary>
/// <param name="workerId">This worker's id (its leases' owner).</param>
/// <param name="failoverTime">How long a lease's counter may stand still before the lease is taken for abandoned.</param>
public sealed class LeaseTaker(string workerId, TimeSpan failoverTime)
{
    private readonly Dictionary<string, (long Counter, TimeSpan ChangedAt)> _seen = new(StringComparer.Ordinal);

    /// <summary>This worker's id.</summary>
    public string WorkerId { get; } = workerId;

    /// <summary>How long a lease's counter may stand still before the lease is taken for abandoned.</summary>
    public TimeSpan FailoverTime { get; } = failoverTime;

    /// <summary>The most leases this worker aims to hold (default: no limit).</summary>
    public int MaxLeasesForWorker { get; init; } = int.MaxValue;

    /// <summary>The most leases stolen from another worker in one decision (default 1, as the KCL).</summary>
    public int MaxLeasesToStealAtOneTime { get; init; } = 1;

    /// <summary>
    /// Notes a scan of the whole table made at <paramref name="now"/> (a monotonic time, e.g. a stopwatch's elapsed
    /// time) and returns the leases to take, each as read (its counter is the take's condition).
    /// </summary>
    public IReadOnlyList<Lease> Choose(IReadOnlyList<Lease> scanned, TimeSpan now, Random random)
    {
        var leases = scanned.Where(l => !l.IsFinished).ToList();
        Observe(leases, now);
        if (leases.Count == 0)
            return [];
        var available = leases.Where(l => IsAvailable(l, now)).ToList();
        var held = leases.Except(available).GroupBy(l => l.LeaseOwner!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        held.TryAdd(WorkerId, []);
        int workers = held.Count;
        int target = workers >= leases.Count ? 1 : (leases.Count + workers - 1) / workers;
        target = Math.Min(target, MaxLeasesForWorker);
        int needed = target - held[WorkerId].Count;
        if (needed <= 0)
            return [];
        if (available.Count > 0)
            return Shuffled(available, random).Take(needed).ToList();

        var (busiest, theirs) = held.Where(h => h.Key != WorkerId).OrderByDescending(h => h.Value.Count).ThenBy(h => h.Key, StringComparer.Ordinal)
            .Select(h => (h.Key, h.Value)).FirstOrDefault();
        if (busiest is null || theirs.Count < target)
            return [];
        int steal = Math.Min(needed, theirs.Count - target);
        if (steal == 0 && needed > 1)
            steal = 1;
        steal = Math.Min(steal, MaxLeasesToStealAtOneTime);
        return Shuffled(theirs, random).Take(steal).ToList();
    }

    /// <summary>Whether <paramref name="lease"/> may be taken at <paramref name="now"/>: nobody holds it, or its counter stood still for the failover time.</summary>
    public bool IsAvailable(Lease lease, TimeSpan now) =>
        lease.LeaseOwner is null || (_seen.TryGetValue(lease.LeaseKey, out var seen) && now - seen.ChangedAt > FailoverTime);

    /// <summary>Notes that this worker itself raised <paramref name="lease"/>'s counter (a take, renewal or checkpoint it made) at <paramref name="now"/>.</summary>
    public void Renewed(Lease lease, TimeSpan now) => _seen[lease.LeaseKey] = (lease.LeaseCounter, now);

    private void Observe(List<Lease> leases, TimeSpan now)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lease in leases)
        {
            keys.Add(lease.LeaseKey);
            if (!_seen.TryGetValue(lease.LeaseKey, out var seen) || seen.Counter != lease.LeaseCounter)
                _seen[lease.LeaseKey] = (lease.LeaseCounter, now); // new to this worker, or renewed since the last scan
        }
        foreach (var gone in _seen.Keys.Where(k => !keys.Contains(k)).ToList())
            _seen.Remove(gone);
    }

    private static List<Lease> Shuffled(IEnumerable<Lease> leases, Random random)
    {
        var list = leases.ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
        return list;
    }
}
