using Runnel.Storage.Records;
using System.Globalization;
using Runnel.Storage;
using Runnel.Storage.CrashHelper;
using Runnel.Storage.Log;

// Appends to a shard log (or to the shards of a LogStore) from several writers at once, printing one
// line per acknowledged append, until it is killed, its standard input closes (the test that started it
// is gone), or its time limit passes. It never closes the log cleanly: every way it ends is a crash.
//
//   dotnet Runnel.Storage.CrashHelper.dll shard|store DIRECTORY always|interval|never GENERATION [SECONDS]
//
// Prints "ready fsync=POLICY mode=MODE" once the log is open (recovered), then "ack ..." lines
// (CrashWorkload.Ack).

if (args.Length < 4)
{
    Console.Error.WriteLine("usage: Runnel.Storage.CrashHelper shard|store DIRECTORY always|interval|never GENERATION [SECONDS]");
    return 2;
}
string mode = args[0], directory = args[1];
var fsync = Enum.Parse<FsyncPolicy>(args[2], ignoreCase: true);
int generation = int.Parse(args[3], CultureInfo.InvariantCulture);
var limit = TimeSpan.FromSeconds(args.Length > 4 ? double.Parse(args[4], CultureInfo.InvariantCulture) : 60);
var options = CrashWorkload.Options(fsync);

using var stop = new CancellationTokenSource(limit);
_ = Task.Run(() =>
{
    // The parent keeps our standard input open; end of input means it is gone, and so must we be.
    try { while (Console.In.Read() >= 0) { } } catch (IOException) { }
    stop.Cancel();
});

var output = new Lock();
void Print(string line)
{
    lock (output)
        Console.Out.Write(line + "\n");
}

const int Shards = 4;
LogStore? store = null;
IShardLog[] logs;
int writers;
if (mode == "store")
{
    store = new LogStore(directory, options);
    logs = Enumerable.Range(0, Shards).Select(s => store.Open(CrashWorkload.StreamId, s)).ToArray();
    writers = 2 * Shards;
}
else
{
    logs = [ShardLog.Open(directory, options)];
    writers = 4;
}
Print($"ready fsync={fsync.ToString().ToLowerInvariant()} mode={mode}");

async Task Write(int writer)
{
    int shard = writer % logs.Length;
    var random = new Random(generation * 1000 + writer);
    long seq = 0;
    while (!stop.IsCancellationRequested)
    {
        int count = random.Next(1, 6);
        using var batch = new RecordBatch(8192);
        for (int i = 0; i < count; i++)
            batch.Add(CrashWorkload.PartitionKey(generation, writer, seq + i), null, CrashWorkload.Data(generation, writer, seq + i));
        var appended = await logs[shard].AppendAsync(batch);
        Print(new CrashWorkload.Ack(shard, appended.FirstOffset, count, generation, writer, seq).ToString());
        seq += count;
        if (store is not null && random.Next(50) == 0)
            await Task.Delay(random.Next(20, 60)); // long enough for maintenance to close the idle handle
    }
}

await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => Write(w))));
// Reached only when the time limit passes or the parent is gone: exit without closing the log.
return 0;
