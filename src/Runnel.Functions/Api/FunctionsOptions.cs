namespace Runnel.Functions.Api;

/// <summary>What the functions need to know of the server: its region (ARNs) and the invocation limits.</summary>
public sealed record FunctionsOptions
{
    public required string Region { get; init; }

    /// <summary>The largest payload of a synchronous invocation (Lambda's 6 MiB).</summary>
    public long MaxPayloadBytes { get; init; } = 6 * 1024 * 1024;

    /// <summary>The pauses before an asynchronous invocation that failed is tried again (Lambda's: two retries, 1 and 2 minutes later).</summary>
    public IReadOnlyList<TimeSpan> AsyncRetryWaits { get; init; } = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)];
}
