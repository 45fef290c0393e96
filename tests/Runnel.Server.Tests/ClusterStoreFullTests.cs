using System.Net;
using Microsoft.Extensions.Logging;
using Runnel.Storage.Tests.JetStream;
using Xunit.Abstractions;

namespace Runnel.Server.Tests;

/// <summary>
/// The cluster backend's disk filling: every nats-server's JetStream store capped small (<c>max_file_store</c>), a node
/// writing until JetStream refuses. The refusal is reported per record as the embedded store's full disk is, with the
/// condition and what to do, never as a bug; what was acknowledged stays readable. Runs a cluster of its own.
/// </summary>
public sealed class ClusterStoreFullTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long StoreBytes = 64L * 1024 * 1024;
    private NatsCluster _cluster = null!;

    // One server: at R3, nats-server 2.9 refused the first append under a 64 MiB cap with 300 bytes stored.
    public async Task InitializeAsync() => _cluster = await NatsCluster.StartAsync(1, maxFileStore: StoreBytes);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact(Timeout = 180000)]
    public async Task A_full_JetStream_store_refuses_records_per_record_and_keeps_what_was_acknowledged()
    {
        var log = new CapturedLog();
        string dataDir = Path.Combine(Path.GetTempPath(), "runnel-store-full-" + Guid.NewGuid().ToString("N"));
        var server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = dataDir, Nats = _cluster.Urls, Replicas = 1, Limits = new() { Enabled = false } }, log.Install);
        try
        {
            await server.StartAsync();
            using var client = new TestClient(server.Url);
            client.Http.Timeout = TimeSpan.FromSeconds(120);
            await client.OkAsync("CreateStream", """{"StreamName":"full","ShardCount":1}""");
            string data = Convert.ToBase64String(new byte[400_000]);
            int acknowledged = 0, refused = 0;
            string? message = null;
            for (int call = 0; call < 60 && refused == 0; call++)
            {
                var (status, body) = await client.CallAsync("PutRecords",
                    $$"""{"StreamName":"full","Records":[{{string.Join(",", Enumerable.Range(0, 10).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"{{data}}"}"""))}}]}""");
                Assert.True(status == HttpStatusCode.OK, $"PutRecords answered {(int)status}: {body} {log.AtLeast(LogLevel.Warning)}");
                foreach (var entry in body.GetProperty("Records").EnumerateArray())
                {
                    if (entry.TryGetProperty("ErrorCode", out var code))
                    {
                        Assert.Equal("InternalFailure", code.GetString());
                        message = entry.GetProperty("ErrorMessage").GetString();
                        refused++;
                    }
                    else
                    {
                        acknowledged++;
                    }
                }
            }
            output.WriteLine($"acknowledged {acknowledged}, refused {refused}: {message}");
            output.WriteLine(log.AtLeast(LogLevel.Warning));
            Assert.True(refused > 0, "the store never filled");
            Assert.Equal("Internal service failure: the server's storage cluster (NATS JetStream) is full; nothing was stored, retry later.", message);
            Assert.True(acknowledged > 0, "nothing was stored before the store filled");
            Assert.Contains("raise max_file_store", log.AtLeast(LogLevel.Error), StringComparison.Ordinal);
            Assert.DoesNotContain("Runnel bug", log.AtLeast(LogLevel.Error), StringComparison.Ordinal);

            // What was acknowledged is all there.
            string iterator = (await client.OkAsync("GetShardIterator", """{"StreamName":"full","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
                .GetProperty("ShardIterator").GetString()!;
            int read = 0;
            for (int page = 0; page < 100; page++)
            {
                var result = await client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
                read += result.GetProperty("Records").GetArrayLength();
                if (result.GetProperty("MillisBehindLatest").GetInt64() == 0 && result.GetProperty("Records").GetArrayLength() == 0)
                    break;
                iterator = result.GetProperty("NextShardIterator").GetString()!;
            }
            Assert.Equal(acknowledged, read);
        }
        finally
        {
            await server.DisposeAsync();
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }
}
