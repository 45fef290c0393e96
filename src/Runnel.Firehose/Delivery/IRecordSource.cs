using Runnel.Storage;
using Runnel.Storage.Records;

namespace Runnel.Firehose.Delivery;

/// <summary>Records one part of a source gave (<see cref="Source"/>: 0 for a DirectPut log, a shard's index for a Kinesis stream).</summary>
public sealed class SourceRead(int source, ReadResult read) : IDisposable
{
    public int Source { get; } = source;
    public ReadResult Read { get; } = read;

    /// <summary>The Kinesis stream's shard the records came from (their shard id and sequence numbers); null for a DirectPut log.</summary>
    public Runnel.Core.Model.ShardInfo? Shard { get; init; }

    /// <summary>For a Kinesis stream's shard: how far the last record read is behind the shard's newest, ms (AWS's
    /// KinesisMillisBehindLatest); 0 when the read reached it.</summary>
    public long MillisBehindLatest { get; init; }

    public void Dispose() => Read.Dispose();
}

/// <summary>
/// Where a delivery stream's records come from, read in order per part of the source, from the stored position on.
/// Not thread-safe: owned by the delivery stream's worker.
/// </summary>
public interface IRecordSource
{
    /// <summary>The next records past what was read, or null when no part has more now.</summary>
    ValueTask<SourceRead?> ReadAsync(CancellationToken cancellationToken);

    /// <summary>For each part read so far, the offset one past its last record read.</summary>
    IReadOnlyDictionary<int, ulong> ReadTo { get; }
}

/// <summary>A DirectPut delivery stream's own log: one part, 0.</summary>
public sealed class DirectPutSource(IShardLog log, ulong from) : IRecordSource
{
    private const int ReadRecords = 10_000;
    private const long ReadBytes = 8L << 20;
    private readonly Dictionary<int, ulong> _readTo = new() { [0] = from };

    public IReadOnlyDictionary<int, ulong> ReadTo => _readTo;

    public async ValueTask<SourceRead?> ReadAsync(CancellationToken cancellationToken)
    {
        ulong from = _readTo[0];
        if (from >= log.NextOffset)
            return null;
        var read = await log.ReadAsync(from, ReadRecords, ReadBytes, 0, cancellationToken).ConfigureAwait(false);
        if (read.Count == 0)
        {
            read.Dispose();
            return null;
        }
        _readTo[0] = read.NextOffset;
        return new SourceRead(0, read);
    }
}
