using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Runnel.Storage.Records;

namespace Runnel.Storage.JetStream;

/// <summary>
/// A shard's log kept in a JetStream stream of its own, one message per append (docs/adr/0001-kinesis-on-jetstream.md).
/// Offsets are consecutive from 0 with any number of nodes writing: each append is published with the
/// sequence this node believes is last, and when JetStream refuses it because another node got in first, the
/// node reads the last message, restamps the batch and publishes again. An append retried after a lost
/// answer carries the same message id, so JetStream stores it once. Thread-safe; appends of one node are
/// published one at a time.
/// </summary>
public sealed partial class JetStreamShardLog : IShardLog
{
    /// <summary>JetStream's error for a publish whose expected last sequence is not the stream's.</summary>
    private const int WrongLastSequence = 10071;

    /// <summary>JetStream's refusals for want of room: "insufficient resources" (a server at its max_file_store, seen
    /// here) and "insufficient storage resources available".</summary>
    private const int InsufficientResources = 10023, InsufficientStorage = 10047;

    /// <summary>JetStream's error for a stream name in use with another configuration.</summary>
    internal const int StreamNameInUse = 10058;

    private const int MaxPublishAttempts = 5;

    private readonly INatsJSContext _js;
    private readonly INatsJSStream _stream;
    private readonly string _subject;
    private readonly JetStreamSettings _settings;
    /// <summary>The most one message joins of queued appends (one larger append goes alone): under the 16 MiB
    /// <c>max_payload</c> the servers are configured with (docs/formats/jetstream.md).</summary>
    private const int MaxGroupBytes = 8 << 20;

    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingAppend> _pending = new();
    private int _appending; // 1 while a task publishes what is queued
    private readonly MessageIndex _index = new();
    private readonly RecentMessages _recent = new();

    /// <summary>
    /// The first sequence this node's retention kept: a purge reaches the replicas a moment after the leader, and a
    /// direct get that a replica answers must not hand back what this node has already removed.
    /// </summary>
    private ulong _keptFrom = 1;
    private long _tipReadAt = long.MinValue; // Environment.TickCount64 of the last read at the tip on this node

    /// <summary>A tip notice carries its message's records up to this size; a larger message is read by a direct get.</summary>
    public const int MaxNoticeFrameBytes = 256 * 1024;

    /// <summary>How long after a read at the tip this node keeps its own appends in <see cref="_recent"/>.</summary>
    private const long TipReaderMemoryMillis = 10_000;
    private long _appends;
    private Tip _tip = Tip.Empty; // replaced whole, only forward (Advance)
    private readonly CancellationTokenSource _stop = new();
    private Action? _appendedElsewhere;
    private int _listening;

    /// <summary>What this node knows of the log's end: the last message's sequence, the next offset, the newest
    /// arrival time, and whether a close marker ended the log.</summary>
    private sealed record Tip(ulong LastSequence, ulong NextOffset, long LastArrivalMillis, bool Closed)
    {
        public static readonly Tip Empty = new(0, 0, 0, false);

        public static Tip After(ShardMessage message) => new(message.Sequence, message.NextOffset, message.ArrivalMillis, message.Closed);
    }

    private JetStreamShardLog(INatsJSContext js, INatsJSStream stream, string subject, JetStreamSettings settings)
    {
        _js = js;
        _stream = stream;
        _subject = subject;
        _settings = settings;
    }

    /// <summary>The JetStream stream's name.</summary>
    public string StreamName => _stream.Info.Config.Name!;

