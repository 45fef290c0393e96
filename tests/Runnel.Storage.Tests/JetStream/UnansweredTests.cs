using System.Diagnostics;
using Runnel.Storage.JetStream;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>Requests that go unanswered (a leader being elected) are asked again after a bounded wait, not the connection's 10 s.</summary>
public sealed class UnansweredTests
{
    [Fact(Timeout = 30000)]
    public async Task A_request_never_answered_is_sent_again_after_a_second_and_the_answer_of_the_next_is_taken()
    {
        int sent = 0;
        var clock = Stopwatch.StartNew();
        string answer = await Unanswered.RetryWithinAsync(async within =>
        {
            if (Interlocked.Increment(ref sent) == 1)
                await Task.Delay(Timeout.Infinite, within); // never answered: only the attempt's own wait ends it
            return "answered";
        }, CancellationToken.None);
        Assert.Equal("answered", answer);
        Assert.Equal(2, sent);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
    }

    [Fact(Timeout = 30000)]
    public async Task The_callers_cancellation_ends_it_and_a_refusal_is_not_asked_again()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Unanswered.RetryWithinAsync<int>(async within =>
        {
            await Task.Delay(Timeout.Infinite, within);
            return 0;
        }, cancel.Token));

        int sent = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => Unanswered.RetryWithinAsync<int>(_ =>
        {
            Interlocked.Increment(ref sent);
            throw new InvalidOperationException("refused");
        }, CancellationToken.None));
        Assert.Equal(1, sent);
    }
}
