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
public sealed class JetStreamShardLog : IShardLog
{
    /// <summary>JetStream's error for a publish whose expected last sequence is not the stream's.</summary>
    private const int WrongLastSequence = 10071;

    /// <summary>JetStream's error for a stream name in use with another configuration.</summary>
    private const int StreamNameInUse = 10058;

    private const int MaxPublishAttempts = 5;

    private readonly INatsJSContext _js;
    private readonly INatsJSStream _stream;
    private readonly string _subject;
    private readonly JetStreamSettings _settings;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly MessageIndex _index = new();
    private long _appends;
    private volatile Tip _tip = Tip.Empty;

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
        INatsJSStream stream;
        try
        {
            stream = await js.CreateStreamAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == StreamNameInUse)
        {
            stream = await js.GetStreamAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        var log = new JetStreamShardLog(js, stream, subject, settings);
        await log.RefreshTipAsync(cancellationToken).ConfigureAwait(false);
        return log;
    }

    public ulong NextOffset => _tip.NextOffset;

    public long LastArrivalMillis => _tip.LastArrivalMillis;

    public bool IsClosed => _tip.Closed;

    public async ValueTask<AppendResult> AppendAsync(RecordBatch batch)
    {
        await _writer.WaitAsync().ConfigureAwait(false);
        try
        {
            var tip = _tip;
            if (batch.Count == 0)
                return tip.Closed ? throw new ShardClosedException(StreamName) : new AppendResult(tip.NextOffset, tip.LastArrivalMillis);
            var message = await PublishAsync(batch.Count, batch.Frames, closed: false, stamp: (offset, arrival) => batch.Seal(offset, arrival)).ConfigureAwait(false);
            return new AppendResult(message.Offset, message.ArrivalMillis);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// Publishes a message after the last one (the caller holds the writer): stamped with the next offset and an
    /// arrival time that never goes back, refused and placed again when another node appended first. A marker
    /// (no records) carries the tip forward. Fails with <see cref="ShardClosedException"/> once the log is closed.
    /// </summary>
    private async Task<ShardMessage> PublishAsync(int count, ReadOnlyMemory<byte> frames, bool closed, Action<ulong, long>? stamp)
    {
        for (int attempt = 0; ; attempt++)
        {
            var tip = _tip;
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
                var result = await _js.TryPublishAsync(_subject, frames, opts: options, headers: headers).ConfigureAwait(false);
                if (result.Success)
                    ack = result.Value;
                else if (send + 1 >= MaxPublishAttempts)
                    throw new IOException($"JetStream did not store an append to {StreamName}: {result.Error.Message}", result.Error);
            }
            if (ack.Error is { } error)
            {
                if (error.ErrCode != WrongLastSequence || attempt + 1 >= 100)
                    throw new IOException($"JetStream refused an append to {StreamName}: {error.Description} ({error.ErrCode}).");
                if (attempt >= 3)
                    await Task.Delay(attempt, CancellationToken.None).ConfigureAwait(false); // the replica answering may be behind
                await RefreshTipAsync(default).ConfigureAwait(false); // another node appended first
                continue;
            }
            var stored = new ShardMessage(ack.Seq, tip.NextOffset, count, arrival, closed, []);
            _index.Add(stored);
            _tip = Tip.After(stored);
            return stored;
        }
    }

    /// <summary>
    /// Learns the log's end from its last message. The replica that answers may be behind the leader: an older
    /// last message never moves the tip back, and no message at all, where the stream holds some, is asked again.
    /// </summary>
    private async Task RefreshTipAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var last = await GetAsync(new StreamMsgGetRequest { LastBySubj = _subject }, cancellationToken).ConfigureAwait(false);
            if (last is not null)
            {
                var tip = _tip;
                if (last.Sequence >= tip.LastSequence)
                    _tip = Tip.After(last);
                return;
            }
            if (_tip.LastSequence > 0)
                return; // this node stored or saw messages: the answering replica is behind
            await _stream.RefreshAsync(cancellationToken).ConfigureAwait(false);
            ulong lastSequence = _stream.Info.State.LastSeq;
            if (lastSequence == 0)
            {
                _tip = Tip.Empty;
                return;
            }
            if (attempt >= 100)
                throw new InvalidDataException($"JetStream stream {StreamName} has stored {lastSequence} messages but answers none: a replica is behind, or its messages were purged by hand (then its offsets are lost).");
            await Task.Delay(attempt < 10 ? 1 : 10, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<ReadResult> ReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken = default)
    {
        var tip = _tip;
        if (fromOffset >= tip.NextOffset && !tip.Closed)
        {
            await RefreshTipAsync(cancellationToken).ConfigureAwait(false); // another node may have appended
            tip = _tip;
        }
        var result = new ReadResult((int)Math.Min(maxBytes + 4096, 64 * 1024));
        result.NextOffset = Math.Min(fromOffset, tip.NextOffset);
        if (fromOffset >= tip.NextOffset || maxRecords <= 0 || tip.LastSequence == 0)
            return result;

        ulong cursor = fromOffset;
        bool done = false;
        var message = await FindAsync(fromOffset, tip, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            if (message.Count > 0 && message.NextOffset > cursor)
            {
                if (message.ArrivalMillis < minArrivalMillis)
                    cursor = message.NextOffset; // expired by retention, not yet removed
                else
                    done = Scan(message, ref cursor, result, maxRecords, maxBytes);
            }
            if (done || message.Sequence >= tip.LastSequence)
                break;
            message = await GetAtOrAfterAsync(message.Sequence + 1, tip, cancellationToken).ConfigureAwait(false);
        }
        // Every message up to the tip was read (none is skipped: a replica that is behind is waited for).
        result.NextOffset = done ? cursor : Math.Max(cursor, tip.NextOffset);
        return result;
    }

    /// <summary>Adds the message's records from <paramref name="cursor"/> on; true once a limit is reached.</summary>
    private bool Scan(ShardMessage message, ref ulong cursor, ReadResult result, int maxRecords, long maxBytes)
    {
        var frames = message.Frames.AsSpan();
        while (frames.Length > 0)
        {
            int length = RecordFrame.Validate(frames);
            if (length <= 0)
                throw new InvalidDataException($"Message {message.Sequence} of JetStream stream {StreamName} holds a damaged record frame.");
            var frame = frames[..length];
            frames = frames[length..];
            ulong offset = RecordFrame.ReadOffset(frame);
            if (offset < cursor)
                continue;
            if (!result.TryAdd(frame, maxBytes))
                return true;
            cursor = offset + 1;
            if (result.Count >= maxRecords)
                return true;
        }
        return false;
    }

    /// <summary>The message holding <paramref name="offset"/>, or the first one after it (a record removed by retention).</summary>
    private async Task<ShardMessage> FindAsync(ulong offset, Tip tip, CancellationToken cancellationToken)
    {
        if (_index.Find(offset) is { } known && known <= tip.LastSequence)
        {
            var message = await GetAtOrAfterAsync(known, tip, cancellationToken).ConfigureAwait(false);
            if (message.Offset <= offset && offset < Math.Max(message.NextOffset, message.Offset + 1))
                return message;
        }
        // Binary search over sequences: the last message whose first offset is at most the one asked for.
        ShardMessage? best = null;
        ulong lo = 1, hi = tip.LastSequence;
        while (lo <= hi)
        {
            ulong mid = lo + ((hi - lo) / 2);
            var probe = await GetAtOrAfterAsync(mid, tip, cancellationToken).ConfigureAwait(false);
            if (probe.Sequence > hi)
            {
                hi = mid - 1;
                continue;
            }
            if (probe.Offset <= offset)
            {
                best = probe;
                lo = probe.Sequence + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return best ?? await GetAtOrAfterAsync(1, tip, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The first message at or after <paramref name="sequence"/>, which must exist (at most the tip's, which is
    /// never removed). Any replica may answer a direct get, and one may not yet have what the leader
    /// acknowledged: then it is asked again, briefly, rather than a record skipped.
    /// </summary>
    private async Task<ShardMessage> GetAtOrAfterAsync(ulong sequence, Tip tip, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var message = await GetAsync(new StreamMsgGetRequest { Seq = sequence, NextBySubj = _subject }, cancellationToken).ConfigureAwait(false);
            if (message is not null)
                return message;
            if (attempt >= 100)
                throw new IOException($"JetStream stream {StreamName} answers no message at or after {sequence} although {tip.LastSequence} was stored: a replica is behind, or the stream was removed.");
            await Task.Delay(attempt < 10 ? 1 : 10, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<ulong> FirstOffsetAtOrAfterAsync(long arrivalMillis, CancellationToken cancellationToken = default)
    {
        await RefreshTipAsync(cancellationToken).ConfigureAwait(false);
        var tip = _tip;
        // Arrival times never decrease along the log: the first message at or after the time holds the answer.
        ShardMessage? found = null;
        ulong lo = 1, hi = tip.LastSequence;
        while (lo <= hi)
        {
            ulong mid = lo + ((hi - lo) / 2);
            var probe = await GetAtOrAfterAsync(mid, tip, cancellationToken).ConfigureAwait(false);
            if (probe.Sequence > hi)
            {
                hi = mid - 1;
                continue;
            }
            if (probe.ArrivalMillis >= arrivalMillis && probe.Count > 0)
            {
                found = probe;
                hi = mid - 1;
            }
            else if (probe.ArrivalMillis >= arrivalMillis)
            {
                hi = mid - 1; // a marker: records after it, if any, come later
                found ??= probe;
            }
            else
            {
                lo = probe.Sequence + 1;
            }
        }
        return found?.Offset ?? tip.NextOffset;
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
            var tip = _tip;
            if (tip.LastSequence == 0)
                return;
            ulong keepFrom;
            if (tip.LastArrivalMillis >= cutoffMillis)
            {
                keepFrom = await FirstSequenceArrivedAtOrAfterAsync(cutoffMillis, tip).ConfigureAwait(false);
            }
            else
            {
                var last = await GetAsync(new StreamMsgGetRequest { LastBySubj = _subject }, default).ConfigureAwait(false);
                keepFrom = last is { Count: 0 } ? last.Sequence // already only a marker (or the end)
                    : (await PublishAsync(0, ReadOnlyMemory<byte>.Empty, closed: false, stamp: null).ConfigureAwait(false)).Sequence;
            }
            if (keepFrom > 1)
                await _stream.PurgeAsync(new StreamPurgeRequest { Seq = keepFrom }).ConfigureAwait(false);
            _index.RemoveBelow(keepFrom);
        }
        finally
        {
            _writer.Release();
        }
    }

    private async Task<ulong> FirstSequenceArrivedAtOrAfterAsync(long cutoffMillis, Tip tip)
    {
        ulong found = tip.LastSequence, lo = 1, hi = tip.LastSequence;
        while (lo <= hi)
        {
            ulong mid = lo + ((hi - lo) / 2);
            var probe = await GetAtOrAfterAsync(mid, tip, default).ConfigureAwait(false);
            if (probe.Sequence > hi)
            {
                hi = mid - 1;
                continue;
            }
            if (probe.ArrivalMillis >= cutoffMillis)
            {
                found = probe.Sequence;
                hi = mid - 1;
            }
            else
            {
                lo = probe.Sequence + 1;
            }
        }
        return found;
    }

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
            if (_tip.Closed)
                return _tip.NextOffset;
            var marker = await PublishAsync(0, ReadOnlyMemory<byte>.Empty, closed: true, stamp: null).ConfigureAwait(false);
            return marker.Offset;
        }
        catch (ShardClosedException)
        {
            return _tip.NextOffset; // another node closed it meanwhile
        }
        finally
        {
            _writer.Release();
        }
    }

    private async Task<ShardMessage?> GetAsync(StreamMsgGetRequest request, CancellationToken cancellationToken)
    {
        var message = await _stream.GetDirectAsync<byte[]>(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        var read = ShardMessage.From(message, StreamName);
        if (read is not null)
            _index.Add(read);
        return read;
    }

    /// <summary>The synchronous members of <see cref="IShardLog"/> (a reshard's close, retention) wait here; both are rare and off the data path.</summary>
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static void Wait(Task task) => task.GetAwaiter().GetResult();

    public void Dispose() => _writer.Dispose();
}
