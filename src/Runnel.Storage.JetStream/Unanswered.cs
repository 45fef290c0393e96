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

    /// <summary>How long a bucket's creation at start-up is asked again: a fresh cluster's first R3 streams, made by
    /// two nodes starting at once, took about 30 s here on a loaded two-core machine.</summary>
    public static readonly TimeSpan StartBudget = TimeSpan.FromSeconds(60);

    /// <summary>Whether <paramref name="e"/> means the request went unanswered (or JetStream said it is not ready),
    /// not that it was refused.</summary>
    public static bool Is(Exception e) =>
        e is NatsNoReplyException or NatsNoRespondersException or NatsJSApiNoResponseException or TimeoutException or NatsJSTimeoutException
        || (e is NatsJSApiException api && api.Error.Code == 503);

    /// <summary>Runs <paramref name="request"/>, again after a short pause while it goes unanswered, for about
    /// <paramref name="budget"/> (<see cref="Budget"/> by default).</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> request, CancellationToken cancellationToken, TimeSpan? budget = null)
    {
        var deadline = DateTime.UtcNow + (budget ?? Budget);
        while (true)
        {
            try
            {
                return await request().ConfigureAwait(false);
            }
            catch (Exception e) when (Is(e) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
