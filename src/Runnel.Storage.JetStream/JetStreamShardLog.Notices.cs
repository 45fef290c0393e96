namespace Runnel.Storage.JetStream;

/// <summary>How the nodes that read a shard learn of what other nodes appended (docs/formats/jetstream.md).</summary>
public sealed partial class JetStreamShardLog
{
    /// <summary>Where a writer tells the other nodes of each message it stored (core NATS, at most once; its records as
    /// the payload when they are at most <see cref="MaxNoticeFrameBytes"/>, else none).</summary>
    private string TipSubject => "_RUNNEL_TIP." + _subject;

    private const string WriterHeader = "Runnel-Writer";
    private const string SequenceHeader = "Runnel-Sequence";

    /// <summary>Tells the nodes that read this shard that a message was stored: they move their tip, keep its records
    /// (<paramref name="frames"/>, empty when too large to send) for their readers, and wake them.</summary>
    private void Notify(ShardMessage stored, byte[] frames)
    {
        var headers = ShardMessage.Headers(stored.Offset, stored.Count, stored.ArrivalMillis, stored.Closed);
        headers[WriterHeader] = _settings.WriterId;
        headers[SequenceHeader] = stored.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Fire and forget: a lost notice costs a waiting reader at most the poll interval (ListenAsync).
        _ = _js.Connection.PublishAsync(TipSubject, frames, headers: headers).AsTask();
    }

    /// <summary>
    /// Raised when another node stored records in this shard or closed it: this node's own appends and close do not
    /// raise it. Subscribing starts listening for the notices other writers send, with a poll of the tip behind
    /// them (<see cref="JetStreamSettings.TipPollInterval"/>: a notice may be lost). May be raised on any thread, and more than once for one change.
    /// </summary>
    public event Action? AppendedElsewhere
    {
        add
        {
            lock (_stop)
                _appendedElsewhere += value;
            if (Interlocked.Exchange(ref _listening, 1) == 0)
            {
                _ = Task.Run(ListenAsync);
                _ = Task.Run(PollAsync);
            }
        }
        remove
        {
            lock (_stop)
                _appendedElsewhere -= value;
        }
    }

    private async Task ListenAsync()
    {
        try
        {
            await foreach (var notice in _js.Connection.SubscribeAsync<byte[]>(TipSubject, cancellationToken: _stop.Token).ConfigureAwait(false))
            {
                var headers = notice.Headers;
                if (headers is null || (headers.TryGetLastValue(WriterHeader, out string? writer) && writer == _settings.WriterId))
                    continue;
                if (!headers.TryGetLastValue(SequenceHeader, out string? sequenceText) || !ulong.TryParse(sequenceText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong sequence))
                    continue;
                headers[ShardMessage.SequenceHeaderName] = sequenceText;
                ShardMessage told;
                try
                {
                    told = ShardMessage.FromHeaders(headers, StreamName, notice.Data ?? []);
                }
                catch (InvalidDataException)
                {
                    continue; // not a notice of ours
                }
                if (told.Sequence != sequence)
                    continue;
                _index.Add(told); // a read finds its message without a search
                if (told.Count == 0 || told.Frames.Length > 0)
                    _recent.Add(told); // with its records: a read at the tip needs no direct get
                if (Advance(told))
                    Raise();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is NATS.Client.Core.NatsException or ObjectDisposedException)
        {
            // The poll goes on.
        }
    }

    private async Task PollAsync()
    {
        if (_settings.TipPollInterval == Timeout.InfiniteTimeSpan)
            return;
        using var timer = new PeriodicTimer(_settings.TipPollInterval, _settings.Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var before = Current;
                try
                {
                    await RefreshTipAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or NATS.Client.Core.NatsException or TimeoutException)
                {
                    continue;
                }
                if (Current.LastSequence != before.LastSequence)
                    Raise();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Raise()
    {
        Action? handlers;
        lock (_stop)
            handlers = _appendedElsewhere;
        handlers?.Invoke();
    }
}
