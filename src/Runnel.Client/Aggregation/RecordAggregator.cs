using System.Text;

namespace Runnel.Client.Aggregation;

/// <summary>
/// Gathers user records bound for one shard into one Kinesis record in the KPL's format (<see cref="KplFormat"/>),
/// knowing at every step the exact size of the entry <see cref="ToEntry"/> would give, and refusing a record that
/// would take it past <see cref="MaxRecordBytes"/>. The caller groups records by the shard their hash keys map to
/// (<see cref="ShardMap"/>) and keeps one aggregator per shard: all the records of an aggregate must map to its
/// shard, since the aggregate goes where its first record goes.
/// <para>
/// The entry: with two records or more, the aggregate, under the first record's partition key and with the first
/// record's effective hash key as its explicit hash key (so it lands where that record would; the KPL does the same,
/// but sends the one-character partition key "a": the first record's key is kept here so that what reads raw records,
/// such as Firehose or a hot-key view, sees a real key, at the cost of at most 256 bytes). With one record, that
/// record as it is, its own keys and data: the KPL sends a lone record unaggregated too, and a consumer without a
/// deaggregator reads it unchanged.
/// </para>
/// Sizes count as Kinesis counts a record against its limit: the data and the partition key's UTF-8 bytes. Not
/// thread-safe.
/// </summary>
public sealed class RecordAggregator
{
    /// <summary>The Kinesis record limit by default (1 MiB for data and partition key); a stream may allow up to 10 MiB.</summary>
    public const int DefaultMaxRecordBytes = 1024 * 1024;

    /// <summary>The longest partition key Kinesis takes, in characters.</summary>
    public const int MaxPartitionKeyLength = 256;

    private readonly AggregatedRecordBuilder _builder = new();
    private int _firstKeyBytes; // the UTF-8 length of the first record's partition key: the entry's

    /// <summary>An empty aggregator whose entries stay within <paramref name="maxRecordBytes"/> (data and partition key).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRecordBytes"/> leaves no room for an aggregate.</exception>
    public RecordAggregator(int maxRecordBytes = DefaultMaxRecordBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordBytes, KplFormat.Overhead + 1);
        MaxRecordBytes = maxRecordBytes;
    }

    /// <summary>The most an entry may count (data and partition key), the Kinesis record limit or a smaller aggregate size.</summary>
    public int MaxRecordBytes { get; }

    /// <summary>The number of user records gathered.</summary>
    public int Count => _builder.Count;

    /// <summary>The user record at <paramref name="index"/>, in the order added (their sub-sequence numbers once read back).</summary>
    public UserRecord this[int index] => _builder[index];

    /// <summary>The size of the entry's <c>Data</c> as <see cref="ToEntry"/> makes it; 0 when empty.</summary>
    public long DataBytes => DataBytesWith(Count, _builder.Length, Count == 1 ? _builder[0].Data.Length : 0);

    /// <summary>What the entry counts against the record limit: <see cref="DataBytes"/> and its partition key; 0 when empty.</summary>
    public long RequestBytes => Count == 0 ? 0 : DataBytes + _firstKeyBytes;

    /// <summary>What <see cref="RequestBytes"/> would be with <paramref name="record"/> added.</summary>
    public long RequestBytesWith(UserRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        int keyBytes = Count == 0 ? Encoding.UTF8.GetByteCount(record.PartitionKey) : _firstKeyBytes;
        return DataBytesWith(Count + 1, _builder.LengthWith(record), record.Data.Length) + keyBytes;
    }

    /// <summary>
    /// Adds <paramref name="record"/> when the entry stays within <see cref="MaxRecordBytes"/>; false, and nothing
    /// changed, when it would not (the caller then sends <see cref="ToEntry"/>, clears and adds again). An empty
    /// aggregator takes every record that fits a Kinesis record alone.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The record is not one Kinesis takes: a partition key of 0 or more than 256 characters, an explicit hash key that
    /// is not one (<see cref="HashKeys.TryParse"/>), or data and partition key over <see cref="MaxRecordBytes"/> alone.
    /// </exception>
    public bool TryAdd(UserRecord record)
    {
        Validate(record);
        long size = RequestBytesWith(record);
        if (size > MaxRecordBytes)
        {
            long alone = record.Data.Length + (long)Encoding.UTF8.GetByteCount(record.PartitionKey);
            if (alone > MaxRecordBytes)
                throw new ArgumentException($"A record of {alone} bytes (data and partition key) is over the limit of {MaxRecordBytes} bytes.", nameof(record));
            return false;
        }
        if (Count == 0)
            _firstKeyBytes = Encoding.UTF8.GetByteCount(record.PartitionKey);
        _builder.Add(record);
        return true;
    }

    /// <summary>
    /// The Kinesis record to put: the aggregate of the records gathered, or the lone record as it is (see the class's
    /// doc). The aggregator is left as it is.
    /// </summary>
    /// <exception cref="InvalidOperationException">The aggregator is empty.</exception>
    public PutRecordsEntry ToEntry()
    {
        if (Count == 0)
            throw new InvalidOperationException("An empty aggregator makes no record.");
        var first = _builder[0];
        if (Count == 1)
            return new PutRecordsEntry(first.PartitionKey, first.ExplicitHashKey, first.Data);
        return new PutRecordsEntry(first.PartitionKey, HashKeys.Format(first.EffectiveHashKey()), KplFormat.EncodeBuilt(_builder));
    }

    /// <summary>Empties the aggregator, for the next records.</summary>
    public void Clear()
    {
        _builder.Clear();
        _firstKeyBytes = 0;
    }

    private static long DataBytesWith(int count, long messageLength, int loneDataLength) => count switch
    {
        0 => 0,
        1 => loneDataLength,
        _ => KplFormat.Overhead + messageLength,
    };

    private static void Validate(UserRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.PartitionKey.Length is 0 or > MaxPartitionKeyLength)
            throw new ArgumentException($"A partition key has 1 to {MaxPartitionKeyLength} characters; this one has {record.PartitionKey.Length}.", nameof(record));
        if (record.ExplicitHashKey is not null && !HashKeys.TryParse(record.ExplicitHashKey, out _))
            throw new ArgumentException($"'{record.ExplicitHashKey}' is not an explicit hash key: decimal digits without leading zeros, from 0 to 2^128 - 1.", nameof(record));
    }
}
