using System.Diagnostics;
using System.Text.Json;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>What one request of a load loop achieved.</summary>
public readonly record struct Outcome(long RecordsOk, long RecordsFailed, string? Error)
{
    public static Outcome Failed(string error) => new(0, 0, error);
}

/// <summary>What a load loop did, summed over its workers.</summary>
public sealed class LoadResult
{
    public long Requests { get; set; }
    public long FailedRequests { get; set; }
    public long RecordsOk { get; set; }
    public long RecordsFailed { get; set; }
    public string? FirstError { get; set; }
    public TimeSpan Elapsed { get; set; }
    public bool HitTimeCap { get; set; }
    public bool GaveUp { get; set; }
    public LatencySamples Latency { get; } = new();

    public double RecordsPerSecond => RecordsOk / Elapsed.TotalSeconds;
    public double RequestsPerSecond => (Requests - FailedRequests) / Elapsed.TotalSeconds;
}

/// <summary>
/// Runs numbered operations on <c>concurrency</c> workers until <c>count</c> have been started or the time
/// cap has passed, timing each. An operation that throws (a refused or reset connection, a timeout) counts
/// as a failed request; the loop gives up after 100 failures in a row, so a dead server ends a scenario at
/// once rather than at its count or its cap.
/// </summary>
public static class LoadLoop
{
    public static async Task<LoadResult> RunAsync(int concurrency, long count, TimeSpan cap,
        Func<long, CancellationToken, Task<Outcome>> operation)
    {
        using var timeout = new CancellationTokenSource(cap + TimeSpan.FromSeconds(30)); // a hung request
        long next = -1;
        long failuresInARow = 0;
        var result = new LoadResult();
        var gate = new Lock();
        long start = Stopwatch.GetTimestamp();
        long deadline = start + (long)(cap.TotalSeconds * Stopwatch.Frequency);

        async Task Worker()
        {
            var latency = new LatencySamples();
            long requests = 0, failedRequests = 0, ok = 0, failedRecords = 0;
            string? firstError = null;
            while (true)
            {
                long index = Interlocked.Increment(ref next);
                if (index >= count)
                    break;
                long now = Stopwatch.GetTimestamp();
                if (now >= deadline)
                {
                    lock (gate)
                        result.HitTimeCap = true;
                    break;
                }
                if (Interlocked.Read(ref failuresInARow) > 100)
                {
                    lock (gate)
                        result.GaveUp = true;
                    break;
                }
                Outcome outcome;
                try
                {
                    outcome = await operation(index, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or JsonException)
                {
                    outcome = Outcome.Failed(e.GetBaseException().Message);
                }
                long end = Stopwatch.GetTimestamp();
                requests++;
                if (outcome.Error is null)
                {
                    latency.Add(now, end);
                    Interlocked.Exchange(ref failuresInARow, 0);
                }
                else
                {
                    failedRequests++;
                    firstError ??= outcome.Error;
                    Interlocked.Increment(ref failuresInARow);
                }
                ok += outcome.RecordsOk;
                failedRecords += outcome.RecordsFailed;
            }
            lock (gate)
            {
                result.Requests += requests;
                result.FailedRequests += failedRequests;
                result.RecordsOk += ok;
                result.RecordsFailed += failedRecords;
                result.FirstError ??= firstError;
                result.Latency.AddRange(latency);
            }
        }

        var workers = new Task[concurrency];
        for (int i = 0; i < concurrency; i++)
            workers[i] = Task.Run(Worker);
        await Task.WhenAll(workers).ConfigureAwait(false);
        result.Elapsed = Stopwatch.GetElapsedTime(start);
        return result;
    }
}
