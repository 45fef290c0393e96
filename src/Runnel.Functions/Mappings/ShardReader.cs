using Runnel.Core.Model;
using Runnel.Functions.Catalog;
using Runnel.Storage.Records;

namespace Runnel.Functions.Mappings;

/// <summary>
/// Gives one shard's records to a mapping's function, from the shard's position until its end (a shard closed by a
/// reshard) or the mapping stops: reads up to <c>BatchSize</c> records per lane at a time (a short read held up to
/// <c>MaximumBatchingWindowInSeconds</c>), keeps those its <see cref="EventFilter"/> matches (the rest count as done),
/// deals them to <c>ParallelizationFactor</c> lanes by partition key (so one key's records stay in order) whose batches
/// run at once, or, with <c>TumblingWindowInSeconds</c>, groups them by window and carries the window's state, closing a
/// window with its final invocation once a later window's records come or its end has passed with the shard read to
/// its tip. The position (and open window) is stored once every record of a read is done. Not thread-safe: one per shard.
/// </summary>
internal sealed class ShardReader(EventSourceMapping mapping, MappingContext context, BatchProcessor batches, MappingPositions positions,
    EventFilter? filter, string streamName, long streamId, int shardIndex, string streamArn)
{
    /// <summary>Base64 makes 4 MiB under Lambda's 6 MiB payload limit.</summary>
    internal const long MaxBatchBytes = 4L << 20;

    private readonly TumblingWindow? _window = mapping.TumblingWindowInSeconds > 0 ? new TumblingWindow(mapping.TumblingWindowInSeconds * 1000L) : null;

    /// <summary>Lanes of a shard: one with a tumbling window (its state is the shard's), else the parallelization factor.</summary>
    private int Lanes => _window is null ? Math.Max(1, mapping.ParallelizationFactor) : 1;

    /// <summary>Runs until the shard is done (true) or the stream is gone or changed (false).</summary>
    public async Task<bool> RunAsync(CancellationToken stop)
    {
        if (_window is not null && positions.TryGetWindow(shardIndex, out long start, out string state))
            _window.Restore(start, state);
        long? heldSince = null;
        while (!stop.IsCancellationRequested)
        {
            if (context.FindStream(streamName) is not { Status: not StreamStatus.Deleting } stream || stream.Id != streamId
                || stream.FindShard(shardIndex) is not { } shard)
                return false;
            ulong from = await PositionAsync(stream, shard, stop).ConfigureAwait(false);
            if (shard.EndOffset is { } end && from >= end)
            {
                if (_window is { IsOpen: true })
                    await CloseWindowAsync(shard, from, early: false, stop).ConfigureAwait(false);
                return true;
            }
            var log = await context.Logs.OpenAsync(streamId, shardIndex).ConfigureAwait(false);
            using (var read = await log.ReadAsync(from, mapping.BatchSize * Lanes, MaxBatchBytes * Lanes, 0, stop).ConfigureAwait(false))
            {
                long now = context.Clock.GetUtcNow().ToUnixTimeMilliseconds();
                if (read.Count == 0)
                {
                    if (read.NextOffset > from)
                        positions.Set(shardIndex, read.NextOffset, _window); // records before it expired
                    if (_window is { IsOpen: true } && now >= _window.EndMillis)
                        await CloseWindowAsync(shard, read.NextOffset, early: false, stop).ConfigureAwait(false); // read to the tip: no more records of the window can come
                }
                else if (read.Count < mapping.BatchSize && mapping.MaximumBatchingWindowInSeconds > 0
                    && now - (heldSince ??= now) < mapping.MaximumBatchingWindowInSeconds * 1000L)
                {
                    // a short batch waits out the batching window
                }
                else
                {
                    heldSince = null;
                    Count(read, log.NextOffset, now);
                    await GiveAsync(read, shard, stop).ConfigureAwait(false);
                    positions.Set(shardIndex, read.NextOffset, _window);
                    context.Metrics?.Function(mapping.FunctionName).MappingRead(mapping.Uuid, streamName, positions.Snapshot(), read.Count);
                    continue;
                }
            }
            await Task.Delay(context.IdleWait, context.Clock, stop).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>
    /// Counts a read as the source's metrics count Lambda's: a consumer's as a SubscribeToShard event of it (it reads as
    /// that consumer), a stream's as a GetRecords call (Lambda polls with them).
    /// </summary>
    private void Count(ReadResult read, ulong tip, long now)
    {
        if (context.Metrics is not { } metrics)
            return;
        long behind = read.NextOffset >= tip ? 0 : Math.Max(0, now - read.Records[read.Count - 1].ArrivalMillis);
        if (ConsumerName(mapping.EventSourceArn) is { } consumer)
            metrics.Consumer(streamName, consumer).Pushed(read.Count, read.PayloadBytes, behind);
        else
            metrics.Stream(streamName).GetRecords(read.PayloadBytes, read.Count, behind, 0);
    }

    /// <summary>The consumer's name when the mapping reads as a registered consumer (its source is the consumer's ARN), else null.</summary>
    internal static string? ConsumerName(string sourceArn)
    {
        int at = sourceArn.IndexOf("/consumer/", StringComparison.Ordinal);
        return at < 0 ? null : sourceArn[(at + "/consumer/".Length)..].Split(':')[0];
    }

    /// <summary>Gives a read's records to the function: filtered, then by lane, or by window.</summary>
    private async Task GiveAsync(ReadResult read, ShardInfo shard, CancellationToken stop)
    {
        var kept = new List<int>(read.Count);
        var records = read.Records;
        for (int i = 0; i < records.Length; i++)
            if (filter is null || Matches(read, i, shard))
                kept.Add(i);
        if (kept.Count == 0)
            return;
        if (_window is null)
        {
            var lanes = new List<int>[Lanes];
            foreach (int i in kept)
                (lanes[LaneOf(read.PartitionKey(read.Records[i]), lanes.Length)] ??= []).Add(i);
            await Task.WhenAll(lanes.Where(l => l is not null).Select(lane => GiveLaneAsync(read, lane, shard, stop))).ConfigureAwait(false);
            return;
        }
        int start = 0;
        while (start < kept.Count)
        {
            long windowStart = Math.Max(_window.StartOf(read.Records[kept[start]].ArrivalMillis), _window.IsOpen ? _window.StartMillis : long.MinValue);
            int end = start + 1;
            while (end < kept.Count && _window.StartOf(read.Records[kept[end]].ArrivalMillis) <= windowStart)
                end++;
            if (_window.IsOpen && windowStart > _window.StartMillis)
                await CloseWindowAsync(shard, null, early: false, stop).ConfigureAwait(false);
            if (!_window.IsOpen)
                _window.Open(windowStart);
            foreach (var batch in Batches(read, kept.GetRange(start, end - start)))
            {
                await batches.ProcessAsync(read, batch, shard, streamArn, _window, stop).ConfigureAwait(false);
                if (_window.Overflowing)
                {
                    await batches.CloseWindowAsync(_window, shard, streamArn, early: true, stop).ConfigureAwait(false);
                    _window.Refresh(); // the same window goes on with a fresh state
                }
            }
            start = end;
        }
    }

    /// <summary>One lane's records, batch after batch, in order.</summary>
    private async Task GiveLaneAsync(ReadResult read, List<int> lane, ShardInfo shard, CancellationToken stop)
    {
        foreach (var batch in Batches(read, lane))
            await batches.ProcessAsync(read, batch, shard, streamArn, null, stop).ConfigureAwait(false);
    }

    /// <summary>Cuts records into batches of at most <c>BatchSize</c> records and <see cref="MaxBatchBytes"/>.</summary>
    private IEnumerable<int[]> Batches(ReadResult read, List<int> records)
    {
        var batch = new List<int>(Math.Min(records.Count, mapping.BatchSize));
        long bytes = 0;
        foreach (int i in records)
        {
            var record = read.Records[i];
            long size = record.DataLength + record.PartitionKeyLength;
            if (batch.Count > 0 && (batch.Count == mapping.BatchSize || bytes + size > MaxBatchBytes))
            {
                yield return [.. batch];
                batch.Clear();
                bytes = 0;
            }
            batch.Add(i);
            bytes += size;
        }
        if (batch.Count > 0)
            yield return [.. batch];
    }

    /// <summary>Ends the open window with its final invocation and stores that it is closed (with <paramref name="next"/>, the position, when given).</summary>
    private async Task CloseWindowAsync(ShardInfo shard, ulong? next, bool early, CancellationToken stop)
    {
        await batches.CloseWindowAsync(_window!, shard, streamArn, early, stop).ConfigureAwait(false);
        _window!.Close();
        if (next is { } position)
            positions.Set(shardIndex, position, _window);
    }

    private bool Matches(ReadResult read, int i, ShardInfo shard)
    {
        var record = read.Records[i];
        return filter!.Matches(System.Text.Encoding.UTF8.GetString(read.PartitionKey(record)), shard.SequenceOf(record.Offset, record.ArrivalMillis).ToString(),
            record.ArrivalMillis / 1000m, read.Data(record));
    }

    /// <summary>The lane of a partition key (FNV-1a of its bytes): the same key, the same lane, so its records stay in order.</summary>
    internal static int LaneOf(ReadOnlySpan<byte> key, int lanes)
    {
        uint hash = 2166136261;
        foreach (byte b in key)
            hash = (hash ^ b) * 16777619;
        return (int)(hash % (uint)lanes);
    }

    /// <summary>Where the shard's next read starts: its position, else the starting position (kept at once, so that a restart starts there too).</summary>
    private async ValueTask<ulong> PositionAsync(StreamInfo stream, ShardInfo shard, CancellationToken stop)
    {
        if (positions.TryGet(shard.Index, out ulong next))
            return next;
        ulong from = 0;
        bool child = shard.ParentIndex is not null && stream.FindShard(shard.ParentIndex.Value) is not null;
        if (!child && context.Logs.OpenIfPresent(stream.Id, shard.Index) is { } log)
        {
            from = mapping.StartingPosition switch
            {
                "LATEST" => log.NextOffset,
                "AT_TIMESTAMP" => await log.FirstOffsetAtOrAfterAsync(mapping.StartingPositionTimestampMillis ?? 0, stop).ConfigureAwait(false),
                _ => 0,
            };
        }
        positions.Set(shard.Index, from);
        return from;
    }
}
