using Runnel.Bench;
using Runnel.Bench.Reporting;
using Runnel.Bench.Scenarios;

// runnel-bench: a load generator for any Kinesis Data Streams endpoint (docs/benchmarks.md).
const string usage = """
    runnel-bench: measures a Kinesis Data Streams endpoint.

      runnel-bench run [options]        the throughput, drain, latency and memory scenarios
      runnel-bench startup [options]    launch a server command and time its first answer
      runnel-bench compare [options]    two servers' reports side by side, with the targets
      runnel-bench memory [options]     server memory over a long write, after DeleteStream, and idle
      runnel-bench scrape [options]     GET /metrics with a 1,000-shard stream's shard-level metrics enabled
      runnel-bench fanout [options]     SubscribeToShard: put-to-receive latency and per-consumer throughput
      runnel-bench encodings [options]  PutRecords and drain in JSON and CBOR, over HTTP/1.1 and h2c
      runnel-bench jetstream [options]  JetStream's own publish latency: the floor under a cluster's put-to-visible
      runnel-bench firehose [options]   PutRecordBatch into a delivery stream with a local S3 directory: records/s and delivery lag
      runnel-bench lambda [options]     records given by an event-source mapping to a function (HTTP or Runtime API): records/s
      runnel-bench producer [options]   Runnel.Client's KinesisProducer against PutRecord per record and PutRecords batches: records/s
      runnel-bench soak [options]       a bounded run at a steady rate with fan-out, pollers and slow connections: losses, memory and latency drift

    Run 'runnel-bench COMMAND --help' for a command's options.
    """;

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine(usage);
    return 0;
}

string command = args[0].StartsWith("--", StringComparison.Ordinal) ? "run" : args[0];
var rest = command == args[0] ? args[1..] : args;
try
{
    switch (command)
    {
        case "run":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "http2", "keep-streams", "enhanced-monitoring", "encrypt", "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(RunOptions.Help);
                    return 0;
                }
                var options = RunOptions.Parse(cl);
                cl.RejectUnknown();
                var report = await BenchRun.RunAsync(options, Console.Out);
                Console.WriteLine();
                Console.Write(TextTable.Describe(report));
                if (options.JsonPath is { } path)
                    report.Save(path);
                return report.Failed ? 1 : 0;
            }
        case "startup":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(StartupScenario.Options.Help);
                    return 0;
                }
                var options = StartupScenario.Options.Parse(cl);
                cl.RejectUnknown();
                var report = await StartupScenario.RunAsync(options, Console.Out);
                Console.Write(TextTable.Describe(report));
                if (options.JsonPath is { } path)
                    report.Save(path);
                return 0;
            }
        case "scrape":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(ScrapeScenario.Options.Help);
                    return 0;
                }
                var options = ScrapeScenario.Options.Parse(cl);
                cl.RejectUnknown();
                var report = await ScrapeScenario.RunAsync(options, Console.Out);
                if (options.JsonPath is { } path)
                    report.Save(path);
                return report.Failed ? 1 : 0;
            }
        case "memory":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(MemoryScenario.Options.Help);
                    return 0;
                }
                var options = MemoryScenario.Options.Parse(cl);
                cl.RejectUnknown();
                var report = await MemoryScenario.RunAsync(options, Console.Out);
                if (options.JsonPath is { } path)
                    report.Save(path);
                return report.Failed ? 1 : 0;
            }
        case "fanout":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(FanOutScenario.Options.Help);
                    return 0;
                }
                var options = FanOutScenario.Options.Parse(cl);
                cl.RejectUnknown();
                var report = await FanOutScenario.RunAsync(options, Console.Out);
                if (options.JsonPath is { } path)
                    report.Save(path);
                return report.Failed ? 1 : 0;
            }
        case "encodings":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(EncodingScenario.Options.Help);
                    return 0;
                }
                var options = EncodingScenario.Options.Parse(cl);
                cl.RejectUnknown();
                var report = await EncodingScenario.RunAsync(options, Console.Out);
                if (options.JsonPath is { } path)
                    report.Save(path);
                return report.Failed ? 1 : 0;
            }
        case "jetstream":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(JetStreamFloorScenario.Options.Help);
                    return 0;
                }
                var options = JetStreamFloorScenario.Options.Parse(cl);
                cl.RejectUnknown();
                await JetStreamFloorScenario.RunAsync(options, Console.Out);
                return 0;
            }
        case "firehose":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(FirehoseScenario.Options.Help);
                    return 0;
                }
                var options = FirehoseScenario.Options.Parse(cl);
                cl.RejectUnknown();
                return await FirehoseScenario.RunAsync(options, Console.Out) ? 0 : 1;
            }
        case "lambda":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(LambdaScenario.Options.Help);
                    return 0;
                }
                var options = LambdaScenario.Options.Parse(cl);
                cl.RejectUnknown();
                return await LambdaScenario.RunAsync(options, Console.Out) ? 0 : 1;
            }
        case "producer":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "http2", "producer-only", "fleet-only", "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(ProducerScenario.Options.Help);
                    return 0;
                }
                var options = ProducerScenario.Options.Parse(cl);
                cl.RejectUnknown();
                var report = await ProducerScenario.RunAsync(options, Console.Out);
                if (options.JsonPath is { } path)
                    report.Save(path);
                return report.Failed ? 1 : 0;
            }
        case "soak":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "no-drift-check", "keep-stream", "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(SoakScenario.Options.Help);
                    return 0;
                }
                var options = SoakScenario.Options.Parse(cl);
                cl.RejectUnknown();
                var report = await SoakScenario.RunAsync(options, Console.Out);
                if (options.JsonPath is { } path)
                    report.Save(path);
                return report.Failed ? 1 : 0;
            }
        case "compare":
            {
                var cl = new CommandLine(rest, new HashSet<string> { "help" });
                if (cl.Flag("help"))
                {
                    Console.WriteLine(Comparison.Options.Help);
                    return 0;
                }
                var options = Comparison.Options.Parse(cl);
                cl.RejectUnknown();
                Console.Write(Comparison.Run(options));
                return 0;
            }
        default:
            Console.Error.WriteLine($"runnel-bench: unknown command '{command}'\n\n{usage}");
            return 2;
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"runnel-bench: {e.Message}");
    return 2;
}
catch (BenchException e)
{
    Console.Error.WriteLine($"runnel-bench: {e.Message}");
    return 1;
}
