namespace Runnel.Storage.JetStream;

/// <summary>
/// Which JetStream sequence holds which offsets, for the messages this node has written or read: a read that
/// goes on where the last one stopped finds its message without a search. Bounded: past
/// <see cref="Capacity"/> entries the oldest half is forgotten. Thread-safe.
/// </summary>
internal sealed class MessageIndex
{
    public const int Capacity = 65_536;

    private readonly Lock _gate = new();
    private readonly SortedList<ulong, (ulong Sequence, int Count)> _byOffset = [];

    public void Add(ShardMessage message)
    {
        if (message.Count == 0)
            return;
        lock (_gate)
        {
            if (_byOffset.Count >= Capacity && !_byOffset.ContainsKey(message.Offset))
                for (int i = 0; i < Capacity / 2; i++)
                    _byOffset.RemoveAt(0);
            _byOffset[message.Offset] = (message.Sequence, message.Count);
        }
    }

    /// <summary>
    /// The sequence of the message holding <paramref name="offset"/>, or of the one just after the message that
    /// ends right before it; null when this node knows neither.
    /// </summary>
    public ulong? Find(ulong offset)
    {
        lock (_gate)
        {
            var keys = _byOffset.Keys;
            int lo = 0, hi = keys.Count - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (keys[mid] <= offset)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            if (found < 0)
                return null;
            var (sequence, count) = _byOffset.Values[found];
            ulong end = keys[found] + (ulong)count;
            return offset < end ? sequence : offset == end ? sequence + 1 : null;
        }
    }

    /// <summary>Forgets the messages below <paramref name="sequence"/> (removed by retention).</summary>
    public void RemoveBelow(ulong sequence)
    {
        lock (_gate)
        {
            for (int i = _byOffset.Count - 1; i >= 0; i--)
                if (_byOffset.Values[i].Sequence < sequence)
                    _byOffset.RemoveAt(i);
        }
    }
}
