using System.Runtime;
using Runnel.Core.Buffers;

namespace Runnel.Server.Kinesis;

/// <summary>
/// Gives the memory a burst of requests used back to the OS once the server goes quiet. The GC only
/// decommits free memory when it collects, and an idle server allocates nothing, so nothing set one off:
/// after a 2 GiB write the process kept 600+ MiB of freed heap for as long as it stayed idle. So, once no
/// request has arrived for <see cref="QuietPeriod"/> and at least <see cref="MinAllocatedBytes"/> were
/// allocated since the last release, one aggressive full collection runs, compacting the large object
/// heap and decommitting what it frees. A steady trickle of small requests never qualifies, and neither
/// does a busy server, so this costs nothing under load. Thread-safe.
/// </summary>
public sealed class IdleMemoryRelease : IDisposable
{
    /// <summary>How long without requests counts as idle.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(5);

    /// <summary>Below this much allocated since the last release a collection would give back too little to be worth a pause.</summary>
    public const long MinAllocatedBytes = 64L * 1024 * 1024;

    private static readonly TimeSpan CheckPeriod = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _clock;
    private readonly ITimer _timer;
    private long _lastRequestTimestamp;
    private long _allocatedAtRelease = GC.GetTotalAllocatedBytes();
    private int _releasing;

    public IdleMemoryRelease(TimeProvider clock)
    {
        _clock = clock;
        _lastRequestTimestamp = clock.GetTimestamp();
        _timer = clock.CreateTimer(_ => ReleaseIfIdle(), null, CheckPeriod, CheckPeriod);
    }

    /// <summary>Completed releases, for tests and diagnostics.</summary>
    public int Releases { get; private set; }

    /// <summary>Called for every request: the server is not idle.</summary>
    public void NoteRequest() => Volatile.Write(ref _lastRequestTimestamp, _clock.GetTimestamp());

    private void ReleaseIfIdle()
    {
        if (_clock.GetElapsedTime(Volatile.Read(ref _lastRequestTimestamp)) < QuietPeriod)
            return;
        if (GC.GetTotalAllocatedBytes() - Volatile.Read(ref _allocatedAtRelease) < MinAllocatedBytes)
            return;
        Release();
    }

    /// <summary>Empties the buffer pool and runs one aggressive, compacting full collection, the large object
    /// heap included; skipped when one is running.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _releasing, 1) == 1)
            return;
        try
        {
            BoundedBufferPool.Default.Trim(); // its arrays are garbage too once it lets them go
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            Volatile.Write(ref _allocatedAtRelease, GC.GetTotalAllocatedBytes());
            Releases++;
        }
        finally
        {
            Volatile.Write(ref _releasing, 0);
        }
    }

    public void Dispose() => _timer.Dispose();
}
