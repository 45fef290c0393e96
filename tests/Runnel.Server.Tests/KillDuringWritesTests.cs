using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Runnel.Server.Tests;

/// <summary>
/// The whole server killed with SIGKILL while clients write through the API: after a restart on the same
/// data directory every acknowledged record is there, at the sequence number it was acknowledged with.
/// Cycles: RUNNEL_CRASH_CYCLES (2 by default; docs/storage-tests.md gives the long run).
/// </summary>
[Trait("Category", "CrashConsistency")]
public sealed class KillDuringWritesTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-kill-" + Guid.NewGuid().ToString("N"));
    private ServerProcess? _server;

    [Fact(Timeout = 180000)]
    public async Task Every_acknowledged_record_survives_a_kill_of_the_server()
    {
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("RUNNEL_CRASH_CYCLES"), out int n) && n > 0 ? n : 2;
        var acknowledged = new List<(string Shard, string Sequence, string Data)>();
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            using var client = new TestClient(await StartServerAsync());
            if (cycle == 0)
                await client.OkAsync("CreateStream", """{"StreamName":"survivor","ShardCount":2}""");
            using var stop = new CancellationTokenSource();
            int acknowledgedThisCycle = 0;
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                var mine = new List<(string, string, string)>();
                for (int i = 0; i < 2000 && !stop.IsCancellationRequested; i++)
                {
                    var records = Enumerable.Range(0, 10).Select(k => $"c{cycle}-w{w}-{i}-{k}").ToList();
                    string body = $$"""{"StreamName":"survivor","Records":[{{string.Join(",", records.Select(v => $$"""{"PartitionKey":"{{v}}","Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(v))}}"}"""))}}]}""";
                    try
                    {
                        var result = await client.OkAsync("PutRecords", body);
                        var entries = result.GetProperty("Records").EnumerateArray().ToList();
                        for (int k = 0; k < entries.Count; k++)
                            mine.Add((entries[k].GetProperty("ShardId").GetString()!, entries[k].GetProperty("SequenceNumber").GetString()!, records[k]));
                        Interlocked.Add(ref acknowledgedThisCycle, entries.Count);
                    }
                    catch (Exception) when (stop.IsCancellationRequested)
                    {
                        break; // the server died under this request: it was never acknowledged
                    }
                    catch (HttpRequestException)
                    {
                        break;
                    }
                }
                return mine;
            })).ToList();
            // The kill comes while writes are in flight, once enough are acknowledged to make the check mean something
            // (at least 400 ms in, at most 15 s on a loaded machine), not after a fixed time that a busy machine fills with little.
            var writing = System.Diagnostics.Stopwatch.StartNew();
            while ((writing.ElapsedMilliseconds < 400 || Volatile.Read(ref acknowledgedThisCycle) < 100) && writing.Elapsed < TimeSpan.FromSeconds(15) && !writers.All(w => w.IsCompleted))
                await Task.Delay(20);
            stop.Cancel();
            await _server!.KillAsync(); // SIGKILL: no flush, no clean close
            _server.Dispose();
            foreach (var writer in writers)
                acknowledged.AddRange(await writer);
        }
        Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} records were acknowledged before the kills");

        using var reader = new TestClient(await StartServerAsync());
        var stored = new Dictionary<(string, string), string>();
        foreach (string shard in new[] { "shardId-000000000000", "shardId-000000000001" })
        {
            string? iterator = (await reader.OkAsync("GetShardIterator", $$"""{"StreamName":"survivor","ShardId":"{{shard}}","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString();
            for (int page = 0; page < 200 && iterator is not null; page++)
            {
                var result = await reader.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
                var records = result.GetProperty("Records");
                foreach (var record in records.EnumerateArray())
                    stored[(shard, record.GetProperty("SequenceNumber").GetString()!)] = Encoding.UTF8.GetString(record.GetProperty("Data").GetBytesFromBase64());
                iterator = records.GetArrayLength() == 0 ? null : result.GetProperty("NextShardIterator").GetString();
            }
        }
        foreach (var (shard, sequence, data) in acknowledged)
        {
            Assert.True(stored.TryGetValue((shard, sequence), out string? found), $"acknowledged record {data} ({shard} {sequence}) is missing");
            Assert.Equal(data, found);
        }
    }

    private async Task<Uri> StartServerAsync()
    {
        _server = await ServerProcess.StartAsync(_dataDir, "--limits", "off");
        return _server.Url;
    }

    public void Dispose()
    {
        _server?.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
