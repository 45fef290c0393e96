using System.Diagnostics;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// Reads a whole stream back from TRIM_HORIZON, one reader per shard as a Kinesis consumer does, with
/// GetRecords at its largest Limit (10,000). A shard is drained when a GetRecords returns no records and
/// says it is not behind; the drain also stops once every expected record has been read, or at the cap.
/// </summary>
public static class DrainScenario
{
    public const int Limit = 10_000;

    public sealed class Result
    {
        public long Records { get; set; }
        public long Requests { get; set; }
        public long FailedRequests { get; set; }
        public string? FirstError { get; set; }
        public TimeSpan Elapsed { get; set; }
        public bool HitTimeCap { get; set; }
        public LatencySamples Latency { get; } = new();

        public double RecordsPerSecond => Records / Elapsed.TotalSeconds;
    }

    public static async Task<Result> RunAsync(BenchContext ctx, string stream, IReadOnlyList<string> shardIds, long expected)
    {
        var result = new Result();
        var gate = new Lock();
        long total = 0;
        long start = Stopwatch.GetTimestamp();
        long deadline = start + (long)(ctx.Options.Duration.TotalSeconds * Stopwatch.Frequency);

        async Task ReadShard(string shardId)
        {
            var latency = new LatencySamples();
            long requests = 0, failed = 0, records = 0;
            string? firstError = null;
            string? iterator = null;
            while (iterator is null && failed < 10)
            {
                requests++;
                using var response = await ctx.Client.SendAsync("GetShardIterator", ctx.Codec.GetShardIterator(stream, shardId, "TRIM_HORIZON")).ConfigureAwait(false);
                iterator = response.IsSuccess ? ctx.Codec.ReadString(response, "ShardIterator") : null;
                if (iterator is null)
                {
                    failed++;
                    firstError ??= response.Describe();
                }
            }
            while (iterator is not null && Interlocked.Read(ref total) < expected)
            {
                long t0 = Stopwatch.GetTimestamp();
                if (t0 >= deadline)
                {
                    lock (gate)
                        result.HitTimeCap = true;
                    break;
                }
                requests++;
                try
                {
                    using var response = await ctx.Client.SendAsync("GetRecords", ctx.Codec.GetRecords(iterator, Limit)).ConfigureAwait(false);
                    if (!response.IsSuccess)
                    {
                        failed++;
                        firstError ??= response.Describe();
                        if (failed > 100)
                            break;
                        await Task.Delay(10).ConfigureAwait(false);
                        continue;
                    }
                    var page = ctx.Codec.ReadRecordsPage(response);
                    latency.Add(t0, Stopwatch.GetTimestamp());
                    records += page.Count;
                    Interlocked.Add(ref total, page.Count);
                    iterator = page.NextShardIterator;
                    if (page.Count == 0 && page.MillisBehindLatest == 0)
                        break;
                }
                catch (HttpRequestException e)
                {
                    failed++;
                    firstError ??= e.GetBaseException().Message;
                    if (failed > 100)
                        break;
                }
            }
            lock (gate)
            {
                result.Records += records;
                result.Requests += requests;
                result.FailedRequests += failed;
                result.FirstError ??= firstError;
                result.Latency.AddRange(latency);
            }
        }

        await Task.WhenAll(shardIds.Select(id => Task.Run(() => ReadShard(id)))).ConfigureAwait(false);
        result.Elapsed = Stopwatch.GetElapsedTime(start);
        return result;
    }
}
