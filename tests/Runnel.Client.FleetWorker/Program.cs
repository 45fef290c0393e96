using System.Runtime.InteropServices;
using Runnel.Client;
using Runnel.Client.Credentials;
using Runnel.Client.FleetWorker;
using Runnel.Client.Processing;

// Usage: Runnel.Client.FleetWorker <endpoint> <stream> <application> <worker-id> <polling|fanout> <journal-path> [failover-ms]
// Runs one KinesisWorker until SIGTERM, Ctrl-C or the end of stdin, then shuts it down gracefully (checkpointing and
// releasing its leases). Killed with SIGKILL, it leaves its journal as it was at the kill.
if (args.Length is < 6 or > 7)
{
    Console.Error.WriteLine("usage: Runnel.Client.FleetWorker <endpoint> <stream> <application> <worker-id> <polling|fanout> <journal-path> [failover-ms]");
    return 2;
}
var endpoint = new Uri(args[0]);
string stream = args[1], application = args[2], workerId = args[3];
var mode = args[4] switch
{
    "polling" => RetrievalMode.Polling,
    "fanout" => RetrievalMode.FanOut,
    _ => throw new ArgumentException($"retrieval mode must be polling or fanout, not {args[4]}"),
};
var failover = TimeSpan.FromMilliseconds(args.Length > 6 ? int.Parse(args[6], System.Globalization.CultureInfo.InvariantCulture) : 3000);

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
// The test stops a worker gracefully by closing its stdin; a dead parent closes it too.
new Thread(() =>
{
    while (Console.In.ReadLine() is not null)
    {
    }
    stop.Cancel();
})
{ IsBackground = true }.Start();

var credentials = new StaticCredentialsProvider("fleet", "fleet");
using var kinesis = new KinesisClient(new KinesisClientOptions { Endpoint = endpoint, Region = "us-east-1", Credentials = credentials });
using var dynamo = new DynamoDbClient(new DynamoDbClientOptions { Endpoint = endpoint, Region = "us-east-1", Credentials = credentials });
using var journal = new FleetJournal(args[5]);
var worker = new KinesisWorker(kinesis, dynamo, new JournalingProcessorFactory(journal, workerId), new WorkerOptions
{
    StreamName = stream,
    ApplicationName = application,
    WorkerId = workerId,
    InitialPosition = InitialPosition.TrimHorizon,
    Retrieval = mode,
    FailoverTime = failover,
    LeaseScanInterval = failover / 6,
    ShardSyncInterval = TimeSpan.FromSeconds(1),
    IdleTimeBetweenReads = TimeSpan.FromMilliseconds(50),
    RetryDelay = TimeSpan.FromMilliseconds(200),
    Log = line => Console.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {workerId} {line}"),
});
Console.Out.WriteLine($"{workerId} started");
await worker.RunAsync(stop.Token);
Console.Out.WriteLine($"{workerId} stopped");
return 0;
