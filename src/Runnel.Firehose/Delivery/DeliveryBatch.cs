namespace Runnel.Firehose.Delivery;

/// <summary>
/// The records of one buffer (one partition of one destination), copied into one contiguous payload as they
/// arrive: an S3 object is their concatenation, so the common case delivers <see cref="Payload"/> as it is. Knows the
/// lowest position it holds of each source, so that a delivery stream's position never passes an undelivered record.
/// Not thread-safe: owned by the delivery stream's worker.
/// </summary>
public sealed class DeliveryBatch
{
    private byte[] _payload = new byte[4096];
    private int _length;
    private readonly List<(int Offset, int Length, long ArrivalMillis, int Source, ulong Position)> _records = [];
    private readonly Dictionary<int, ulong> _lowest = [];

    internal DeliveryBatch(string partition, long openedMillis)
    {
        Partition = partition;
        OpenedMillis = openedMillis;
    }

    /// <summary>
    /// What the records share: their dynamic-partitioning keys, evaluated (empty without dynamic partitioning). The
    /// timestamp parts of a prefix are not part of it: AWS evaluates them once per object, from
    /// <see cref="OldestArrivalMillis"/>.
    /// </summary>
    public string Partition { get; }

    /// <summary>The approximate arrival time of the oldest record in the batch, Unix ms: the instant the timestamp
    /// expressions of an S3 prefix are evaluated at.</summary>
    public long OldestArrivalMillis { get; private set; } = long.MaxValue;

    /// <summary>When the buffer received its first record, Unix ms: its interval counts from here.</summary>
    public long OpenedMillis { get; }

    public int Count => _records.Count;

    /// <summary>The records' bytes, without framing.</summary>
    public long Bytes => _length;

    /// <summary>Every record's bytes, one after the other.</summary>
    public ReadOnlyMemory<byte> Payload => _payload.AsMemory(0, _length);

    /// <summary>The bytes of record <paramref name="index"/> (0 is the first added).</summary>
    public ReadOnlyMemory<byte> Record(int index)
    {
        var (offset, length, _, _, _) = _records[index];
        return _payload.AsMemory(offset, length);
    }

    /// <summary>The approximate arrival time of record <paramref name="index"/>, Unix ms.</summary>
    public long ArrivalMillis(int index) => _records[index].ArrivalMillis;

    /// <summary>Where record <paramref name="index"/> came from: the part of the source, and its position there.</summary>
    public (int Source, ulong Position) Origin(int index) => (_records[index].Source, _records[index].Position);

    /// <summary>The lowest position this batch holds of each source it holds records of.</summary>
    public IReadOnlyDictionary<int, ulong> LowestPositions => _lowest;

    /// <param name="suffix">Bytes written after the record's (AppendDelimiterToRecord's newline), part of it.</param>
    internal void Add(SourceRecord record, ReadOnlySpan<byte> suffix = default)
    {
        int length = record.Data.Length + suffix.Length;
        if (_payload.Length - _length < length)
            Array.Resize(ref _payload, (int)Math.Min(Array.MaxLength, Math.Max((long)_payload.Length * 2, (long)_length + length)));
        record.Data.CopyTo(_payload.AsSpan(_length));
        suffix.CopyTo(_payload.AsSpan(_length + record.Data.Length));
        _records.Add((_length, length, record.ArrivalMillis, record.Source, record.Position));
        _length += length;
        if (!_lowest.TryGetValue(record.Source, out ulong lowest) || record.Position < lowest)
            _lowest[record.Source] = record.Position;
        OldestArrivalMillis = Math.Min(OldestArrivalMillis, record.ArrivalMillis);
    }
}
