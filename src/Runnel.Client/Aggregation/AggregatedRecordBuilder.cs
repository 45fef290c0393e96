using System.Text;

namespace Runnel.Client.Aggregation;

/// <summary>
/// The KPL's <c>AggregatedRecord</c> message being built, with its exact encoded length kept as records are added
/// (docs in <see cref="KplFormat"/>). Partition keys and explicit hash keys go once each into their tables, in the order
/// they are first met; the tables are written before the records, as the KPL and aws-kinesis-agg write them. Not
/// thread-safe.
/// </summary>
internal sealed class AggregatedRecordBuilder
{
    // Field numbers of the KPL's messages (aggregation-format.md and the KPL's messages.proto).
    public const int PartitionKeyTableField = 1, ExplicitHashKeyTableField = 2, RecordsField = 3; // AggregatedRecord
    public const int PartitionKeyIndexField = 1, ExplicitHashKeyIndexField = 2, DataField = 3, TagsField = 4; // Record

    private readonly KeyTable _partitionKeys = new();
    private readonly KeyTable _explicitHashKeys = new();
    private readonly List<Entry> _records = [];

    /// <summary>The length of the message as <see cref="WriteTo"/> writes it.</summary>
    public long Length { get; private set; }

    public int Count => _records.Count;

    public UserRecord this[int index] => _records[index] is var e ? new UserRecord(e.PartitionKey, e.ExplicitHashKey, e.Data) : null!;

    /// <summary>The first record's partition key (the aggregate's).</summary>
    public string FirstPartitionKey => _records[0].PartitionKey;

    /// <summary>The first record's data length (a lone record's entry is that record).</summary>
    public int FirstDataLength => _records[0].Data.Length;

    /// <summary>What <see cref="Length"/> would be with <paramref name="record"/> added.</summary>
    public long LengthWith(UserRecord record) => Length + Measure(record.PartitionKey, record.ExplicitHashKey, record.Data.Length).Bytes;

    public void Add(UserRecord record) =>
        Add(record.PartitionKey, record.ExplicitHashKey, record.Data, Measure(record.PartitionKey, record.ExplicitHashKey, record.Data.Length));

    /// <summary>Adds a record as <see cref="Measure"/> measured it, with nothing added since.</summary>
    public void Add(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, Growth growth)
    {
        Length += growth.Bytes;
        if (growth.NewPartitionKeyBytes >= 0)
            _partitionKeys.Append(partitionKey, growth.NewPartitionKeyBytes);
        if (explicitHashKey is not null)
            _explicitHashKeys.Add(explicitHashKey);
        _records.Add(new Entry(partitionKey, explicitHashKey, data, growth.PartitionKeyIndex, growth.ExplicitHashKeyIndex, growth.RecordLength));
    }

    /// <summary>The distinct partition keys added, in the order first met.</summary>
    public string[] DistinctPartitionKeys() => _partitionKeys.Keys();

    public void Clear()
    {
        _partitionKeys.Clear();
        _explicitHashKeys.Clear();
        _records.Clear();
        Length = 0;
    }

