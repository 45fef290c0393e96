using System.Diagnostics;
using Runnel.Server;

namespace Runnel;

/// <summary>The <c>runnel</c> command line: <c>serve</c> runs the server, <c>repair</c> mends its metadata; <c>--help</c> explains every flag.</summary>
public static class RunnelCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            PrintUsage();
            return args.Length == 0 ? 1 : 0;
        }
        if (args[0] == "repair")
            return RepairCommand.Run(args[1..], Console.Out, Console.Error);
        if (args[0] != "serve")
        {
            Console.Error.WriteLine($"Unknown command '{args[0]}'. Run 'runnel --help'.");
            return 2;
        }
        var rest = args[1..];
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            PrintUsage();
            return 0;
        }

        RunnelOptions options;
        try
        {
            options = Settings.Load(rest);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"runnel: {e.Message}");
            return 2;
        }

        var started = Stopwatch.StartNew();
        // Signals are heard from the start: a SIGTERM or Ctrl-C while the server starts stops it once started.
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
        RunnelServer server;
        try
        {
            server = RunnelServer.Create(options);
            await server.StartAsync();
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            Console.Error.WriteLine($"runnel: could not start: the TLS certificate {options.TlsCertificate} or key {options.TlsKey} cannot be used: {e.Message}. Give a PEM certificate and its PEM private key.");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Console.Error.WriteLine($"runnel: could not start: {e.Message}");
            if (e is IOException && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                Console.Error.WriteLine($"runnel: another process is using port {options.Port}; pick another with --port.");
            else if (Runnel.Storage.StorageFault.IsNotWritable(e))
                Console.Error.WriteLine($"runnel: the data directory {Path.GetFullPath(options.DataDir)} is on a read-only filesystem or not writable by this user; " +
                    "Runnel writes its lock, metadata and logs there. Remount it read-write, fix its permissions, or pick another --data-dir.");
            return 1;
        }
        catch (Exception e) when (options.Nats is not null && (e is NATS.Client.Core.NatsException or TimeoutException || Runnel.Storage.JetStream.Unanswered.Is(e)))
        {
            Console.Error.WriteLine($"runnel: could not start: JetStream at {options.Nats} did not answer as Runnel read its metadata ({e.GetType().Name}: {e.Message}). " +
                "Check that the NATS servers are running with JetStream on and have elected their leaders ('nats server report jetstream'), then start Runnel again.");
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever start-up throws, the operator gets a line and exit code 1, not an abort with a stack trace (exit 134).
            Console.Error.WriteLine($"runnel: could not start: {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine("runnel: this is a bug in Runnel; please report it with the line above.");
            return 1;
        }
        Console.WriteLine(
            $"Runnel listening on {server.Url.ToString().TrimEnd('/')} (HTTP/1.1 and h2c){(server.TlsUrl is { } tls ? $" and {tls.ToString().TrimEnd('/')} (TLS: HTTP/1.1 and h2)" : "")} | {server.StorageDescription} | " +
            $"region {options.Region} account {options.AccountId} | {(options.Nats is null ? $"fsync {options.Log.Fsync.ToString().ToLowerInvariant()}" : "acknowledged at JetStream's replication")} | " +
            $"shard limit {options.ShardLimit} | limits {(options.Limits.Enabled ? "on" : "off")} | auth {(options.VerifySignatures ? "sigv4" : "none")} | " +
            $"master key {(options.MasterKeyFile is { } keyFile ? keyFile : options.MasterKeyValue is not null ? "RUNNEL_MASTER_KEY" : $"{options.DevelopmentKeyFile} (development, made when first needed)")} | " +
            $"console {(options.Console ? "on" : "off")} | max connections {options.MaxConnections} | Firehose S3 objects in {server.Delivery.ObjectsLocation}{(options.ChannelFreshness is { } freshness ? $" | channel freshness {freshness.TotalSeconds:0} s" : "")} | started in {started.ElapsedMilliseconds} ms");

        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        Console.WriteLine("Runnel shutting down: finishing requests, flushing logs...");
        await server.DisposeAsync();
        Console.WriteLine("Runnel stopped cleanly.");
        return 0;
    }

    private static void PrintUsage()
    {
        Console.WriteLine("""
            runnel: a self-hosted server that speaks the Amazon Kinesis Data Streams API.

            Usage: runnel serve [options]
                   runnel repair --data-dir DIR [--dry-run]   (a damaged metadata.db; see 'runnel repair --help')

            Every option can also be set by an environment variable (--data-dir: RUNNEL_DATA_DIR)
            or in a JSON configuration file ({"DataDir": "/var/lib/runnel"}). Flags win over the
            environment, which wins over the file.

            Options:
            """);
        foreach (var setting in Settings.All)
            Console.WriteLine($"  {setting.Flag + " " + setting.Value,-38} {setting.Help}{(setting.Range.Length > 0 ? $" [{setting.Range}]" : "")}");
        Console.WriteLine("""
              --help                                 show this text

            Point any AWS SDK or the AWS CLI at it with --endpoint-url http://127.0.0.1:4567;
            any access key works. GET /health answers 200 once the server is ready.
            With --nats, every node started with the same servers serves the same streams and keeps
            nothing on its own disk (docs/cluster.md).
            """);
    }
}
