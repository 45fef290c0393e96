using Runnel.Core.Buffers;
using Runnel.Core.Errors;
using Runnel.Core.Hashing;

namespace Runnel.Server.Streams;

/// <summary>
/// The records of one put request as its handler parsed them: partition keys, hash keys, and data decoded
/// straight into one pooled buffer (<see cref="DataSpace"/>, then <see cref="Add"/>). The record writer
/// routes and frames them from here. Not thread-safe; Dispose returns the buffer.
/// </summary>
public sealed class IncomingRecords : IDisposable
{
    private byte[] _data;
    private int _length;
    private readonly Entry[] _entries;

    /// <param name="count">How many records the request holds.</param>
    /// <param name="dataBytes">Their decoded data in total (a hint: the buffer grows if it is short).</param>
    public IncomingRecords(int count, long dataBytes)
    {
        _entries = new Entry[count];
        _data = BoundedBufferPool.Default.Rent((int)Math.Clamp(dataBytes, 256, Array.MaxLength));
    }

    public int Count { get; private set; }

    /// <summary>
    /// True for a stream with the AUTO record distribution strategy: partition and explicit hash keys are kept with
    /// the records but not used for placement, and the writer spreads the records over the least loaded shards.
    /// </summary>
    public bool Spread { get; init; }

    /// <summary>Room for the next record's data, at least <paramref name="maxBytes"/> long: decode into it, then call <see cref="Add"/>.</summary>
    public Span<byte> DataSpace(int maxBytes)
    {
        if (_length + maxBytes > _data.Length)
        {
            var larger = BoundedBufferPool.Default.Rent(Math.Max(_length + maxBytes, _data.Length * 2));
            _data.AsSpan(0, _length).CopyTo(larger);
            BoundedBufferPool.Default.Return(_data);
            _data = larger;
        }
        return _data.AsSpan(_length, maxBytes);
    }

    /// <summary>
    /// Adds a record whose first <paramref name="dataLength"/> bytes of data were written to <see cref="DataSpace"/>;
    /// <paramref name="partitionKeyBytes"/> is the partition key's UTF-8 length, which the handler measured already.
    /// Routing's first step happens here: the hash key, from the explicit hash key or the MD5 of the partition
    /// key. Throws AWS's InvalidArgumentException for an explicit hash key outside [0, 2^128-1].
    /// </summary>
    public void Add(string partitionKey, int partitionKeyBytes, string? explicitHashKey, int dataLength)
    {
        UInt128 hashKey;
        if (Spread)
        {
            hashKey = 0; // not used: the writer picks the shard (an explicit hash key is kept, not checked)
        }
        else if (explicitHashKey is not null)
        {
            if (!HashKey.TryParseDecimal(explicitHashKey, out hashKey))
                throw KinesisErrors.InvalidArgument($"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {explicitHashKey}");
        }
        else
        {
            hashKey = HashKey.FromPartitionKey(partitionKey);
        }
        _entries[Count++] = new Entry(partitionKey, explicitHashKey, hashKey, _length, dataLength, (long)dataLength + partitionKeyBytes);
        _length += dataLength;
    }

    public string PartitionKey(int i) => _entries[i].PartitionKey;

    public string? ExplicitHashKey(int i) => _entries[i].ExplicitHashKey;

    public UInt128 HashKeyOf(int i) => _entries[i].HashKey;

    public ReadOnlySpan<byte> Data(int i) => _data.AsSpan(_entries[i].DataStart, _entries[i].DataLength);

    /// <summary>What the record counts against the shard's write limit: its data plus its partition key's UTF-8 bytes.</summary>
    public long Bytes(int i) => _entries[i].Bytes;

    public void Dispose()
    {
        if (_data.Length == 0)
            return;
        BoundedBufferPool.Default.Return(_data);
        _data = [];
    }

    private readonly record struct Entry(string PartitionKey, string? ExplicitHashKey, UInt128 HashKey, int DataStart, int DataLength, long Bytes);
}
