namespace Runnel.Storage.JetStream;

/// <summary>
/// The newest messages of one shard with their records: those this node appended while its readers were at the tip,
/// and those other nodes' tip notices carried (up to <see cref="JetStreamShardLog.MaxNoticeFrameBytes"/> each). A
/// read at the tip takes a message from here instead of a direct get, which any replica may answer, and one that is
/// behind the leader answers nothing yet: it was asked again a millisecond later, the tail of a cluster's
/// put-to-visible latency. Bounded by count and by bytes, oldest out first. Thread-safe.
/// </summary>
internal sealed class RecentMessages
{
    public const int MaxMessages = 16;
    public const int MaxBytes = 1 << 20;

    private readonly Lock _lock = new();
    private readonly Queue<ShardMessage> _order = new();
    private readonly Dictionary<ulong, ShardMessage> _bySequence = [];
    private long _bytes;

    /// <summary>Keeps a message whose frames are all there (a marker has none); a larger one than the bound is not kept.</summary>
    public void Add(ShardMessage message)
    {
        if (message.Frames.Length > MaxBytes)
            return;
        lock (_lock)
        {
            if (!_bySequence.TryAdd(message.Sequence, message))
                return;
            _order.Enqueue(message);
            _bytes += message.Frames.Length;
            while (_order.Count > MaxMessages || _bytes > MaxBytes)
            {
                var oldest = _order.Dequeue();
                _bySequence.Remove(oldest.Sequence);
                _bytes -= oldest.Frames.Length;
            }
        }
    }

    /// <summary>The message of this sequence, when it is one of the newest this node holds.</summary>
    public ShardMessage? Get(ulong sequence)
    {
        lock (_lock)
            return _bySequence.GetValueOrDefault(sequence);
    }

    /// <summary>Forgets the messages below <paramref name="sequence"/> (removed by retention).</summary>
    public void RemoveBelow(ulong sequence)
    {
        lock (_lock)
        {
            if (_order.Count == 0 || _order.All(m => m.Sequence >= sequence))
                return;
            var kept = _order.Where(m => m.Sequence >= sequence).ToList();
            _order.Clear();
            _bySequence.Clear();
            _bytes = 0;
            foreach (var m in kept)
            {
                _order.Enqueue(m);
                _bySequence[m.Sequence] = m;
                _bytes += m.Frames.Length;
            }
        }
    }
}
