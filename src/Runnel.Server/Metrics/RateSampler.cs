namespace Runnel.Server.Metrics;

/// <summary>
/// Rates of cumulative counters (a metric cell's sum, a client's records): every few seconds it notes each counter's
/// value; a rate is the difference between the value now and the one noted about a window ago, over the time between.
/// Counters are keyed by the object that holds them (a cell, an activity entry), so nothing is named or allocated per
/// request. Thread-safe.
/// </summary>
public sealed class RateSampler : IDisposable
{
    private const int Kept = 14; // a minute and a bit at one snapshot every 5 s

    private readonly Func<IEnumerable<(object Key, long Value)>> _read;
    private readonly TimeProvider _clock;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Queue<(long AtMillis, Dictionary<object, long> Values)> _snapshots = new();

    public RateSampler(Func<IEnumerable<(object Key, long Value)>> read, TimeProvider clock, TimeSpan interval)
    {
        _read = read;
        _clock = clock;
        Note();
        _timer = clock.CreateTimer(_ => Note(), null, interval, interval);
    }

    private long NowMillis => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Notes every counter's value now (the timer does it; tests may too).</summary>
    public void Note()
    {
        var values = new Dictionary<object, long>(ReferenceEqualityComparer.Instance);
        foreach (var (key, value) in _read())
            values[key] = value;
        lock (_lock)
        {
            _snapshots.Enqueue((NowMillis, values));
            while (_snapshots.Count > Kept)
                _snapshots.Dequeue();
        }
    }

    /// <summary>
    /// How much <paramref name="current"/> (the counter's value now) grew per second over about <paramref name="window"/>
    /// (the newest snapshot at least that old, else the oldest); a counter not noted then started from 0.
    /// </summary>
    public double PerSecond(object key, long current, TimeSpan window) => Growth(key, current, window, out double seconds) / Math.Max(seconds, 1);

    /// <summary>How much <paramref name="current"/> grew over about <paramref name="window"/>, scaled to the whole window when less is known.</summary>
    public double Over(object key, long current, TimeSpan window)
    {
        double growth = Growth(key, current, window, out double seconds);
        return seconds <= 0 ? 0 : growth * Math.Min(window.TotalSeconds / seconds, 1_000);
    }

    private double Growth(object key, long current, TimeSpan window, out double seconds)
    {
        long now = NowMillis;
        (long AtMillis, Dictionary<object, long> Values)? chosen = null;
        lock (_lock)
        {
            foreach (var snapshot in _snapshots)
            {
                if (chosen is null || now - snapshot.AtMillis >= window.TotalMilliseconds)
                    chosen = snapshot;
                if (now - snapshot.AtMillis < window.TotalMilliseconds)
                    break;
            }
        }
        if (chosen is not { } from)
        {
            seconds = 0;
            return 0;
        }
        seconds = (now - from.AtMillis) / 1000.0;
        return Math.Max(0, current - from.Values.GetValueOrDefault(key));
    }

    public void Dispose() => _timer.Dispose();
}
