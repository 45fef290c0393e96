using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Runnel.Bench.Reporting;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench jetstream</c>: the floor under a cluster's put-to-visible latency. It publishes one message at a
/// time at a steady rate straight to a JetStream stream of the replication asked for, as a Runnel node appends
/// (150 bytes, a message id, the expected last sequence), and reports how long JetStream takes to acknowledge: no
/// Runnel node, no HTTP. A cluster node's PutRecord cannot be acknowledged sooner than this.
/// </summary>
public static class JetStreamFloorScenario
{
    public sealed record Options(string Nats, int Replicas, int Records, double Rate)
    {
        public static Options Parse(CommandLine cl) => new(
            cl.String("nats") ?? throw new ArgumentException("--nats URLS is required"),
            cl.Int32("replicas", 3, 1),
            cl.Int32("records", 3000, 10),
            cl.Double("rate", 200, 1));

        public const string Help = """
            runnel-bench jetstream [options]: JetStream's own publish latency, one message at a time (no Runnel).
              --nats URLS       the NATS servers, comma-separated (required)
              --replicas N      the test stream's replication (default 3)
              --records N       messages published (default 3000)
              --rate R          messages a second (default 200, as the put-to-visible scenario writes)
            """;
    }

    public static async Task<LatencySamples> RunAsync(Options options, TextWriter log)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = options.Nats, Name = "runnel-bench" });
        var js = new NatsJSContext(nats);
        string name = "RUNNEL_BENCH_FLOOR_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var config = new StreamConfig(name, [name]) { NumReplicas = options.Replicas, Storage = StreamConfigStorage.File, AllowDirect = true };
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(100).ConfigureAwait(false))
        {
            try
            {
                await js.CreateStreamAsync(config).ConfigureAwait(false);
                break;
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == 10005 && DateTime.UtcNow < deadline)
            {
                // "no suitable peers for placement": a cluster that has just started does not know all its servers yet
            }
        }
        var samples = new LatencySamples();
        try
        {
            var data = new byte[150];
            ulong last = 0;
            long start = Stopwatch.GetTimestamp(), interval = (long)(Stopwatch.Frequency / options.Rate);
            for (int i = 0; i < options.Records; i++)
            {
                long wait = start + (i * interval) - Stopwatch.GetTimestamp();
                if (wait > 0)
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency)).ConfigureAwait(false);
                long t0 = Stopwatch.GetTimestamp();
                var ack = await js.PublishAsync(name, data, opts: new NatsJSPubOpts { MsgId = "m" + i.ToString(CultureInfo.InvariantCulture), ExpectedLastSequence = last }).ConfigureAwait(false);
                samples.Add(t0, Stopwatch.GetTimestamp());
                ack.EnsureSuccess();
                last = ack.Seq;
            }
        }
        finally
        {
            await js.DeleteStreamAsync(name).ConfigureAwait(false);
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  JetStream publish at R{options.Replicas}, {samples.Count:N0} messages at {options.Rate:N0}/s: p50 {samples.Percentile(50):F2} ms, p99 {samples.Percentile(99):F2} ms, max {samples.Max:F2} ms"));
        return samples;
    }
}
