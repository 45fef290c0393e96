using Runnel.Core.Metrics;
using Runnel.Core.Model;
using Runnel.Server.Streams;

namespace Runnel.Server.Metrics;

/// <summary>
/// One reader of one shard and how far behind the shard's newest record it is now: <see cref="RecordsBehind"/> the
/// records it has still to read, <see cref="MillisBehind"/> how long ago the oldest of them arrived (0 when caught up,
/// as Kinesis's MillisBehindLatest). <see cref="Name"/> is what it goes by: the consumer's name, or the client's
/// (<see cref="ClientId.Display"/>) for an iterator reader. <see cref="Activity"/> is null for a registered consumer
/// that has not subscribed to the shard here. On a cluster's pipeline view, a reader seen on several nodes is measured
/// from the furthest position of them (<see cref="Activity"/>), and <see cref="Merged"/> holds every node's entry.
/// </summary>
public readonly record struct ReaderLag(string StreamName, int ShardIndex, ReaderKind Kind, string Name, long RecordsBehind, long MillisBehind, ReaderActivity? Activity,
    IReadOnlyList<ReaderActivity>? Merged = null)
{
    /// <summary>Every entry of the reader: <see cref="Merged"/>, else <see cref="Activity"/> alone (none when null).</summary>
    public IReadOnlyList<ReaderActivity> Activities => Merged ?? (Activity is null ? [] : [Activity]);
}

/// <summary>
/// Measures each reader's lag when it is shown (<c>/metrics</c>, the pipeline view), against the shard's tip now, so
/// that a reader that stopped is seen falling behind while records pile up: from the reader's position (the offset
/// below which it has read, <see cref="ReaderActivity.Position"/>), the shard's next offset (its end, for a closed
/// shard) and the arrival time of the oldest record not yet read. Which readers are measured:
/// <list type="bullet">
/// <item>every reader <see cref="ClientActivity.Readers"/> lists (iterator readers for an hour after their last
/// request; registered consumers for as long as they exist): measuring forgets the entries of readers of a stream
/// deleted, and of a consumer deregistered or registered again since;</item>
/// <item>every shard of every active registered consumer that has not subscribed to it here: behind by the records
/// that arrived since the consumer was registered (or the shard made), since it has read none of them. Closed shards
/// with nothing behind are left out.</item>
/// <item>every delivery stream whose delivery runs here reading a Kinesis stream, on each shard it has reached
/// (<see cref="DeliveryStreamMetrics.Source"/>): what it has not read yet (what it read and has not delivered is its
/// <see cref="DeliveryStreamMetrics.RecordsNotDelivered"/>).</item>
/// </list>
/// Finding an arrival time reads one record of the log; it is remembered for as long as the reader stays at that
/// position (a stopped reader costs one read), so each measurement reads at most one record per reader that moved.
/// On a cluster each node measures the readers it serves (and the consumers' shards it does not, as above) for
/// <c>/metrics</c>: the reader's own lag is the smallest of the nodes' (deploy/prometheus/runnel-alerts.yml). The
/// pipeline view passes the other nodes' readers and deliveries too (<see cref="RemoteActivity"/>): a reader seen on
/// several nodes is measured once, from the furthest position of its entries. Thread-safe.
/// </summary>
public sealed class ReaderLags(StreamService streams)
{
    /// <summary>Where a reader stands: the first record still held at or after its position, and that record's arrival
    /// (0 when every record from the position on has expired).</summary>
    private sealed record Memo(ulong Position, ulong FirstUnread, long ArrivalMillis);

    private readonly Dictionary<(long StreamId, int Shard, ReaderKind Kind, string Name, ClientId Client), Memo> _memos = [];

    // A registered consumer's start on a shard it has not read: the first record that arrived since it was registered,
    // and the shard's next offset when that was looked up.
    private readonly Dictionary<(long StreamId, int Shard, string Consumer, long CreatedMillis), (ulong Start, ulong Next)> _starts = [];
    private readonly Lock _lock = new();

    /// <summary>The <c>Kind</c> label of a reader: consumer, iterator or delivery.</summary>
    public static string KindLabel(ReaderKind kind) => kind switch
    {
        ReaderKind.Consumer => "consumer",
        ReaderKind.Delivery => "delivery",
        ReaderKind.Function => "function",
        _ => "iterator",
    };

