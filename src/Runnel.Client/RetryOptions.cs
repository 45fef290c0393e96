namespace Runnel.Client;

/// <summary>
/// How a client retries: throttling errors (such as <c>ProvisionedThroughputExceededException</c>,
/// <c>LimitExceededException</c>, <c>ThrottlingException</c>), 5xx answers and transport failures or timeouts are
/// tried again up to <see cref="MaxAttempts"/> in all, after a full-jitter exponential backoff: a delay drawn uniformly
/// from zero to <c>min(MaxDelay, BaseDelay × 2^retry)</c>. Other errors are thrown at once. A PutRecords answer with
/// failed records is a success to the client: resending those records is the caller's choice.
/// </summary>
public sealed record RetryOptions
{
    /// <summary>Attempts in all, the first included (1 turns retries off). Default 3, as the AWS SDKs' standard mode.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The backoff's ceiling before the first retry; it doubles for each retry after. Default 100 ms.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The largest ceiling any backoff has. Default 20 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>No retries at all.</summary>
    public static RetryOptions None { get; } = new() { MaxAttempts = 1 };
}
