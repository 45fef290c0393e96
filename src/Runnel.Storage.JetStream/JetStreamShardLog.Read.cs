using NATS.Client.JetStream.Models;
using Runnel.Storage.Records;

namespace Runnel.Storage.JetStream;

/// <summary>Reads: by offset (the message holding it, then the ones after) and by arrival time.</summary>
public sealed partial class JetStreamShardLog
{
    public async ValueTask<ReadResult> ReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ReadFromAsync(fromOffset, maxRecords, maxBytes, minArrivalMillis, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not StorageUnavailableException && Unanswered.IsLoss(e, cancellationToken))
        {
            throw Unanswered.Unavailable($"a read of {StreamName}", e); // every server gone: said as such, not as a bug
        }
    }

    private async ValueTask<ReadResult> ReadFromAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken)
    {
        var tip = Current;
        bool refreshed = false;
        if (fromOffset >= tip.NextOffset && !tip.Closed)
        {
            Volatile.Write(ref _tipReadAt, Environment.TickCount64); // this node's appends are worth keeping for a while
            await RefreshTipAsync(cancellationToken).ConfigureAwait(false); // another node may have appended
            tip = Current;
            refreshed = true;
        }
        var result = new ReadResult((int)Math.Min(maxBytes + 4096, 64 * 1024));
        result.NextOffset = Math.Min(fromOffset, tip.NextOffset);
        if (fromOffset >= tip.NextOffset || maxRecords <= 0 || tip.LastSequence == 0)
            return result;

        ulong cursor = fromOffset;
        bool done = false;
        var message = await FindAsync(fromOffset, tip, cancellationToken).ConfigureAwait(false);
        ReadAhead? ahead = null;
        try
        {
            while (true)
            {
                if (message.Count > 0 && message.NextOffset > cursor)
                {
                    if (message.ArrivalMillis < minArrivalMillis)
                        cursor = message.NextOffset; // expired by retention, not yet removed
                    else
                        done = Scan(message, ref cursor, result, maxRecords, maxBytes);
                }
                if (done)
                    break;
                if (message.Sequence >= tip.LastSequence)
                {
                    // At the tip this node knew. What another node appended since (its notice may still be on the way) is
                    // asked of the stream's leader once, so that a write acknowledged through any node before this read
                    // began is in it.
                    if (refreshed || tip.Closed)
                        break;
                    refreshed = true;
                    await RefreshTipAsync(cancellationToken).ConfigureAwait(false);
                    if (Current.LastSequence <= tip.LastSequence)
                        break;
                    tip = Current;
                }
                ahead ??= new ReadAhead(this, cancellationToken);
                // About as many messages as the records still wanted fill, at this message's count of records a message.
                int wanted = (maxRecords - result.Count + Math.Max(message.Count, 1) - 1) / Math.Max(message.Count, 1);
                message = await ahead.NextAsync(message.Sequence + 1, tip, wanted).ConfigureAwait(false);
            }
        }
        finally
        {
            ahead?.LetGoAll();
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
        // The message holding the offset is the first whose records end past it (ends grow along the log); none
        // when the offset is at the end.
        return await FirstWhereAsync(m => m.NextOffset > offset, tip, cancellationToken).ConfigureAwait(false)
            ?? await GetAtOrAfterAsync(tip.LastSequence, tip, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The first message for which <paramref name="holds"/> is true, by a binary search over sequences; null when
    /// there is none. <paramref name="holds"/> must stay true along the log once it is (offsets and arrival times
    /// never go back).
    /// </summary>
    private async Task<ShardMessage?> FirstWhereAsync(Func<ShardMessage, bool> holds, Tip tip, CancellationToken cancellationToken)
    {
        ShardMessage? found = null;
        ulong lo = 1, hi = tip.LastSequence;
        while (lo <= hi)
        {
            ulong mid = lo + ((hi - lo) / 2);
            // The first message at or after mid: none lies between the two, so the search may skip to it.
            var probe = await GetAtOrAfterAsync(mid, tip, cancellationToken).ConfigureAwait(false);
            if (probe.Sequence <= hi && holds(probe))
            {
                found = probe;
                hi = mid - 1;
            }
            else if (probe.Sequence <= hi)
            {
                lo = probe.Sequence + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    /// <summary>
    /// The first message at or after <paramref name="sequence"/>, which must exist (at most the tip's, which is
    /// never removed): from the window of recent messages, else by a direct get, which any replica may answer, else
    /// (a replica that does not have it yet) from the stream's leader; asked again, briefly, rather than a record
    /// skipped, if even the leader has none.
    /// </summary>
    private async Task<ShardMessage> GetAtOrAfterAsync(ulong sequence, Tip tip, CancellationToken cancellationToken)
    {
        sequence = Math.Min(Math.Max(sequence, Volatile.Read(ref _keptFrom)), Math.Max(sequence, tip.LastSequence));
        if (_recent.Get(sequence) is { } recent)
            return recent; // the message exists (it was stored and told of), so it is the first at or after its sequence
        for (int attempt = 0; ; attempt++)
        {
            var request = new StreamMsgGetRequest { Seq = sequence, NextBySubj = _subject };
            // The leader has whatever was acknowledged, when the replica that answered the direct get does not yet.
            var message = await GetAsync(request, cancellationToken).ConfigureAwait(false)
                ?? await GetFromLeaderAsync(request, cancellationToken).ConfigureAwait(false);
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
        var tip = Current;
        // Arrival times never decrease along the log: the first message at or after the time holds the answer (a
        // marker's offset is that of the record after it).
        var found = await FirstWhereAsync(m => m.ArrivalMillis >= arrivalMillis, tip, cancellationToken).ConfigureAwait(false);
        return found?.Offset ?? tip.NextOffset;
    }
}