    /// <summary>Writes the message; <paramref name="destination"/> holds at least <see cref="Length"/> bytes. Returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int at = _partitionKeys.WriteTo(destination, PartitionKeyTableField);
        at += _explicitHashKeys.WriteTo(destination[at..], ExplicitHashKeyTableField);
        foreach (var entry in _records)
        {
            destination[at++] = ProtobufWire.Tag(RecordsField, ProtobufWire.WireLengthDelimited);
            at += ProtobufWire.WriteVarint(destination[at..], (ulong)entry.Length);
            destination[at++] = ProtobufWire.Tag(PartitionKeyIndexField, ProtobufWire.WireVarint);
            at += ProtobufWire.WriteVarint(destination[at..], (ulong)entry.PartitionKeyIndex);
            if (entry.ExplicitHashKeyIndex >= 0)
            {
                destination[at++] = ProtobufWire.Tag(ExplicitHashKeyIndexField, ProtobufWire.WireVarint);
                at += ProtobufWire.WriteVarint(destination[at..], (ulong)entry.ExplicitHashKeyIndex);
            }
            var data = entry.Data.Span;
            destination[at++] = ProtobufWire.Tag(DataField, ProtobufWire.WireLengthDelimited);
            at += ProtobufWire.WriteVarint(destination[at..], (ulong)data.Length);
            data.CopyTo(destination[at..]);
            at += data.Length;
        }
        return at;
    }

    /// <summary>What a record would add: its table entries when its keys are new, and its Record field.</summary>
    public Growth Measure(string partitionKey, string? explicitHashKey, int dataLength)
    {
        long growth = 0;
        int partitionKeyIndex = _partitionKeys.IndexOf(partitionKey, out int newKeyBytes);
        if (newKeyBytes >= 0)
            growth += ProtobufWire.FieldSize(newKeyBytes);
        long length = 1 + ProtobufWire.VarintSize((ulong)partitionKeyIndex);
        int explicitHashKeyIndex = -1;
        if (explicitHashKey is not null)
        {
            explicitHashKeyIndex = _explicitHashKeys.IndexOf(explicitHashKey, out int newHashKeyBytes);
            if (newHashKeyBytes >= 0)
                growth += ProtobufWire.FieldSize(newHashKeyBytes);
            length += 1 + ProtobufWire.VarintSize((ulong)explicitHashKeyIndex);
        }
        length += ProtobufWire.FieldSize(dataLength);
        int recordLength = (int)Math.Min(length, int.MaxValue); // a record this long is refused by the callers' limits
        return new Growth(growth + ProtobufWire.FieldSize(length), partitionKeyIndex, newKeyBytes, explicitHashKeyIndex, recordLength);
    }

    /// <summary>
    /// What a record adds to the message (<see cref="Bytes"/>), and where it goes: its partition key's index (and that
    /// key's UTF-8 length when the key is new to the table, else -1), its explicit hash key's index (-1 for none), and
    /// the length of its Record field's value.
    /// </summary>
    public readonly record struct Growth(long Bytes, int PartitionKeyIndex, int NewPartitionKeyBytes, int ExplicitHashKeyIndex, int RecordLength);

    private readonly record struct Entry(string PartitionKey, string? ExplicitHashKey, ReadOnlyMemory<byte> Data, int PartitionKeyIndex, int ExplicitHashKeyIndex, int Length);

    /// <summary>A table of distinct strings in the order first added, each with its index and UTF-8 length.</summary>
    private sealed class KeyTable
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly List<(string Key, int Bytes)> _keys = [];

        /// <summary>The key's index; for a key not yet in the table, the index it would get and its UTF-8 length in <paramref name="newKeyBytes"/> (-1 otherwise).</summary>
        public int IndexOf(string key, out int newKeyBytes)
        {
            if (_index.TryGetValue(key, out int index))
            {
                newKeyBytes = -1;
                return index;
            }
            newKeyBytes = Encoding.UTF8.GetByteCount(key);
            return _keys.Count;
        }

        public void Add(string key)
        {
            if (_index.TryAdd(key, _keys.Count))
                _keys.Add((key, Encoding.UTF8.GetByteCount(key)));
        }

        /// <summary>Adds a key known to be new, of <paramref name="bytes"/> UTF-8 bytes.</summary>
        public void Append(string key, int bytes)
        {
            _index.Add(key, _keys.Count);
            _keys.Add((key, bytes));
        }

        public void Clear()
        {
            _index.Clear();
            _keys.Clear();
        }

        public string[] Keys()
        {
            var keys = new string[_keys.Count];
            for (int i = 0; i < keys.Length; i++)
                keys[i] = _keys[i].Key;
            return keys;
        }

        public int WriteTo(Span<byte> destination, int field)
        {
            int at = 0;
            foreach (var (key, bytes) in _keys)
            {
                destination[at++] = ProtobufWire.Tag(field, ProtobufWire.WireLengthDelimited);
                at += ProtobufWire.WriteVarint(destination[at..], (ulong)bytes);
                at += Encoding.UTF8.GetBytes(key, destination[at..]);
            }
            return at;
        }
    }
}
