using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Runnel.Storage.JetStream;

/// <summary>
/// JetStream requests that got no answer: a stream or meta leader being elected, or a machine too loaded to answer
/// within the request timeout. Such a request is asked again for about <see cref="Budget"/>; only requests that are
/// safe to repeat (reads, idempotent creates) go through <see cref="RetryAsync{T}"/>.
/// </summary>
public static class Unanswered
{
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(15);

    /// <summary>How long a bucket's creation at start-up is asked again: a fresh cluster still electing its leaders,
    /// or servers too loaded to answer.</summary>
    public static readonly TimeSpan StartBudget = TimeSpan.FromSeconds(60);

    /// <summary>Whether <paramref name="e"/> means the request went unanswered (or JetStream said it is not ready),
    /// not that it was refused.</summary>
    public static bool Is(Exception e) =>
        e is NatsNoReplyException or NatsNoRespondersException or NatsJSApiNoResponseException or TimeoutException or NatsJSTimeoutException
        || (e is NatsJSApiException api && api.Error.Code == 503);

    /// <summary>
    /// Whether <paramref name="e"/> means JetStream could not be reached or did not answer at all (every server gone,
    /// the connection's command timeout passed while it reconnects, a request unanswered), as opposed to an answer
    /// that refused the request. <paramref name="cancellationToken"/> is the caller's own: its cancellation is not a loss.
    /// </summary>
    public static bool IsLoss(Exception e, CancellationToken cancellationToken = default) =>
        Is(e) || (e is NatsException and not NatsJSApiException) || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>The error an operator is shown for a lost request: storage unavailable, with what was being done.</summary>
    public static StorageUnavailableException Unavailable(string what, Exception e) =>
        new($"JetStream did not answer {what} ({e.GetType().Name}: {e.Message})", e);

    /// <summary>How long "no suitable peers for placement" is taken, at start-up, for a cluster still forming: its
    /// meta leader places a replicated stream only once it knows enough servers (seen here when the servers and
    /// Runnel start together on a loaded machine). Longer, it means more replicas than servers: then it is reported.</summary>
    public static readonly TimeSpan PlacementBudget = TimeSpan.FromSeconds(20);

    /// <summary>JetStream's "no suitable peers for placement" (10005).</summary>
    public static bool IsPlacementPending(Exception e) => e is NatsJSApiException { Error.ErrCode: 10005 };

    /// <summary>Runs <paramref name="request"/>, again after a short pause while it goes unanswered, for about
    /// <paramref name="budget"/> (<see cref="Budget"/> by default); with <paramref name="startUp"/>, also while the
    /// cluster cannot place its replicas yet, for at most <see cref="PlacementBudget"/>. <paramref name="retryWhen"/>
    /// narrows which unanswered requests are asked again.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> request, CancellationToken cancellationToken, TimeSpan? budget = null, bool startUp = false,
        Func<Exception, bool>? retryWhen = null)
    {
        var start = DateTime.UtcNow;
        var deadline = start + (budget ?? Budget);
        while (true)
        {
            try
            {
                return await request().ConfigureAwait(false);
            }
            catch (Exception e) when (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested
                && ((Is(e) && (retryWhen is null || retryWhen(e))) || (startUp && IsPlacementPending(e) && DateTime.UtcNow < start + PlacementBudget)))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>How long each attempt of <see cref="RetryWithinAsync{T}"/> waits for its answer, by attempt.</summary>
    private static readonly TimeSpan[] AnswerWaits = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>
    /// As <see cref="RetryAsync{T}"/>, for a request safe to repeat that may be sent while a leader is being
    /// elected: such a request is never answered, and waiting the connection's whole request timeout for it (10 s)
    /// stalled every append behind a shard's first opening (a stream's creation by two nodes at once, a read of its
    /// last message before its leader was elected; the buckets made by nodes starting at once, three requests of 10 s
    /// each). Each attempt waits 1 s for its answer, then 2, then 4: a machine too loaded to answer at once still gets
    /// one. <paramref name="budget"/> and <paramref name="startUp"/> are <see cref="RetryAsync{T}"/>'s.
    /// </summary>
    public static Task<T> RetryWithinAsync<T>(Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken, TimeSpan? budget = null, bool startUp = false)
    {
        int attempt = 0;
        return RetryAsync(async () =>
        {
            var wait = AnswerWaits[Math.Min(attempt++, AnswerWaits.Length - 1)];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(wait);
            try
            {
                return await request(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"JetStream did not answer within {wait.TotalSeconds:0} s.");
            }
        }, cancellationToken, budget, startUp);
    }
}
