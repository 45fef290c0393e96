namespace Runnel.Storage.JetStream;

/// <summary>A read's next messages asked for ahead of it, several requests in flight instead of one after another.</summary>
public sealed partial class JetStreamShardLog
{
    /// <summary>Messages one read asks JetStream for at once when the next it needs is not among the recent ones.</summary>
    private const int ReadAheadMessages = 8;

    /// <summary>
    /// The messages after the one a read holds, fetched ahead. A read that is behind the tip needs the messages that
    /// follow one by one; each is a JetStream request (a direct get, or the leader's answer when a replica is behind),
    /// which on a loaded cluster took 20-50 ms here, so a read of 40 messages this node had not been told of took
    /// 110 ms one after another (docs/benchmarks.md). Sequences in a shard's stream follow one another (retention
    /// removes only from the front), so the next few are asked for together. One read's own: not thread-safe.
    /// </summary>
    private sealed class ReadAhead(JetStreamShardLog log, CancellationToken cancellationToken)
    {
        private readonly Queue<(ulong Sequence, Task<ShardMessage> Message)> _asked = new();

        /// <summary>The first message at or after <paramref name="sequence"/>; with it, up to <paramref name="wanted"/>
        /// messages in all (the read's estimate of what it still needs) are asked for, none past the tip.</summary>
        public async Task<ShardMessage> NextAsync(ulong sequence, Tip tip, int wanted)
        {
            while (_asked.TryPeek(out var passed) && passed.Sequence < sequence)
                LetGo(_asked.Dequeue().Message); // passed over: its message was removed, and a later one answered
            if (_asked.TryPeek(out var head) && head.Sequence == sequence)
                return await _asked.Dequeue().Message.ConfigureAwait(false);
            LetGoAll(); // nothing asked fits (it cannot happen while reads only go forward): ask again
            if (log._recent.Get(sequence) is { } recent)
                return recent;
            ulong last = Math.Min(tip.LastSequence, sequence + (ulong)Math.Clamp(wanted, 1, ReadAheadMessages) - 1);
            for (ulong next = sequence + 1; next <= last; next++)
                _asked.Enqueue((next, log.GetAtOrAfterAsync(next, tip, cancellationToken)));
            return await log.GetAtOrAfterAsync(sequence, tip, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Lets the fetches still under way go: the read has what it needs.</summary>
        public void LetGoAll()
        {
            while (_asked.TryDequeue(out var asked))
                LetGo(asked.Message);
        }

        // Its answer is not needed; a failure of it is no failure of the read.
        private static void LetGo(Task<ShardMessage> fetch) =>
            _ = fetch.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
