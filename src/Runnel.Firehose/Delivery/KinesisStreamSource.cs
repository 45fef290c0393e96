using Runnel.Core.Model;
using Runnel.Storage;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// A Kinesis stream as a delivery stream's source, read through the shard layer: every shard from the stored position,
/// or, for a shard never read, from the first record that arrived at or after delivery began (Firehose reads a
/// stream from LATEST when the delivery stream is made); a shard born of a reshard only once its parents were read to
/// their end, as a KCL consumer reads them. Each delivery stream has its own positions, so two on one stream each
/// receive every record. Not thread-safe: owned by the delivery stream's worker.
/// </summary>
public sealed class KinesisStreamSource(Func<StreamInfo?> stream, IShardStore logs, DeliveryPosition position, long startMillis) : IRecordSource
{
    private const int ReadRecords = 10_000;
    private const long ReadBytes = 8L << 20;
    private readonly Dictionary<int, ulong> _readTo = [];
    private long _streamId = -1;

    public IReadOnlyDictionary<int, ulong> ReadTo => _readTo;

    /// <summary>The name of the stream read (as the server holds it); null until it was found.</summary>
    public string? StreamName { get; private set; }

    public async ValueTask<SourceRead?> ReadAsync(CancellationToken cancellationToken)
    {
        if (stream() is not { } info)
            return null; // the stream is gone (or not yet seen by this node): nothing to read
        StreamName = info.Name;
        if (_streamId != info.Id)
        {
            if (_streamId >= 0)
                _readTo.Clear(); // deleted and made again under the name: another stream, read from its start
            _streamId = info.Id;
        }
        foreach (var shard in info.Shards.OrderBy(s => s.Index))
        {
            if (await FinishedAsync(info, shard, cancellationToken).ConfigureAwait(false) || !await ParentsFinishedAsync(info, shard, cancellationToken).ConfigureAwait(false))
                continue;
            ulong from = await FromAsync(info, shard, cancellationToken).ConfigureAwait(false);
            var log = await logs.OpenAsync(info.Id, shard.Index).ConfigureAwait(false);
            ulong end = shard.EndOffset ?? ulong.MaxValue;
            if (from >= Math.Min(log.NextOffset, end))
                continue;
            var read = await log.ReadAsync(from, ReadRecords, ReadBytes, 0, cancellationToken).ConfigureAwait(false);
            if (read.Count == 0)
            {
                // Records before it expired: reading starts again where the log now begins.
                _readTo[shard.Index] = Math.Max(from, read.NextOffset);
                read.Dispose();
                continue;
            }
            _readTo[shard.Index] = read.NextOffset;
            long behind = read.NextOffset >= Math.Min(log.NextOffset, end) ? 0 : Math.Max(0, log.LastArrivalMillis - read.Records[read.Count - 1].ArrivalMillis);
            return new SourceRead(shard.Index, read) { Shard = shard, MillisBehindLatest = behind };
        }
        return null;
    }

    /// <summary>Where reading a shard continues: what was read, else the stored position, else the start of delivery.</summary>
    private async ValueTask<ulong> FromAsync(StreamInfo info, ShardInfo shard, CancellationToken cancellationToken)
    {
        if (_readTo.TryGetValue(shard.Index, out ulong read))
            return read;
        ulong from;
        if (position.Has(shard.Index))
            from = position.Of(shard.Index);
        else if (logs.OpenIfPresent(info.Id, shard.Index) is { } log)
            from = await log.FirstOffsetAtOrAfterAsync(startMillis, cancellationToken).ConfigureAwait(false);
        else
            from = 0; // no log yet: no records yet, all of them after the start
        _readTo[shard.Index] = from;
        return from;
    }

    /// <summary>A closed shard read to its end.</summary>
    private async ValueTask<bool> FinishedAsync(StreamInfo info, ShardInfo shard, CancellationToken cancellationToken) =>
        shard.EndOffset is { } end && await FromAsync(info, shard, cancellationToken).ConfigureAwait(false) >= end;

    private async ValueTask<bool> ParentsFinishedAsync(StreamInfo info, ShardInfo shard, CancellationToken cancellationToken)
    {
        foreach (int? parent in new[] { shard.ParentIndex, shard.AdjacentParentIndex })
            if (parent is { } index && info.FindShard(index) is { } held && !await FinishedAsync(info, held, cancellationToken).ConfigureAwait(false))
                return false;
        return true;
    }
}
