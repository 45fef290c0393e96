using System.Globalization;

namespace Runnel.Storage.JetStream;

/// <summary>
/// What a node does when JetStream refuses its append because another node appended first. The refusal names the
/// stream's last sequence ("wrong last sequence: N"), and the node that stored message N tells every node of it
/// (<see cref="Notify"/>): when that notice comes within <see cref="NoticeWait"/>, its tip is the stream's and the
/// append is placed again at once; otherwise the last message is read from the stream's leader.
/// </summary>
public sealed partial class JetStreamShardLog
{
    /// <summary>How long a refused append waits for the notice of the message that got in first before it reads the
    /// leader. A notice comes within a millisecond on a quiet host; it is lost only when a connection is.</summary>
    private static readonly TimeSpan NoticeWait = TimeSpan.FromMilliseconds(3);

    private const string WrongLastSequencePrefix = "wrong last sequence: ";

    // Created by a refused append that waits for the tip, completed and cleared by the next move of the tip.
    private TaskCompletionSource? _tipMoved;

    /// <summary>Learns the tip after a refusal: from the notice of the message JetStream named as last, or, when it
    /// does not come in time (or the refusal names none), from the leader.</summary>
    private async Task LearnTipAfterRefusalAsync(string? description, Tip refused)
    {
        if (LastSequenceOf(description) is { } last && last > refused.LastSequence && await WaitForTipAsync(last, NoticeWait).ConfigureAwait(false))
            return;
        await RefreshTipAsync(default).ConfigureAwait(false);
    }

    /// <summary>The sequence JetStream's refusal names as the stream's last, or null when it names none.</summary>
    internal static ulong? LastSequenceOf(string? description)
    {
        if (description is null)
            return null;
        int at = description.IndexOf(WrongLastSequencePrefix, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
            return null;
        var digits = description.AsSpan(at + WrongLastSequencePrefix.Length);
        int length = 0;
        while (length < digits.Length && char.IsAsciiDigit(digits[length]))
            length++;
        return ulong.TryParse(digits[..length], NumberStyles.None, CultureInfo.InvariantCulture, out ulong sequence) ? sequence : null;
    }

    /// <summary>True once this node's tip has reached <paramref name="sequence"/>, false when <paramref name="timeout"/> passed first.</summary>
    private async Task<bool> WaitForTipAsync(ulong sequence, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        while (true)
        {
            var signal = Volatile.Read(ref _tipMoved);
            if (signal is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                signal = Interlocked.CompareExchange(ref _tipMoved, created, null) ?? created;
            }
            // Checked after the signal is in place: a move now either shows here or completes the signal.
            if (Current.LastSequence >= sequence)
                return true;
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
                return false;
            try
            {
                await signal.Task.WaitAsync(TimeSpan.FromMilliseconds(left)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return Current.LastSequence >= sequence;
            }
        }
    }

    /// <summary>Wakes a refused append waiting for the tip (<see cref="Advance"/> calls it when the tip moved).</summary>
    private void TipMoved()
    {
        if (Volatile.Read(ref _tipMoved) is not null)
            Interlocked.Exchange(ref _tipMoved, null)?.TrySetResult();
    }
}
