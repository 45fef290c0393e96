using Microsoft.Extensions.Logging;
using Runnel.Storage;

namespace Runnel.Server;

/// <summary>
/// Whether the disk under the data directory lets Runnel write: set by the first write that fails for a disk
/// condition (full, read-only, failing), cleared by a write that succeeds once none has failed for
/// <see cref="QuietPeriod"/> (on a nearly full disk some shards still have room in their last page while others
/// fail: the state must not flap with each). <c>GET /health</c> reports it
/// (still 200: reads keep working), and the log says what failed and what to do, at most once per
/// <see cref="LogPeriod"/> while it lasts, with a count of the failures in between.
/// <para>Thread-safety: lock-free reads on the write path (one volatile load when healthy); changes take a lock.</para>
/// </summary>
public sealed class StorageHealth(ILogger<StorageHealth> log, TimeProvider clock, string? dataDir) : IWriteHealth
{
    private static readonly TimeSpan LogPeriod = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(5);
    private readonly Lock _gate = new();
    private volatile Condition? _fault;
    private long _suppressed;
    private DateTimeOffset _lastLogged = DateTimeOffset.MinValue;
    private DateTimeOffset _lastFailure = DateTimeOffset.MinValue;

    /// <summary>The condition now, or null when writes work (as far as the last write knows).</summary>
    public StorageFaultKind? Fault => _fault?.Kind;

    /// <summary>"disk full since 12:00:03Z: PutRecords ...", or null when healthy.</summary>
    public string? Reason => _fault is { } f ? $"{StorageFault.Describe(f.Kind)} since {f.Since:yyyy-MM-ddTHH:mm:ssZ}: {f.Detail}. {StorageFault.Remedy(f.Kind)}" : null;

    /// <summary>Records a failed write; returns the disk condition, or null when <paramref name="e"/> is not one (a bug: the caller handles it).</summary>
    public StorageFaultKind? Failed(string operation, Exception e)
    {
        if (StorageFault.Classify(e, dataDir) is not { } kind)
            return null;
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            _lastFailure = now;
            if (_fault is not { } current || current.Kind != kind)
                _fault = new Condition(kind, now, Detail(e));
            if (now - _lastLogged < LogPeriod)
            {
                _suppressed++;
                return kind;
            }
            _lastLogged = now;
            string more = _suppressed > 0 ? $" ({_suppressed} more failed writes since the last report)" : "";
            _suppressed = 0;
            log.LogError("{Operation} could not write: {Condition} ({Detail}){More}. {Remedy}",
                operation, StorageFault.Describe(kind), Detail(e), more, StorageFault.Remedy(kind));
            log.LogDebug(e, "{Operation} could not write; the failure in full", operation); // where it failed, for whoever turns debug logging on
        }
        return kind;
    }

    /// <summary>A write reached the disk: clears the condition if no write failed lately (cheap when there is none).</summary>
    public void Succeeded()
    {
        if (_fault is null)
            return;
        lock (_gate)
        {
            if (_fault is not { } f || clock.GetUtcNow() - _lastFailure < QuietPeriod)
                return;
            _fault = null;
            _lastLogged = DateTimeOffset.MinValue;
            _suppressed = 0;
            log.LogInformation("Writes succeed again after {Condition} since {Since:HH:mm:ss}Z.", StorageFault.Describe(f.Kind), f.Since);
        }
    }

    /// <summary>The system's own words for it (the innermost message; for a cluster that did not answer, what went
    /// unanswered), without a trailing period.</summary>
    private static string Detail(Exception e)
    {
        while (e.InnerException is not null && e is not StorageUnavailableException)
            e = e.InnerException;
        return e.Message.TrimEnd('.', ' ');
    }

    private sealed record Condition(StorageFaultKind Kind, DateTimeOffset Since, string Detail);
}
