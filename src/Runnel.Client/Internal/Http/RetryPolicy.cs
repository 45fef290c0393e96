using System.Net;

namespace Runnel.Client.Internal.Http;

/// <summary>
/// Which failures are retried and how long to wait before each retry: full jitter, a delay drawn uniformly from
/// [0, min(max, base × 2^retry)). The random source and the wait are injected so that tests see the delays without
/// waiting. Thread-safe when its random source is (the default, <see cref="Random.Shared"/>, is).
/// </summary>
internal sealed class RetryPolicy(RetryOptions options, Func<double>? random = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
{
    /// <summary>Error codes that mean "slow down", in Kinesis, DynamoDB and AWS's common errors.</summary>
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "KMSThrottlingException",
        "SlowDown",
        "TransactionInProgressException",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
    };

    /// <summary>Error codes of transient faults that come without a 5xx status.</summary>
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalFailure",
        "InternalFailureException",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    };

    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay = delay ?? Task.Delay;

    public int MaxAttempts { get; } = Math.Max(1, options.MaxAttempts);

    /// <summary>Whether an answer with <paramref name="errorCode"/> and <paramref name="status"/> is retried.</summary>
    public static bool IsRetryable(string errorCode, HttpStatusCode status) =>
        (int)status >= 500 || status == HttpStatusCode.TooManyRequests || ThrottlingCodes.Contains(errorCode) || TransientCodes.Contains(errorCode);

    /// <summary>Whether <paramref name="errorCode"/> is a throttling error.</summary>
    public static bool IsThrottling(string errorCode) => ThrottlingCodes.Contains(errorCode);

    /// <summary>The ceiling of the backoff before retry number <paramref name="retry"/> (0 for the first retry).</summary>
    public TimeSpan Ceiling(int retry)
    {
        double ceiling = options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 62));
        return TimeSpan.FromMilliseconds(Math.Min(options.MaxDelay.TotalMilliseconds, ceiling));
    }

    /// <summary>The backoff before retry number <paramref name="retry"/>: uniform in [0, <see cref="Ceiling"/>).</summary>
    public TimeSpan Backoff(int retry) => TimeSpan.FromMilliseconds(Ceiling(retry).TotalMilliseconds * _random());

    /// <summary>Waits the backoff before retry number <paramref name="retry"/>.</summary>
    public Task WaitAsync(int retry, CancellationToken cancellationToken) => _delay(Backoff(retry), cancellationToken);
}
