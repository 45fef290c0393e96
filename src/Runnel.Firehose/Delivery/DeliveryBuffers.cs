namespace Runnel.Firehose.Delivery;

/// <summary>
/// The buffers of one destination, one per partition (the evaluated dynamic-partitioning keys; one buffer without
/// dynamic partitioning), and what they decide: which buffer is due for delivery
/// (<see cref="BufferingHints"/>: full, or filling for the interval), when the next one will be, and the position a
/// delivery stream may record as read past (<see cref="HeldFrom"/>): nothing still buffered or being delivered may
/// fall behind it, so a restart reads again every record not yet delivered. Times are passed in (Unix ms of the
/// server's one clock). Not thread-safe: owned by the delivery stream's worker.
/// </summary>
public sealed class DeliveryBuffers(BufferingHints hints)
{
    private readonly Dictionary<string, DeliveryBatch> _filling = new(StringComparer.Ordinal);
    private readonly HashSet<DeliveryBatch> _delivering = [];

    public BufferingHints Hints { get; } = hints;

    /// <summary>The buffers still filling.</summary>
    public IEnumerable<DeliveryBatch> Filling => _filling.Values;

    /// <summary>Whether a buffer of <paramref name="partition"/> is filling.</summary>
    public bool IsFilling(string partition) => _filling.ContainsKey(partition);

    /// <summary>Records in buffers still filling (not those taken for delivery).</summary>
    public int BufferedRecords => _filling.Values.Sum(b => b.Count);

    /// <summary>
    /// Adds a record to the buffer of <paramref name="partition"/>, opening one at <paramref name="nowMillis"/> when
    /// there is none. Returns that buffer, taken out for delivery, when the record filled it to the size hint;
    /// otherwise null.
    /// </summary>
    public DeliveryBatch? Add(string partition, SourceRecord record, long nowMillis, ReadOnlySpan<byte> suffix = default)
    {
        if (!_filling.TryGetValue(partition, out var batch))
            _filling[partition] = batch = new DeliveryBatch(partition, nowMillis);
        batch.Add(record, suffix);
        return batch.Bytes >= Hints.SizeBytes ? Take(batch) : null;
    }

    /// <summary>Takes out for delivery every buffer that has been filling for the interval at <paramref name="nowMillis"/>
    /// (with an interval of 0, every buffer holding anything), oldest first.</summary>
    public IReadOnlyList<DeliveryBatch> TakeDue(long nowMillis) =>
        [.. _filling.Values.Where(b => nowMillis - b.OpenedMillis >= Hints.IntervalMillis).OrderBy(b => b.OpenedMillis).ToList().Select(Take)];

    /// <summary>Takes out every buffer, due or not (a delivery stream that stops, or whose configuration changed).</summary>
    public IReadOnlyList<DeliveryBatch> TakeAll() => [.. _filling.Values.OrderBy(b => b.OpenedMillis).ToList().Select(Take)];

    /// <summary>When the oldest buffer still filling becomes due, Unix ms; null when nothing is buffered.</summary>
    public long? NextDueMillis => _filling.Count == 0 ? null : _filling.Values.Min(b => b.OpenedMillis) + Hints.IntervalMillis;

    /// <summary>A batch taken out was delivered, or went to the error output: its records hold the position back no more.</summary>
    public void Done(DeliveryBatch batch)
    {
        if (!_delivering.Remove(batch))
            throw new InvalidOperationException($"The batch of partition '{batch.Partition}' was not taken out for delivery, or was done already.");
    }

    /// <summary>
    /// For each source, the lowest position of a record still buffered or being delivered: a restart must read that
    /// source again from there. A source not named holds nothing back (its position is wherever reading got to).
    /// </summary>
    public IReadOnlyDictionary<int, ulong> HeldFrom()
    {
        var held = new Dictionary<int, ulong>();
        foreach (var batch in _filling.Values.Concat(_delivering))
            foreach (var (source, position) in batch.LowestPositions)
                if (!held.TryGetValue(source, out ulong lowest) || position < lowest)
                    held[source] = position;
        return held;
    }

    private DeliveryBatch Take(DeliveryBatch batch)
    {
        _filling.Remove(batch.Partition);
        _delivering.Add(batch);
        return batch;
    }
}
