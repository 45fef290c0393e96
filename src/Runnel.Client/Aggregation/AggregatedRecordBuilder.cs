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

    public UserRecord this[int index] => _records[index].Record;

    /// <summary>What <see cref="Length"/> would be with <paramref name="record"/> added.</summary>
    public long LengthWith(UserRecord record) => Length + Growth(record, out _, out _, out _);

    public void Add(UserRecord record)
    {
        Length += Growth(record, out int partitionKeyIndex, out int explicitHashKeyIndex, out int recordLength);
        _partitionKeys.Add(record.PartitionKey);
        if (record.ExplicitHashKey is not null)
            _explicitHashKeys.Add(record.ExplicitHashKey);
        _records.Add(new Entry(record, partitionKeyIndex, explicitHashKeyIndex, recordLength));
    }

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
            var data = entry.Record.Data.Span;
            destination[at++] = ProtobufWire.Tag(DataField, ProtobufWire.WireLengthDelimited);
            at += ProtobufWire.WriteVarint(destination[at..], (ulong)data.Length);
            data.CopyTo(destination[at..]);
            at += data.Length;
        }
        return at;
    }

    /// <summary>The bytes <paramref name="record"/> adds: its table entries when its keys are new, and its Record field.</summary>
    private long Growth(UserRecord record, out int partitionKeyIndex, out int explicitHashKeyIndex, out int recordLength)
    {
        long growth = 0;
        partitionKeyIndex = _partitionKeys.IndexOf(record.PartitionKey, out int newKeyBytes);
        if (newKeyBytes >= 0)
            growth += ProtobufWire.FieldSize(newKeyBytes);
        long length = 1 + ProtobufWire.VarintSize((ulong)partitionKeyIndex);
        explicitHashKeyIndex = -1;
        if (record.ExplicitHashKey is not null)
        {
            explicitHashKeyIndex = _explicitHashKeys.IndexOf(record.ExplicitHashKey, out int newHashKeyBytes);
            if (newHashKeyBytes >= 0)
                growth += ProtobufWire.FieldSize(newHashKeyBytes);
            length += 1 + ProtobufWire.VarintSize((ulong)explicitHashKeyIndex);
        }
        length += ProtobufWire.FieldSize(record.Data.Length);
        recordLength = (int)Math.Min(length, int.MaxValue); // a record this long is refused by the callers' limits
        return growth + ProtobufWire.FieldSize(length);
    }

    private readonly record struct Entry(UserRecord Record, int PartitionKeyIndex, int ExplicitHashKeyIndex, int Length);

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

        public void Clear()
        {
            _index.Clear();
            _keys.Clear();
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
