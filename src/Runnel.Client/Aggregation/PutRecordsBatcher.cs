namespace Runnel.Client.Aggregation;

/// <summary>
/// Packs entries (KPL aggregates, or records sent as they are) into PutRecords calls within
/// <see cref="PutRecordsLimits"/>, in the order given, so that records of one shard keep their order across calls.
/// <typeparamref name="T"/> is whatever the producer tracks per entry (a <see cref="PutRecordsEntry"/>, or it with the
/// user records it carries); <c>requestBytesOf</c> tells what it counts (<see cref="PutRecordsEntry.RequestBytes"/>).
/// Not thread-safe.
/// </summary>
/// <typeparam name="T">The producer's entry.</typeparam>
public sealed class PutRecordsBatcher<T>
{
    private readonly Func<T, long> _requestBytesOf;
    private List<T> _items = [];

    /// <summary>An empty batch under <paramref name="limits"/>.</summary>
    public PutRecordsBatcher(PutRecordsLimits limits, Func<T, long> requestBytesOf)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(requestBytesOf);
        Limits = limits;
        _requestBytesOf = requestBytesOf;
    }

    /// <summary>The limits the batch keeps to.</summary>
    public PutRecordsLimits Limits { get; }

    /// <summary>The entries of the call being filled, in order.</summary>
    public IReadOnlyList<T> Items => _items;

    /// <summary>The number of entries in the call being filled.</summary>
    public int Count => _items.Count;

    /// <summary>The bytes (data and partition keys) of the call being filled.</summary>
    public long RequestBytes { get; private set; }

    /// <summary>Whether no further entry can join the call (it has <see cref="PutRecordsLimits.MaxRecords"/> entries).</summary>
    public bool IsFull => _items.Count >= Limits.MaxRecords;

    /// <summary>
    /// Adds <paramref name="item"/> to the call when it stays within the limits; false, and nothing changed, when it
    /// would not (the caller sends <see cref="Drain"/> and adds again). An empty batch takes every entry within the
    /// record limit.
    /// </summary>
    /// <exception cref="ArgumentException">The entry alone is over <see cref="PutRecordsLimits.MaxRecordBytes"/>.</exception>
    public bool TryAdd(T item)
    {
        long bytes = Measure(item);
        if (_items.Count >= Limits.MaxRecords || RequestBytes + bytes > Limits.MaxRequestBytes)
            return false;
        _items.Add(item);
        RequestBytes += bytes;
        return true;
    }

    /// <summary>The entries of the call, in order; the batch is left empty for the next call.</summary>
    public List<T> Drain()
    {
        var items = _items;
        _items = [];
        RequestBytes = 0;
        return items;
    }

    /// <summary>All of <paramref name="items"/> packed greedily, in order, into as few calls as the limits allow in that order.</summary>
    /// <exception cref="ArgumentException">An entry alone is over the record limit.</exception>
    public static List<List<T>> Pack(IEnumerable<T> items, PutRecordsLimits limits, Func<T, long> requestBytesOf)
    {
        ArgumentNullException.ThrowIfNull(items);
        var batcher = new PutRecordsBatcher<T>(limits, requestBytesOf);
        var calls = new List<List<T>>();
        foreach (var item in items)
        {
            if (batcher.TryAdd(item))
                continue;
            calls.Add(batcher.Drain());
            batcher.TryAdd(item); // an empty batch takes any entry within the record limit
        }
        if (batcher.Count > 0)
            calls.Add(batcher.Drain());
        return calls;
    }

    private long Measure(T item)
    {
        long bytes = _requestBytesOf(item);
        if (bytes < 0 || bytes > Limits.MaxRecordBytes)
            throw new ArgumentException($"An entry of {bytes} bytes (data and partition key) is over the record limit of {Limits.MaxRecordBytes} bytes.", nameof(item));
        return bytes;
    }
}
