using System.Runtime.CompilerServices;
using Runnel.Core.Model;
using Runnel.Storage.Records;

namespace Runnel.Server.Streams;

/// <summary>Why a subscription ended.</summary>
public enum SubscriptionEnd
{
    /// <summary>Its lifetime (AWS: 5 minutes) ran out: it ends cleanly and the consumer subscribes again.</summary>
    Lifetime,

    /// <summary>The shard was closed by a reshard and every record of it was sent, with the child shards.</summary>
    ShardEnded,

    /// <summary>A newer subscription of the same consumer and shard took over.</summary>
    TakenOver,

    /// <summary>The stream was deleted (or is being deleted).</summary>
    StreamDeleted,

    /// <summary>The consumer was deregistered.</summary>
    ConsumerDeregistered,

    /// <summary>The client went away.</summary>
    ClientGone,
}

/// <summary>
/// One push of a subscription: the records read (a slice of <see cref="Records"/>), where to resume, how far
/// behind the shard's newest record the consumer is, and, at a closed shard's end, its children. Dispose
/// returns the read buffer.
/// </summary>
public sealed class SubscriptionEvent(ReadResult? records, int count, ShardInfo shard, SequenceNumber? continuation, long millisBehindLatest, IReadOnlyList<ShardInfo>? childShards) : IDisposable
{
    public ReadResult? Records { get; } = records;

    /// <summary>How many of <see cref="Records"/> belong to the event (those below a closed shard's end).</summary>
    public int Count { get; } = count;

    public ShardInfo Shard { get; } = shard;

    /// <summary>The sequence number to resume after; null at a closed shard's end.</summary>
    public SequenceNumber? Continuation { get; } = continuation;

    public long MillisBehindLatest { get; } = millisBehindLatest;

    /// <summary>The shards a closed shard split or merged into; null until the end of the shard.</summary>
    public IReadOnlyList<ShardInfo>? ChildShards { get; } = childShards;

    public void Dispose() => Records?.Dispose();
}