    /// <summary><see cref="MeasureAsync"/> for callers that cannot wait (the exporter's callbacks): the embedded log
    /// answers at once; a cluster's log may block the thread for a read.</summary>
    public IReadOnlyList<ReaderLag> Measure()
    {
        var measuring = MeasureAsync();
        return measuring.IsCompletedSuccessfully ? measuring.Result : measuring.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Every reader's lag now.</summary>
    public ValueTask<IReadOnlyList<ReaderLag>> MeasureAsync(CancellationToken cancellationToken = default) => MeasureAsync(RemoteActivity.None, cancellationToken);

    /// <summary>Every reader's lag now, this node's and <paramref name="remote"/>'s (the other nodes' of a cluster) merged.</summary>
    public async ValueTask<IReadOnlyList<ReaderLag>> MeasureAsync(RemoteActivity remote, CancellationToken cancellationToken = default)
    {
        long now = streams.Now.ToUnixTimeMilliseconds();
        var activity = streams.Metrics.Activity;
        var lags = new List<ReaderLag>();
        var measured = new HashSet<(long, int, ReaderKind, string, ClientId)>();
        var subscribed = new HashSet<(long StreamId, int Shard, string Consumer)>();
        // One reader seen on several nodes (a client whose requests went to both) is measured from its furthest position.
        var readers = new Dictionary<(string Stream, int Shard, ReaderKind Kind, string Name, ClientId Client), List<ReaderActivity>>();
        foreach (var reader in activity.Readers(now).Concat(remote.Readers))
        {
            var stream = streams.Find(reader.StreamName);
            if (stream is null || stream.Status == StreamStatus.Deleting)
            {
                activity.Forget(reader); // its shards are gone (nothing happens for another node's entry, which is not in activity)
                continue;
            }
            // Gone, or registered again under the name since the reader last read: not this consumer's.
            if (reader.Kind == ReaderKind.Consumer
                && (streams.Consumers.Find(stream, reader.Name) is not { } consumer || consumer.CreatedAt.ToUnixTimeMilliseconds() > reader.LastSeenMillis))
            {
                activity.Forget(reader);
                continue;
            }
            var key = (reader.StreamName, reader.ShardIndex, reader.Kind, reader.Name, reader.Kind == ReaderKind.Iterator ? reader.Client : default);
            ref var entries = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(readers, key, out _);
            (entries ??= new List<ReaderActivity>(1)).Add(reader);
        }
        foreach (var entries in readers.Values)
        {
            ReaderActivity? reader = null;
            foreach (var entry in entries)
                if (entry.Position is { } at && (reader is null || at > reader.Position!.Value))
                    reader = entry;
            if (reader is null || streams.Find(reader.StreamName) is not { } stream)
                continue; // a consumer never subscribed: measured below as a consumer's unread shard
            if (reader.Kind == ReaderKind.Consumer)
                subscribed.Add((stream.Id, reader.ShardIndex, reader.Name));
            if (stream.FindShard(reader.ShardIndex) is not { } shard || reader.Position is not { } position)
                continue;
            var key = (stream.Id, shard.Index, reader.Kind, reader.Name, reader.Kind == ReaderKind.Iterator ? reader.Client : default);
            var (records, millis) = await BehindAsync(stream, shard, key, position, now, cancellationToken).ConfigureAwait(false);
            measured.Add(key);
            lags.Add(new ReaderLag(stream.Name, shard.Index, reader.Kind, reader.Label, records, millis, reader, entries.Count > 1 ? entries : null));
        }
        var started = new HashSet<(long, int, string, long)>();
        foreach (var stream in streams.All)
        {
            if (stream.Status is StreamStatus.Creating or StreamStatus.Deleting)
                continue;
            foreach (var consumer in streams.Consumers.List(stream))
            {
                if (consumer.Status != ConsumerStatus.Active)
                    continue;
                foreach (var shard in stream.Shards)
                {
                    if (subscribed.Contains((stream.Id, shard.Index, consumer.Name)))
                        continue;
                    long created = consumer.CreatedAt.ToUnixTimeMilliseconds();
                    var startKey = (stream.Id, shard.Index, consumer.Name, created);
                    started.Add(startKey);
                    long records = 0, millis = 0;
                    if (await StartAsync(stream, shard, startKey, created).ConfigureAwait(false) is { } start)
                    {
                        var key = (stream.Id, shard.Index, ReaderKind.Consumer, consumer.Name, default(ClientId));
                        (records, millis) = await BehindAsync(stream, shard, key, start, now, cancellationToken).ConfigureAwait(false);
                        measured.Add(key);
                    }
                    if (records > 0 || shard.IsOpen)
                        lags.Add(new ReaderLag(stream.Name, shard.Index, ReaderKind.Consumer, consumer.Name, records, millis, null));
                }
            }
        }
        // A delivery runs on one node (the elected one): its position is this node's, else another's.
        var deliveries = streams.Metrics.DeliveryStreams.Where(d => d.Source is not null).Select(d => (Name: d.DeliveryStreamName, Source: d.Source!)).ToList();
        deliveries.AddRange(remote.Deliveries.Where(d => d.Source is not null).Select(d => (d.Name, Source: d.Source!))
            .Where(d => !deliveries.Exists(known => known.Name == d.Name)).DistinctBy(d => d.Name));
        foreach (var (deliveryName, source) in deliveries)
        {
            if (streams.Find(source.StreamName) is not { Status: not StreamStatus.Deleting } stream)
                continue;
            foreach (var (index, position) in source.ReadTo.OrderBy(p => p.Key))
            {
                if (stream.FindShard(index) is not { } shard)
                    continue;
                var key = (stream.Id, shard.Index, ReaderKind.Delivery, deliveryName, default(ClientId));
                var (records, millis) = await BehindAsync(stream, shard, key, position, now, cancellationToken).ConfigureAwait(false);
                measured.Add(key);
                if (records > 0 || shard.IsOpen)
                    lags.Add(new ReaderLag(stream.Name, shard.Index, ReaderKind.Delivery, deliveryName, records, millis, null));
            }
        }
        // A mapping runs on one node (the elected one), which measures it; the others do not know its position.
        foreach (var function in streams.Metrics.Functions)
        {
            foreach (var source in function.Sources.Values)
            {
                if (streams.Find(source.StreamName) is not { Status: not StreamStatus.Deleting } stream)
                    continue;
                foreach (var (index, position) in source.ReadTo.OrderBy(p => p.Key))
                {
                    if (stream.FindShard(index) is not { } shard)
                        continue;
                    var key = (stream.Id, shard.Index, ReaderKind.Function, function.FunctionName, default(ClientId));
                    var (records, millis) = await BehindAsync(stream, shard, key, position, now, cancellationToken).ConfigureAwait(false);
                    measured.Add(key);
                    if (records > 0 || shard.IsOpen)
                        lags.Add(new ReaderLag(stream.Name, shard.Index, ReaderKind.Function, function.FunctionName, records, millis, null));
                }
            }
        }
        lock (_lock)
        {
            // What was not measured now belongs to readers gone or moved on.
            foreach (var key in _memos.Keys.Where(k => !measured.Contains(k)).ToList())
                _memos.Remove(key);
            foreach (var key in _starts.Keys.Where(k => !started.Contains(k)).ToList())
                _starts.Remove(key);
        }
        return lags;
    }

    /// <summary>Records and milliseconds behind for a reader of <paramref name="shard"/> at <paramref name="position"/>.</summary>
    private async ValueTask<(long Records, long Millis)> BehindAsync(StreamInfo stream, ShardInfo shard, (long, int, ReaderKind, string, ClientId) key, ulong position, long now,
        CancellationToken cancellationToken)
    {
        var log = streams.Shard(stream, shard);
        if (log.NextOffsetIfLogExists() is not { } next)
            return (0, 0); // no log: no record yet
        ulong end = Math.Min(next, shard.EndOffset ?? ulong.MaxValue);
        if (position >= end)
            return (0, 0);
        Memo? memo;
        lock (_lock)
            _memos.TryGetValue(key, out memo);
        if (memo is null || memo.Position != position)
        {
            long minArrival = now - (long)TimeSpan.FromHours(stream.RetentionHours).TotalMilliseconds;
            using var read = await log.ReadAsync(position, 1, 1, minArrival, cancellationToken).ConfigureAwait(false);
            memo = MemoOf(read, position);
            lock (_lock)
                _memos[key] = memo;
        }
        if (memo.ArrivalMillis == 0 || memo.FirstUnread >= end)
            return (0, 0); // every record it has not read expired: nothing left to read
        return ((long)(end - memo.FirstUnread), Math.Max(0, now - memo.ArrivalMillis));
    }

    private static Memo MemoOf(Runnel.Storage.Records.ReadResult read, ulong position) =>
        read.Count > 0 ? new Memo(position, read.Records[0].Offset, read.Records[0].ArrivalMillis) : new Memo(position, read.NextOffset, 0);

    /// <summary>Where a registered consumer that has not read <paramref name="shard"/> starts being behind: the first
    /// record that arrived since <paramref name="createdMillis"/>; null when the shard has no log.</summary>
    private async ValueTask<ulong?> StartAsync(StreamInfo stream, ShardInfo shard, (long, int, string, long) key, long createdMillis)
    {
        var log = streams.Shard(stream, shard);
        if (log.NextOffsetIfLogExists() is not { } next)
            return null;
        lock (_lock)
        {
            // Once a record is there, later appends cannot change the answer; while none is, it holds until one comes.
            if (_starts.TryGetValue(key, out var known) && (known.Start < known.Next || known.Next == next))
                return known.Start;
        }
        ulong start = await log.FirstOffsetAtOrAfterAsync(createdMillis).ConfigureAwait(false);
        lock (_lock)
            _starts[key] = (start, next);
        return start;
    }
}