    /// <summary>Opens the log kept in the JetStream stream <paramref name="name"/> (subject <paramref name="subject"/>),
    /// creating the stream when it is not there.</summary>
    public static async Task<JetStreamShardLog> OpenAsync(INatsJSContext js, string name, string subject, JetStreamSettings settings, CancellationToken cancellationToken = default)
    {
        var config = new StreamConfig(name, [subject])
        {
            NumReplicas = settings.Replicas,
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
            AllowDirect = true,
            DuplicateWindow = settings.DuplicateWindow,
        };
        // Creating a stream that exists with this configuration is answered with it, so an unanswered create (two
        // nodes opening one shard at once, a leader being elected) is asked again, soon.
        var stream = await Unanswered.RetryWithinAsync(async within =>
        {
            try
            {
                return await js.CreateStreamAsync(config, within).ConfigureAwait(false);
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == StreamNameInUse)
            {
                return await js.GetStreamAsync(name, cancellationToken: within).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
        await WaitForLeaderAsync(stream, cancellationToken).ConfigureAwait(false);
        var log = new JetStreamShardLog(js, stream, subject, settings);
        await log.RefreshTipAsync(cancellationToken).ConfigureAwait(false);
        return log;
    }

    /// <summary>
    /// Waits until a replicated stream just made has elected its leader, asking every 10 ms: the leader answers the
    /// read of the last message that follows, and a read sent before there is one went unanswered for the whole
    /// request timeout (10 s, seen on the first write to a stream another node had just created).
    /// </summary>
    private static async Task WaitForLeaderAsync(INatsJSStream stream, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Unanswered.Budget;
        while (stream.Info.Cluster is { } cluster && string.IsNullOrEmpty(cluster.Leader) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            await Unanswered.RetryWithinAsync(async within =>
            {
                await stream.RefreshAsync(within).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private Tip Current => Volatile.Read(ref _tip);

    /// <summary>Moves the tip to after <paramref name="message"/> unless it is already there or beyond; true when it moved.</summary>
    private bool Advance(ShardMessage message)
    {
        var next = Tip.After(message);
        while (true)
        {
            var current = Current;
            if (message.Sequence <= current.LastSequence)
                return false;
            if (Interlocked.CompareExchange(ref _tip, next, current) == current)
            {
                TipMoved();
                return true;
            }
        }
    }

    public ulong NextOffset => Current.NextOffset;

    public long LastArrivalMillis => Current.LastArrivalMillis;

    public bool IsClosed => Current.Closed;

    /// <summary>
    /// Queues the batch and completes once JetStream stored it. Appends that arrive while one is being published go
    /// out together in the next message (group commit, as the embedded log writes what queued meanwhile in one
    /// write): one compare-and-set, one Raft round, for all of them.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(RecordBatch batch)
    {
        if (batch.Count == 0)
        {
            var tip = Current;
            return tip.Closed ? throw new ShardClosedException(StreamName) : ValueTask.FromResult(new AppendResult(tip.NextOffset, tip.LastArrivalMillis));
        }
        var pending = new PendingAppend(batch);
        _pending.Enqueue(pending);
        if (Interlocked.CompareExchange(ref _appending, 1, 0) == 0)
            _ = PublishQueuedAsync();
        return new ValueTask<AppendResult>(pending.Done.Task);
    }

    /// <summary>One append waiting to be published, and its caller's completion.</summary>
    private sealed class PendingAppend(RecordBatch batch)
    {
        public RecordBatch Batch { get; } = batch;

        public TaskCompletionSource<AppendResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Publishes what is queued, a group at a time, until nothing is; then lets the next append start again.</summary>
    private async Task PublishQueuedAsync()
    {
        while (true)
        {
            await _writer.WaitAsync().ConfigureAwait(false); // closes and retention take turns with appends
            try
            {
                while (TakeGroup() is { Count: > 0 } group)
                    await PublishGroupAsync(group).ConfigureAwait(false);
            }
            finally
            {
                _writer.Release();
            }
            Volatile.Write(ref _appending, 0);
            // An append queued after the last look but before the flag fell found it up and started nothing: take it.
            if (_pending.IsEmpty || Interlocked.CompareExchange(ref _appending, 1, 0) != 0)
                return;
        }
    }

    private List<PendingAppend> TakeGroup()
    {
        var group = new List<PendingAppend>();
        long bytes = 0;
        while (_pending.TryPeek(out var next) && (group.Count == 0 || bytes + next.Batch.Length <= MaxGroupBytes) && _pending.TryDequeue(out next))
        {
            group.Add(next);
            bytes += next.Batch.Length;
        }
        return group;
    }

    private async Task PublishGroupAsync(List<PendingAppend> group)
    {
        int count = 0, length = 0;
        foreach (var p in group)
        {
            count += p.Batch.Count;
            length += p.Batch.Length;
        }
        byte[]? joined = group.Count == 1 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var frames = joined is null ? group[0].Batch.Frames : joined.AsMemory(0, length);
            var message = await PublishAsync(count, frames, closed: false, stamp: (offset, arrival) =>
            {
                // Every batch gets its consecutive offsets and the one arrival time, then joins the message.
                int at = 0;
                foreach (var p in group)
                {
                    p.Batch.Seal(offset, arrival);
                    offset += (ulong)p.Batch.Count;
                    if (joined is not null)
                    {
                        p.Batch.Frames.Span.CopyTo(joined.AsSpan(at));
                        at += p.Batch.Length;
                    }
                }
            }).ConfigureAwait(false);
            ulong first = message.Offset;
            foreach (var p in group)
            {
                p.Done.TrySetResult(new AppendResult(first, message.ArrivalMillis));
                first += (ulong)p.Batch.Count;
            }
        }
        catch (Exception e)
        {
            foreach (var p in group)
                p.Done.TrySetException(e);
        }
        finally
        {
            if (joined is not null)
                System.Buffers.ArrayPool<byte>.Shared.Return(joined);
        }
    }

    /// <summary>
    /// Publishes a message after the last one (the caller holds the writer): stamped with the next offset and an
    /// arrival time that never goes back, refused and placed again when another node appended first. A marker
    /// (no records) carries the tip forward. Fails with <see cref="ShardClosedException"/> once the log is closed.
    /// </summary>
    private async Task<ShardMessage> PublishAsync(int count, ReadOnlyMemory<byte> frames, bool closed, Action<ulong, long>? stamp)
    {
        var started = DateTime.UtcNow;
        for (int attempt = 0; ; attempt++)
        {
            var tip = Current;
            if (tip.Closed)
                throw new ShardClosedException(StreamName);
            long arrival = Math.Max(_settings.Clock.GetUtcNow().ToUnixTimeMilliseconds(), tip.LastArrivalMillis);
            stamp?.Invoke(tip.NextOffset, arrival);
            var options = new NatsJSPubOpts
            {
                MsgId = $"{_settings.WriterId}-{Interlocked.Increment(ref _appends)}",
                ExpectedLastSequence = tip.LastSequence,
            };
            var headers = ShardMessage.Headers(tip.NextOffset, count, arrival, closed);
            PubAckResponse? ack = null;
            for (int send = 0; ack is null; send++)
            {
                // The same message id on every send: one that was stored but whose answer was lost is not stored twice.
                NatsResult<PubAckResponse> result;
                try
                {
                    result = await _js.TryPublishAsync(_subject, frames, opts: options, headers: headers).ConfigureAwait(false);
                }
                catch (Exception e) when (Unanswered.IsLoss(e))
                {
                    // Every server gone: the connection gave up waiting to reconnect (its command timeout). Asked again
                    // within the budget, then reported as storage unavailable; stored meanwhile after all, the message
                    // id keeps a resend from storing it twice.
                    if (send + 1 >= MaxPublishAttempts || DateTime.UtcNow - started > Unanswered.Budget)
                        throw Unanswered.Unavailable($"an append to {StreamName}", e);
                    continue;
                }
                if (result.Success)
                    ack = result.Value;
                else if (send + 1 >= MaxPublishAttempts)
                    throw new StorageUnavailableException($"JetStream did not store an append to {StreamName}: {result.Error.Message}", result.Error);
            }
            if (ack.Error is { } error)
            {
                if (error.ErrCode is InsufficientResources or InsufficientStorage)
                    throw new StorageFullException($"JetStream refused an append to {StreamName}: {error.Description} ({error.ErrCode}).");
                if (error.ErrCode != WrongLastSequence || attempt + 1 >= 200)
                    throw new IOException($"JetStream refused an append to {StreamName}: {error.Description} ({error.ErrCode}).");
                if (attempt >= 3)
                    await Task.Delay(Math.Min(attempt, 100), CancellationToken.None).ConfigureAwait(false); // the replica answering may be behind (seconds, on a loaded machine)
                await LearnTipAfterRefusalAsync(error.Description, tip).ConfigureAwait(false); // another node appended first
                continue;
            }
            var stored = new ShardMessage(ack.Seq, tip.NextOffset, count, arrival, closed, []);
            _index.Add(stored);
            Advance(stored);
            // The records as stored (sealed), copied once for the readers at the tip: this node's (kept when any read
            // at the tip lately) and other nodes' (the notice carries them, when small enough).
            byte[] copied = frames.Length <= MaxNoticeFrameBytes ? frames.ToArray() : [];
            if (copied.Length == frames.Length && Environment.TickCount64 - Volatile.Read(ref _tipReadAt) < TipReaderMemoryMillis)
                _recent.Add(stored with { Frames = copied });
            Notify(stored, copied);
            return stored;
        }
    }

    /// <summary>
    /// Learns the log's end from its last message, as the stream's leader has it: everything JetStream acknowledged,
    /// through any node (a replica answering a direct get may be behind). An older last message never moves the tip
    /// back, and no message at all, where the stream holds some, is asked again.
    /// </summary>
    private async Task RefreshTipAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var last = await GetFromLeaderAsync(new StreamMsgGetRequest { LastBySubj = _subject }, cancellationToken).ConfigureAwait(false);
            if (last is not null)
            {
                Advance(last);
                return;
            }
            if (Current.LastSequence > 0)
                return; // this node stored or saw messages: the answering replica is behind
            await _stream.RefreshAsync(cancellationToken).ConfigureAwait(false);
            ulong lastSequence = _stream.Info.State.LastSeq;
            if (lastSequence == 0)
            {
                return; // nothing stored yet: the tip is the empty one
            }
            if (attempt >= 100)
                throw new InvalidDataException($"JetStream stream {StreamName} has stored {lastSequence} messages but answers none: a replica is behind, or its messages were purged by hand (then its offsets are lost).");
            await Task.Delay(attempt < 10 ? 1 : 10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Removes the messages whose records all arrived before <paramref name="cutoffMillis"/>. When that is every
    /// record, a marker carrying the tip is published first, so that the offsets go on after a restart.
    /// </summary>
    public void EnforceRetention(long cutoffMillis) => Wait(EnforceRetentionAsync(cutoffMillis));

    private async Task EnforceRetentionAsync(long cutoffMillis)
    {
        await _writer.WaitAsync().ConfigureAwait(false);
        try
        {
            await RefreshTipAsync(default).ConfigureAwait(false);
            var tip = Current;
            if (tip.LastSequence == 0)
                return;
            ulong keepFrom;
            if (tip.LastArrivalMillis >= cutoffMillis)
            {
                keepFrom = await FirstSequenceArrivedAtOrAfterAsync(cutoffMillis, tip).ConfigureAwait(false);
            }
            else
            {
                var last = await GetFromLeaderAsync(new StreamMsgGetRequest { LastBySubj = _subject }, default).ConfigureAwait(false);
                keepFrom = last is { Count: 0 } ? last.Sequence // already only a marker (or the end)
                    : (await PublishAsync(0, ReadOnlyMemory<byte>.Empty, closed: false, stamp: null).ConfigureAwait(false)).Sequence;
            }
            if (keepFrom > 1)
                await _stream.PurgeAsync(new StreamPurgeRequest { Seq = keepFrom }).ConfigureAwait(false);
            if (keepFrom > Volatile.Read(ref _keptFrom))
                Volatile.Write(ref _keptFrom, keepFrom);
            _index.RemoveBelow(keepFrom);
            _recent.RemoveBelow(keepFrom);
        }
        finally
        {
            _writer.Release();
        }
    }

    private async Task<ulong> FirstSequenceArrivedAtOrAfterAsync(long cutoffMillis, Tip tip) =>
        (await FirstWhereAsync(m => m.ArrivalMillis >= cutoffMillis, tip, default).ConfigureAwait(false))?.Sequence ?? tip.LastSequence;

    /// <summary>Nothing to do: JetStream has stored an append (on a quorum of replicas) before it answers.</summary>
    public void Flush()
    {
    }

    public ulong Close() => Wait(CloseAsync());

    private async Task<ulong> CloseAsync()
    {
        await _writer.WaitAsync().ConfigureAwait(false);
        try
        {
            await RefreshTipAsync(default).ConfigureAwait(false);
            if (Current.Closed)
                return Current.NextOffset;
            var marker = await PublishAsync(0, ReadOnlyMemory<byte>.Empty, closed: true, stamp: null).ConfigureAwait(false);
            return marker.Offset;
        }
        catch (ShardClosedException)
        {
            return Current.NextOffset; // another node closed it meanwhile
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// A message as the stream's leader has it (<c>$JS.API.STREAM.MSG.GET</c>, not a direct get): it holds everything
    /// JetStream acknowledged, which a replica answering a direct get may not yet. For the tip and for a message a
    /// direct get did not find; null when there is none.
    /// </summary>
    private async Task<ShardMessage?> GetFromLeaderAsync(StreamMsgGetRequest request, CancellationToken cancellationToken)
    {
        StreamMsgGetResponse answer;
        try
        {
            answer = await Unanswered.RetryWithinAsync(async within => await _stream.GetAsync(request, within).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return null;
        }
        var stored = answer.Message;
        var headers = LeaderHeaders(stored.Hdrs);
        headers[ShardMessage.SequenceHeaderName] = stored.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var read = ShardMessage.FromHeaders(headers, StreamName, stored.Data.IsEmpty ? [] : stored.Data.ToArray());
        _index.Add(read);
        return read;
    }

    /// <summary>The headers of a leader's answer: a NATS header block ("NATS/1.0", then "Name: value" lines), base64-encoded.</summary>
    private NatsHeaders LeaderHeaders(string? encoded)
    {
        var headers = new NatsHeaders();
        if (string.IsNullOrEmpty(encoded))
            return headers;
        string block = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        foreach (string line in block.Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return headers;
    }

    private async Task<ShardMessage?> GetAsync(StreamMsgGetRequest request, CancellationToken cancellationToken)
    {
        NatsMsg<byte[]> message;
        try
        {
            message = await _stream.GetDirectAsync<byte[]>(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Unanswered.Is(e))
        {
            // No replica answered in time (a stream just made, whose replicas are still electing a leader; a loaded machine): a read is safe to ask again.
            message = await Unanswered.RetryAsync(async () => await _stream.GetDirectAsync<byte[]>(request, cancellationToken: cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        var read = ShardMessage.From(message, StreamName);
        if (read is not null)
            _index.Add(read);
        return read;
    }

    /// <summary>The synchronous members of <see cref="IShardLog"/> (a reshard's close, retention) wait here; both are rare and off the data path.</summary>
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static void Wait(Task task) => task.GetAwaiter().GetResult();

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        _writer.Dispose();
    }
}