/// <summary>
/// A consumer's subscription to one shard: reads from the shard's log at the consumer's own position and yields
/// an event as soon as records are appended (woken by the shard's append signal, never on a timer), an empty
/// event when nothing arrived for <see cref="HeartbeatInterval"/>, and ends at its lifetime, at a closed shard's
/// end, on takeover, or when the stream or consumer is gone (<see cref="EndReason"/>). It holds at most one
/// event: the caller writes each event (waiting on the client's flow control) before the next is read, so a
/// slow subscriber costs no memory and resumes from the log. Owns its lease; not thread-safe.
/// </summary>
public sealed class ShardSubscription(
    StreamService streams, StreamInfo stream, ShardInfo shard, ConsumerInfo consumer, ulong startOffset, SubscriptionRegistry.Lease lease)
{
    /// <summary>An event with no records goes out when nothing else did for this long, keeping the connection alive.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>Most records and bytes in one event; a backlog goes out as consecutive events.</summary>
    public const int MaxRecordsPerEvent = 10_000;

    public const long MaxBytesPerEvent = 1024 * 1024;

    public SubscriptionEnd? EndReason { get; private set; }

    /// <summary>Where the events pushed are counted (the consumer's SubscribeToShardEvent metrics); null for nowhere.</summary>
    public Runnel.Core.Metrics.ConsumerMetrics? Metrics { get; init; }

    /// <summary>Where this consumer's reading of the shard is kept for its lag (records read, its position); null for nowhere.</summary>
    public Runnel.Core.Metrics.ReaderActivity? Activity { get; init; }

    public string ShardId => shard.ShardId;

    /// <summary>Counts a failure that ended the subscription (the caller told the subscriber) against the consumer's reader.</summary>
    public void Failed() => Activity?.Failed(null, streams.Now.ToUnixTimeMilliseconds());

    public async IAsyncEnumerable<SubscriptionEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancel)
    {
        var clock = streams.Clock;
        using var lifetime = new CancellationTokenSource(streams.Options.SubscriptionLifetime, clock);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel, lease.TakenOver, lifetime.Token);
        var heartbeat = new Heartbeat(clock, stop.Token);
        try
        {
            ulong position = startOffset;
            // The arrival time of the record before position, which its continuation encodes (the shard's creation until one is sent).
            long continuationArrival = shard.CreatedAt.ToUnixTimeMilliseconds();
            long lastSent = clock.GetTimestamp();
            // The stream and consumer are looked up again at most once a second, and whenever the shard closed.
            StreamInfo? current = null;
            ShardInfo? info = null;
            Shard? log = null;
            long checkedAt = 0;
            while (true)
            {
                if (Ended(cancel, lifetime.Token) is { } reason)
                {
                    EndReason = reason;
                    yield break;
                }
                // A retired shard's stream was deleted: look it up (and end) without touching its log again.
                if (log is null || log.IsRetired || clock.GetElapsedTime(checkedAt) >= RecheckInterval || (info!.IsOpen && log.IsClosed))
                {
                    (current, info) = Current();
                    checkedAt = clock.GetTimestamp();
                    if (current is null || info is null)
                    {
                        EndReason = current is null ? SubscriptionEnd.StreamDeleted : SubscriptionEnd.ConsumerDeregistered;
                        yield break;
                    }
                    log = streams.Shard(current, info);
                }
                if (info!.IsOpen && log.IsClosed)
                {
                    // A reshard closed the log and is storing the new shape: look again in a moment.
                    await Pause(TimeSpan.FromMilliseconds(1), clock, stop.Token);
                    continue;
                }
                ulong end = info.EndOffset ?? ulong.MaxValue;
                if (position >= end)
                {
                    // A closed shard, all of it sent: the last event says where the stream goes on.
                    EndReason = SubscriptionEnd.ShardEnded;
                    yield return new SubscriptionEvent(null, 0, info, null, 0, Children(current!, info));
                    yield break;
                }
                if (position < log.NextOffset)
                {
                    if (lease.Budget is { } budget && !budget.HasCredit(streams.PreciseNowMillis))
                    {
                        // Over the consumer's read rate: wait for credit (the records stay in the log meanwhile).
                        await Pause(TimeSpan.FromMilliseconds(20), clock, stop.Token);
                        continue;
                    }
                    var now = streams.Now;
                    long minArrival = (now - TimeSpan.FromHours(current!.RetentionHours)).ToUnixTimeMilliseconds();
                    var read = await log.ReadAsync(position, MaxRecordsPerEvent, MaxBytesPerEvent, minArrival, stop.Token);
                    int count = 0;
                    long bytes = 0, lastArrival = 0;
                    foreach (ref readonly var record in read.Records)
                    {
                        if (record.Offset >= end)
                            break;
                        count++;
                        bytes += record.DataLength + record.PartitionKeyLength;
                        lastArrival = record.ArrivalMillis;
                    }
                    position = Math.Max(position, Math.Min(read.NextOffset, end));
                    if (count == 0 && position < end)
                    {
                        read.Dispose(); // only expired records: nothing to send, read on
                        continue;
                    }
                    lease.Budget?.Charge(bytes, streams.PreciseNowMillis);
                    log.Throughput.Pushed(count, bytes);
                    bool finished = position >= end;
                    if (count > 0)
                        continuationArrival = lastArrival;
                    long behind = position >= log.NextOffset || lastArrival == 0 ? 0 : Math.Max(0, now.ToUnixTimeMilliseconds() - lastArrival);
                    lastSent = clock.GetTimestamp();
                    Metrics?.Pushed(count, bytes, behind);
                    Activity?.Read(count, position, now.ToUnixTimeMilliseconds());
                    yield return new SubscriptionEvent(read, count, info, finished ? null : Continuation(info, position, continuationArrival), behind, finished ? Children(current!, info) : null);
                    if (finished)
                    {
                        EndReason = SubscriptionEnd.ShardEnded;
                        yield break;
                    }
                    continue;
                }
                var quiet = HeartbeatInterval - clock.GetElapsedTime(lastSent);
                if (quiet <= TimeSpan.Zero)
                {
                    lastSent = clock.GetTimestamp();
                    Metrics?.Pushed(0, 0, 0);
                    Activity?.Read(0, position, streams.Now.ToUnixTimeMilliseconds());
                    yield return new SubscriptionEvent(null, 0, info, Continuation(info, position, continuationArrival), 0, null);
                    continue;
                }
                await heartbeat.WaitForRecords(log, position, quiet);
            }
        }
        finally
        {
            EndReason ??= cancel.IsCancellationRequested ? SubscriptionEnd.ClientGone : null;
            heartbeat.Dispose();
            lease.Dispose();
        }
    }

    /// <summary>How often a subscription looks again whether its stream and consumer still exist.</summary>
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private SubscriptionEnd? Ended(CancellationToken client, CancellationToken lifetime) =>
        client.IsCancellationRequested ? SubscriptionEnd.ClientGone
        : lease.TakenOver.IsCancellationRequested ? SubscriptionEnd.TakenOver
        : lifetime.IsCancellationRequested ? SubscriptionEnd.Lifetime
        : null;

    /// <summary>The stream and shard as they are now: stream null when it is gone, shard null when the consumer is.</summary>
    private (StreamInfo? Stream, ShardInfo? Shard) Current()
    {
        var current = streams.Find(stream.Name);
        if (current is null || current.Id != stream.Id || current.Status == StreamStatus.Deleting)
            return (null, null);
        if (streams.Consumers.Find(current, consumer.Name) is not { Status: ConsumerStatus.Active } now || now.CreatedSeconds != consumer.CreatedSeconds)
            return (current, null);
        return (current, current.FindShard(shard.Index));
    }

    /// <summary>The sequence number a consumer resumes after (AFTER_SEQUENCE_NUMBER) to read from <paramref name="position"/> on.</summary>
    private static SequenceNumber Continuation(ShardInfo shard, ulong position, long arrivalMillis) =>
        new(shard.SequenceSeconds, shard.Index, position, arrivalMillis / 1000);

    private static List<ShardInfo> Children(StreamInfo stream, ShardInfo shard) =>
        stream.Shards.Where(s => s.ParentIndex == shard.Index || s.AdjacentParentIndex == shard.Index).ToList();

    /// <summary>
    /// Waits for records with a time limit, re-arming one timer for every wait instead of making one: a
    /// subscription woken by every append must not pay for a timer each time.
    /// </summary>
    private sealed class Heartbeat(TimeProvider clock, CancellationToken stop) : IDisposable
    {
        private CancellationTokenSource? _timeout;
        private CancellationTokenSource? _either;

        /// <summary>Completes when the shard has a record at <paramref name="position"/>, <paramref name="atMost"/> passed, or the subscription stops.</summary>
        public async Task WaitForRecords(Shard log, ulong position, TimeSpan atMost)
        {
            if (_timeout is null || _timeout.IsCancellationRequested)
            {
                Dispose();
                _timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, clock);
                _either = CancellationTokenSource.CreateLinkedTokenSource(stop, _timeout.Token);
            }
            _timeout.CancelAfter(atMost);
            try
            {
                await log.WaitForRecordsAsync(position, _either!.Token);
            }
            catch (OperationCanceledException)
            {
                // The heartbeat is due or the subscription stops: the loop looks at which.
            }
        }

        public void Dispose()
        {
            _either?.Dispose();
            _timeout?.Dispose();
            _either = null;
            _timeout = null;
        }
    }

    private static async Task Pause(TimeSpan delay, TimeProvider clock, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, clock, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
