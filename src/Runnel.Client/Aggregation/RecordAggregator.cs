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

    private AggregatedRecordBuilder _builder = new();
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
    public long DataBytes => DataBytesWith(Count, _builder.Length, Count == 1 ? _builder.FirstDataLength : 0);

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
        return TryAddValidated(record.PartitionKey, record.ExplicitHashKey, record.Data, -1);
    }

    /// <summary>
    /// <see cref="TryAdd"/> for a record its caller has validated already (the producer validates each on acceptance),
    /// measuring it once; <paramref name="keyBytes"/> is the partition key's UTF-8 length when known, else -1.
    /// </summary>
    internal bool TryAddValidated(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, int keyBytes)
    {
        var growth = _builder.Measure(partitionKey, explicitHashKey, data.Length);
        if (keyBytes < 0 && Count == 0)
            keyBytes = Encoding.UTF8.GetByteCount(partitionKey);
        long size = DataBytesWith(Count + 1, _builder.Length + growth.Bytes, data.Length) + (Count == 0 ? keyBytes : _firstKeyBytes);
        if (size > MaxRecordBytes)
        {
            long alone = data.Length + (long)Encoding.UTF8.GetByteCount(partitionKey);
            if (alone > MaxRecordBytes)
                throw new ArgumentException($"A record of {alone} bytes (data and partition key) is over the limit of {MaxRecordBytes} bytes.", nameof(data));
            return false;
        }
        if (Count == 0)
            _firstKeyBytes = keyBytes;
        _builder.Add(partitionKey, explicitHashKey, data, growth);
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

    /// <summary>
    /// Takes the two or more records gathered out as an aggregate to encode later, maybe on another thread, and leaves
    /// the aggregator empty, gathering into <paramref name="next"/> (an empty builder, say one a sealed aggregate gave
    /// back). Encoding an aggregate of up to 1 MiB (protobuf and MD5) is then off the thread that gathers records.
    /// </summary>
    /// <exception cref="InvalidOperationException">Fewer than two records gathered (a lone record goes as it is: <see cref="ToEntry"/>).</exception>
    internal SealedAggregate Seal(AggregatedRecordBuilder next, Action<AggregatedRecordBuilder> recycle)
    {
        if (Count < 2)
            throw new InvalidOperationException("Only an aggregate of two records or more is sealed.");
        var aggregate = new SealedAggregate(_builder, RequestBytes, recycle);
        _builder = next;
        _firstKeyBytes = 0;
        return aggregate;
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
