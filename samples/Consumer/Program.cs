using Runnel.Client;
using Runnel.Client.Credentials;
using Runnel.Client.Processing;

// The seed tutorial's consumer: read the stream from TRIM_HORIZON and print each record. Written with KinesisWorker,
// which keeps its leases and checkpoints in a KCL-compatible DynamoDB table (Runnel serves DynamoDB on the same port),
// so several copies of this program share the shards and a restart resumes after the last checkpoint. See README.md.
const string Usage = """
    usage: dotnet run --project samples/Consumer -- [options]
      --endpoint <url>      Kinesis (and DynamoDB) endpoint (default http://127.0.0.1:4567)
      --stream <name>       stream to read (default DataProcessingStream)
      --application <name>  application name: the lease table's name (default DataProcessingApp)
      --retrieval <mode>    polling (GetRecords) or fanout (SubscribeToShard) (default polling)
      --expect <n>          stop after n records (default: run until Ctrl-C)
    """;

var options = SampleArguments.Parse(args, ["--endpoint", "--stream", "--application", "--retrieval", "--expect"]);
if (options is null)
{
    Console.WriteLine(Usage);
    return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
}
var endpoint = new Uri(options.GetValueOrDefault("--endpoint", "http://127.0.0.1:4567"));
int? expect = options.TryGetValue("--expect", out var n) ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : null;

var credentials = new StaticCredentialsProvider("test", "test");
using var kinesis = new KinesisClient(new KinesisClientOptions { Endpoint = endpoint, Region = "eu-west-1", Credentials = credentials });
using var dynamo = new DynamoDbClient(new DynamoDbClientOptions { Endpoint = endpoint, Region = "eu-west-1", Credentials = credentials });

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
var printer = new PrintingProcessorFactory(expect, stop);
var worker = new KinesisWorker(kinesis, dynamo, printer, new WorkerOptions
{
    StreamName = options.GetValueOrDefault("--stream", "DataProcessingStream"),
    ApplicationName = options.GetValueOrDefault("--application", "DataProcessingApp"),
    InitialPosition = InitialPosition.TrimHorizon,
    Retrieval = options.GetValueOrDefault("--retrieval", "polling") == "fanout" ? RetrievalMode.FanOut : RetrievalMode.Polling,
    IdleTimeBetweenReads = TimeSpan.FromMilliseconds(200),
});
Console.WriteLine($"consuming as {worker.WorkerId}; Ctrl-C to stop");
// Returns on Ctrl-C (or after --expect records): the processors checkpoint and the leases are released.
await worker.RunAsync(stop.Token);
Console.WriteLine($"consumed {printer.Processed} record(s)");
return 0;
