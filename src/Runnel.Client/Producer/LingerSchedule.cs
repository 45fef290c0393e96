namespace Runnel.Client.Producer;

/// <summary>
/// When each shard's open aggregate must go: <see cref="ProducerOptions.RecordMaxBufferedTime"/> after its oldest
/// record was accepted. The pipeline notes the oldest record when an aggregate starts (and again when a completed
/// aggregate leaves records behind), forgets the shard when its aggregate is sent, and asks which shards are due and
/// when the next one will be. Timestamps are the producer clock's. Not thread-safe.
/// </summary>
internal sealed class LingerSchedule(TimeProvider clock, TimeSpan linger)
{
    private readonly Dictionary<string, long> _oldest = new(StringComparer.Ordinal);
    private readonly long _lingerTicks = (long)(linger.TotalSeconds * clock.TimestampFrequency);

    /// <summary>Notes that <paramref name="shardId"/>'s aggregate now starts with a record accepted at <paramref name="acceptedAt"/>.</summary>
    public void Started(string shardId, long acceptedAt) => _oldest[shardId] = acceptedAt;

    /// <summary>Forgets <paramref name="shardId"/>: its aggregate was sent and none is open.</summary>
    public void Sent(string shardId) => _oldest.Remove(shardId);

    /// <summary>Whether <paramref name="shardId"/> has an open aggregate.</summary>
    public bool IsOpen(string shardId) => _oldest.ContainsKey(shardId);

    /// <summary>The shards whose aggregates have waited their linger, as of now.</summary>
    public List<string> Due()
    {
        long now = clock.GetTimestamp();
        var due = new List<string>();
        foreach (var (shardId, oldest) in _oldest)
            if (now - oldest >= _lingerTicks)
                due.Add(shardId);
        return due;
    }

    /// <summary>How long until the next aggregate is due (zero when one is); null when none is open.</summary>
    public TimeSpan? NextDue()
    {
        if (_oldest.Count == 0)
            return null;
        long now = clock.GetTimestamp();
        long first = _oldest.Values.Min();
        long ticks = first + _lingerTicks - now;
        return ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(ticks / (double)clock.TimestampFrequency);
    }
}
