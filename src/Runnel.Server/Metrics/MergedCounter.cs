namespace Runnel.Server.Metrics;

/// <summary>
/// One counter series per set of labels, summed over the entries that share them (two clients whose User-Agents
/// differ only after the first product are one <c>Writer</c>), so that an exposition never holds two samples with the
/// same labels, and the series stay as many as the labels, not the User-Agents. A sum must not go down when one of its
/// entries is forgotten (Prometheus reads a decrease as a reset): what a forgotten entry counted stays in the sum for
/// as long as an entry with its labels is left; when none is, the series ends. Thread-safe (a lock, taken by scrapes only).
/// </summary>
public sealed class MergedCounter<TLabels> where TLabels : notnull
{
    private readonly Dictionary<object, (TLabels Labels, long Value)> _entries = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<TLabels, long> _forgotten = [];
    private readonly Lock _lock = new();

    /// <summary>The sum per labels of <paramref name="live"/> (each entry, its labels, its count now).</summary>
    public IReadOnlyList<(TLabels Labels, long Value)> Sum(IEnumerable<(object Entry, TLabels Labels, long Value)> live)
    {
        var sums = new Dictionary<TLabels, long>();
        lock (_lock)
        {
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            foreach (var (entry, labels, value) in live)
            {
                seen.Add(entry);
                _entries[entry] = (labels, value);
                sums[labels] = sums.GetValueOrDefault(labels) + value;
            }
            foreach (var (entry, last) in _entries.Where(e => !seen.Contains(e.Key)).ToList())
            {
                _entries.Remove(entry);
                if (sums.ContainsKey(last.Labels))
                    _forgotten[last.Labels] = _forgotten.GetValueOrDefault(last.Labels) + last.Value;
            }
            foreach (var labels in _forgotten.Keys.Where(l => !sums.ContainsKey(l)).ToList())
                _forgotten.Remove(labels);
            return sums.Select(s => (s.Key, s.Value + _forgotten.GetValueOrDefault(s.Key))).ToList();
        }
    }
}
