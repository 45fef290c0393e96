using System.Text;
using System.Text.Json;
using Runnel.Client;
using Runnel.Client.Credentials;
using Runnel.Client.Models;

// The seed tutorial's producer: create a stream (if it is not there yet), wait until it is ACTIVE, and put JSON records
// under a partition key. Written with KinesisClient.PutRecordsAsync; see README.md.
const string Usage = """
    usage: dotnet run --project samples/Producer -- [options]
      --endpoint <url>      Kinesis endpoint (default http://127.0.0.1:4567)
      --stream <name>       stream to write to, created with --shards if missing (default DataProcessingStream)
      --shards <n>          shard count when the stream is created (default 1)
      --count <n>           records to put (default 1)
      --partition-key <k>   partition key (default a01)
    """;

var options = SampleArguments.Parse(args, ["--endpoint", "--stream", "--shards", "--count", "--partition-key"]);
if (options is null)
{
    Console.WriteLine(Usage);
    return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
}
var endpoint = new Uri(options.GetValueOrDefault("--endpoint", "http://127.0.0.1:4567"));
string stream = options.GetValueOrDefault("--stream", "DataProcessingStream");
int shards = int.Parse(options.GetValueOrDefault("--shards", "1"), System.Globalization.CultureInfo.InvariantCulture);
int count = int.Parse(options.GetValueOrDefault("--count", "1"), System.Globalization.CultureInfo.InvariantCulture);
string partitionKey = options.GetValueOrDefault("--partition-key", "a01");

// Any key will do against Runnel; against AWS, leave Credentials and Endpoint out to use the standard chain.
using var kinesis = new KinesisClient(new KinesisClientOptions
{
    Endpoint = endpoint,
    Region = "eu-west-1",
    Credentials = new StaticCredentialsProvider("test", "test"),
});

try
{
    await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = shards });
    Console.WriteLine($"created {stream} with {shards} shard(s)");
}
catch (KinesisException e) when (e.ErrorCode == "ResourceInUseException")
{
    Console.WriteLine($"{stream} exists already");
}
await kinesis.WaitForStreamActiveAsync(new DescribeStreamSummaryRequest { StreamName = stream }, TimeSpan.FromMilliseconds(200));

// PutRecords takes up to 500 records a call; a record it could not store comes back with an ErrorCode and is sent again.
var pending = Enumerable.Range(0, count).Select(i => new PutRecordsRequestEntry
{
    PartitionKey = partitionKey,
    Data = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new SampleRecord("DataOne", (10 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), "Database Warrior"), SampleJson.Default.SampleRecord)),
}).ToList();
int stored = 0;
while (pending.Count > 0)
{
    var retry = new List<PutRecordsRequestEntry>();
    foreach (var batch in pending.Chunk(500))
    {
        var answer = await kinesis.PutRecordsAsync(new PutRecordsRequest { StreamName = stream, Records = batch });
        for (int i = 0; i < batch.Length; i++)
        {
            if (answer.Records[i].Succeeded)
            {
                stored++;
                Console.WriteLine($"put {answer.Records[i].ShardId} {answer.Records[i].SequenceNumber}");
            }
            else
            {
                retry.Add(batch[i]);
            }
        }
    }
    pending = retry;
    if (pending.Count > 0)
        await Task.Delay(100);
}
Console.WriteLine($"put {stored} record(s) to {stream}");
return 0;
