using System.Collections.Concurrent;
using Runnel.Core.Model;

namespace Runnel.Server.Streams;

/// <summary>
/// Counts UpdateShardCount calls against a stream's allowance in any 24 hours (AWS allows a few a day). Kept in
/// memory: a restart forgets earlier scalings. Thread-safe.
/// </summary>
public sealed class ScalingAllowance(TimeProvider clock)
{
    private readonly ConcurrentDictionary<long, List<DateTimeOffset>> _scalings = new();

    /// <summary>Counts one scaling of <paramref name="stream"/>; false, counting nothing, when <paramref name="perDay"/> are used up.</summary>
    public bool TryRecord(StreamInfo stream, int perDay)
    {
        var now = clock.GetUtcNow();
        var history = _scalings.GetOrAdd(stream.Id, _ => []);
        lock (history)
        {
            history.RemoveAll(t => now - t >= TimeSpan.FromDays(1));
            if (history.Count >= perDay)
                return false;
            history.Add(now);
            return true;
        }
    }
}
