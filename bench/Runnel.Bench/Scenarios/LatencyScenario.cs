using System.Diagnostics;
using System.Globalization;
using Runnel.Bench.Kinesis;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// Put-to-visible latency: a writer puts one record at a time at a modest, steady rate into a one-shard
/// stream while a reader, on a dedicated thread (thread-pool scheduling would add its own jitter), polls
/// GetRecords from LATEST, pausing <see cref="RunOptions.PollMillis"/> after every empty answer. A record's
/// latency is the time from just before its PutRecord was sent to the moment the reader parsed it, so it
/// includes the put, the server making the record readable, up to one poll pause, and one GetRecords.
/// The record's number travels in its partition key.
/// </summary>
public static class LatencyScenario
{
    private const string KeyPrefix = "lat-";

    public sealed class Result
    {
        public LatencySamples Visible { get; } = new();
        public LatencySamples Acknowledged { get; } = new();
        public int Written { get; set; }
        public int Seen { get; set; }
        public long Polls { get; set; }
        public long FailedRequests { get; set; }
        public string? FirstError { get; set; }
        public TimeSpan Elapsed { get; set; }
    }

    public static async Task<Result> RunAsync(BenchContext ctx, string stream, string shardId)
    {
        var options = ctx.Options;
        int count = options.LatencyRecords;
        var result = new Result();
        var putStarted = new long[count];
        var seenAt = new long[count];
        var data = new byte[100];
        var bodies = new RequestBody[count];
        for (int i = 0; i < count; i++)
        {
            bodies[i] = KinesisJson.PutRecord(stream, KeyPrefix + i.ToString(CultureInfo.InvariantCulture), data);
            _ = bodies[i].Sha256Hex;
        }

        string iterator;
        using (var response = await ctx.Client.SendAsync("GetShardIterator", KinesisJson.GetShardIterator(stream, shardId, "LATEST")).ConfigureAwait(false))
            iterator = (response.IsSuccess ? KinesisJson.ReadString(response.Body, "ShardIterator") : null)
                ?? throw new BenchException($"GetShardIterator LATEST: {response.Describe()}");

        var start = Stopwatch.GetTimestamp();
        long writerWindow = (long)((count / options.LatencyRate + 5) * Stopwatch.Frequency);
        long deadline = start + Math.Min(writerWindow, (long)(options.Duration.TotalSeconds * Stopwatch.Frequency));
        using var stop = new CancellationTokenSource();
        int seen = 0;
        long polls = 0, readerFailures = 0;
        string? readerError = null;

        void Reader()
        {
            string? next = iterator;
            while (next is not null && Volatile.Read(ref seen) < count && Stopwatch.GetTimestamp() < deadline && !stop.IsCancellationRequested)
            {
                polls++;
                try
                {
                    using var response = ctx.Client.Send("GetRecords", KinesisJson.GetRecords(next, 1000));
                    long now = Stopwatch.GetTimestamp();
                    if (!response.IsSuccess)
                    {
                        readerFailures++;
                        readerError ??= response.Describe();
                        Thread.Sleep(Math.Max(1, options.PollMillis));
                        continue;
                    }
                    var page = KinesisJson.ReadRecordsPage(response.Body, key =>
                    {
                        if (key.StartsWith(KeyPrefix, StringComparison.Ordinal)
                            && int.TryParse(key.AsSpan(KeyPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                            && id < count && seenAt[id] == 0)
                        {
                            seenAt[id] = now;
                            Interlocked.Increment(ref seen);
                        }
                    });
                    next = page.NextShardIterator;
                    if (page.Count == 0 && options.PollMillis > 0)
                        Thread.Sleep(options.PollMillis);
                }
                catch (HttpRequestException e)
                {
                    readerFailures++;
                    readerError ??= e.GetBaseException().Message;
                    Thread.Sleep(Math.Max(1, options.PollMillis));
                }
            }
        }

        var readerThread = new Thread(Reader) { IsBackground = true, Name = "latency-reader" };
        readerThread.Start();

        long interval = (long)(Stopwatch.Frequency / options.LatencyRate);
        int written = 0;
        for (int i = 0; i < count && Stopwatch.GetTimestamp() < deadline; i++)
        {
            long due = start + i * interval;
            long wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency)).ConfigureAwait(false);
            long t0 = Stopwatch.GetTimestamp();
            Volatile.Write(ref putStarted[i], t0);
            try
            {
                using var response = await ctx.Client.SendAsync("PutRecord", bodies[i]).ConfigureAwait(false);
                if (response.IsSuccess)
                {
                    result.Acknowledged.Add(t0, Stopwatch.GetTimestamp());
                    written++;
                }
                else
                {
                    result.FailedRequests++;
                    result.FirstError ??= response.Describe();
                }
            }
            catch (HttpRequestException e)
            {
                result.FailedRequests++;
                result.FirstError ??= e.GetBaseException().Message;
            }
        }

        // Give the reader until the deadline, or a second past the last put, to see the rest.
        long grace = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (Volatile.Read(ref seen) < written && Stopwatch.GetTimestamp() < Math.Min(grace, deadline) && readerThread.IsAlive)
            await Task.Delay(5).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        readerThread.Join();

        for (int i = 0; i < count; i++)
            if (seenAt[i] != 0 && putStarted[i] != 0)
                result.Visible.Add(putStarted[i], seenAt[i]);
        result.Written = written;
        result.Seen = result.Visible.Count;
        result.Polls = polls;
        result.FailedRequests += readerFailures;
        result.FirstError ??= readerError;
        result.Elapsed = Stopwatch.GetElapsedTime(start);
        return result;
    }
}
