using Runnel.Core.Model;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Mappings;

/// <summary>
/// Runs one event-source mapping: reads its stream's shards, parents before children, from each shard's position
/// (else the mapping's starting position; a child of a reshard from its start), up to <c>BatchSize</c> records at a
/// time (held up to <c>MaximumBatchingWindowInSeconds</c> while the batch is not full), gives each batch to the
/// function as Lambda's Kinesis event (<see cref="BatchProcessor"/>: retries, bisection, record age, partial failures,
/// on-failure destinations), and moves the shard's position past it once every record of it is done. One poller per
/// mapping, on the node that leads; owns the mapping's positions.
/// </summary>
public sealed class MappingPoller(EventSourceMapping mapping, MappingContext context, IFailureDestinations? destinations = null)
{
    private const long MaxBatchBytes = 4L << 20; // base64 makes it under Lambda's 6 MiB payload limit

    private readonly BatchProcessor _batches = new(mapping, context, destinations);
    private MappingPositions? _positions;
    private readonly Dictionary<int, long> _heldSince = []; // shards whose short batch waits out the batching window

    public EventSourceMapping Mapping => mapping;

    /// <summary>The stream's name as the server holds it, and its ARN (a consumer's ARN names its stream before <c>/consumer/</c>).</summary>
    private (string Name, string Arn) Source()
    {
        string arn = mapping.EventSourceArn;
        int consumer = arn.IndexOf("/consumer/", StringComparison.Ordinal);
        string streamArn = consumer < 0 ? arn : arn[..consumer];
        var parts = streamArn.Split(':', 6);
        string name = parts[5]["stream/".Length..];
        return (StreamNames.Qualify(parts[4], name, context.ServerAccount), streamArn);
    }

    public async Task RunAsync(CancellationToken stop)
    {
        _positions = MappingPositions.Load(context.Metadata, mapping.Uuid);
        var (name, streamArn) = Source();
        while (!stop.IsCancellationRequested)
        {
            bool gave = false;
            try
            {
                if (context.FindStream(name) is { Status: not StreamStatus.Deleting } stream)
                {
                    if (_positions.StreamId != stream.Id)
                        _positions.Reset(stream.Id);
                    foreach (var shard in stream.Shards.OrderBy(s => s.Index))
                        gave |= await GiveAsync(stream, shard, streamArn, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException)
            {
                context.Warn($"The event-source mapping {mapping.Uuid} could not read its stream ({e.Message}); it tries again.");
            }
            if (!gave)
                await Task.Delay(context.IdleWait, context.Clock, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Gives the shard's next batch to the function, when it has one and its parents are done; whether it did.</summary>
    private async Task<bool> GiveAsync(StreamInfo stream, ShardInfo shard, string streamArn, CancellationToken stop)
    {
        ulong from = await FromAsync(stream, shard, stop).ConfigureAwait(false);
        if (shard.EndOffset is { } end && from >= end)
            return false;
        foreach (int? parent in new[] { shard.ParentIndex, shard.AdjacentParentIndex })
            if (parent is { } index && stream.FindShard(index) is { EndOffset: { } parentEnd } held && await FromAsync(stream, held, stop).ConfigureAwait(false) < parentEnd)
                return false;
        var log = await context.Logs.OpenAsync(stream.Id, shard.Index).ConfigureAwait(false);
        using var read = await log.ReadAsync(from, mapping.BatchSize, MaxBatchBytes, 0, stop).ConfigureAwait(false);
        if (read.Count == 0)
        {
            if (read.NextOffset > from)
                _positions!.Set(shard.Index, read.NextOffset); // records before it expired
            return false;
        }
        if (read.Count < mapping.BatchSize && mapping.MaximumBatchingWindowInSeconds > 0)
        {
            long now = context.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            long since = _heldSince.TryGetValue(shard.Index, out long held) ? held : _heldSince[shard.Index] = now;
            if (now - since < mapping.MaximumBatchingWindowInSeconds * 1000L)
                return false;
        }
        _heldSince.Remove(shard.Index);
        await _batches.ProcessAsync(read, shard, streamArn, stop).ConfigureAwait(false);
        _positions!.Set(shard.Index, read.NextOffset);
        return true;
    }

    /// <summary>Where the shard's next batch starts: its position, else the starting position (kept at once, so that a restart starts there too).</summary>
    private async ValueTask<ulong> FromAsync(StreamInfo stream, ShardInfo shard, CancellationToken stop)
    {
        if (_positions!.TryGet(shard.Index, out ulong next))
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
        _positions.Set(shard.Index, from);
        return from;
    }
}
