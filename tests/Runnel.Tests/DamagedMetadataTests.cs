using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Runnel.Server;
using Runnel.Server.Tests;

namespace Runnel.Tests;

/// <summary>
/// A damaged metadata.db end to end: the server serves the healthy streams past a bad row and keeps the bad
/// stream's logs; <c>runnel serve</c> on a damaged file exits 1 with the reason; <c>runnel repair</c> fixes it.
/// </summary>
[Trait("Category", "CrashConsistency")]
public sealed class DamagedMetadataTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-damaged-" + Guid.NewGuid().ToString("N"));

    private RunnelOptions Options => new() { Port = 0, DataDir = _dataDir, Limits = Runnel.Core.Throughput.ThroughputLimits.Off };

    public void Dispose()
    {
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(RunnelServer server, string operation, string body)
    {
        using var client = new TestClient(server.Url);
        return await client.CallAsync(operation, body);
    }

    private static async Task<JsonElement> OkAsync(RunnelServer server, string operation, string body)
    {
        using var client = new TestClient(server.Url);
        return await client.OkAsync(operation, body);
    }

    private async Task<RunnelServer> StartAsync()
    {
        var server = RunnelServer.Create(Options, logging: _ => { });
        await server.StartAsync();
        return server;
    }

    /// <summary>Streams with one record each ("record of NAME"); returns their ids.</summary>
    private async Task<Dictionary<string, long>> CreateStreamsAsync(params string[] names)
    {
        await using var server = await StartAsync();
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            await OkAsync(server, "CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":1}""");
            string data = Convert.ToBase64String(Encoding.UTF8.GetBytes($"record of {name}"));
            await OkAsync(server, "PutRecord", $$"""{"StreamName":"{{name}}","Data":"{{data}}","PartitionKey":"k"}""");
            ids[name] = server.Streams.Get(name).Id;
        }
        return ids;
    }

    private static async Task<string> ReadFirstRecordAsync(RunnelServer server, string name)
    {
        var iterator = await OkAsync(server, "GetShardIterator", $$"""{"StreamName":"{{name}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""");
        var records = await OkAsync(server, "GetRecords", $$"""{"ShardIterator":"{{iterator.GetProperty("ShardIterator").GetString()}}"}""");
        return Encoding.UTF8.GetString(Convert.FromBase64String(records.GetProperty("Records")[0].GetProperty("Data").GetString()!));
    }

    private void Sql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "metadata.db")};Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    [Fact(Timeout = 120000)]
    public async Task A_bad_row_leaves_the_other_streams_served_its_logs_kept_and_repair_drops_it_without_deleting_them()
    {
        var ids = await CreateStreamsAsync("good-a", "bad", "good-b");
        Sql("UPDATE streams SET status = 'Bogus' WHERE name = 'bad';");
        string badLogs = Path.Combine(_dataDir, "streams", ids["bad"].ToString(System.Globalization.CultureInfo.InvariantCulture));

        await using (var server = await StartAsync())
        {
            var list = await OkAsync(server, "ListStreams", "{}");
            Assert.Equal(["good-a", "good-b"], list.GetProperty("StreamNames").EnumerateArray().Select(n => n.GetString()));
            Assert.Equal("record of good-b", await ReadFirstRecordAsync(server, "good-b"));
            Assert.True(Directory.Exists(badLogs), "the orphan sweep deleted the logs of a stream whose row is damaged");
            var (status, error) = await CallAsync(server, "CreateStream", """{"StreamName":"bad","ShardCount":1}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("ResourceInUseException", error.GetProperty("__type").GetString());
            Assert.Contains("damaged", error.GetProperty("message").GetString(), StringComparison.Ordinal);

            // While the server holds the directory, repair refuses and says why.
            var (busyCode, _, busyError) = Repair("--data-dir", _dataDir);
            Assert.Equal(1, busyCode);
            Assert.Contains("in use by another Runnel server", busyError, StringComparison.Ordinal);
        }

        var (code, output, _) = Repair("--data-dir", _dataDir);
        Assert.Equal(0, code);
        Assert.Contains("lost: stream bad", output, StringComparison.Ordinal);
        Assert.Contains($"records of stream id {ids["bad"]} are still on disk", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(badLogs));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(_dataDir, "lost+found", ids["bad"].ToString(System.Globalization.CultureInfo.InvariantCulture)), "*", SearchOption.AllDirectories));

        await using (var server = await StartAsync())
        {
            Assert.Equal("record of good-a", await ReadFirstRecordAsync(server, "good-a"));
            await OkAsync(server, "CreateStream", """{"StreamName":"bad","ShardCount":1}"""); // the name is free again, with a new id
            Assert.True(server.Streams.Get("bad").Id > ids.Values.Max());
        }
    }

    private static (int Code, string Output, string Error) Repair(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RepairCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact(Timeout = 180000)]
    public async Task Serve_on_a_damaged_database_exits_1_with_the_reason_and_serves_again_after_repair()
    {
        await CreateStreamsAsync("kept");
        using (var file = new FileStream(Path.Combine(_dataDir, "metadata.db"), FileMode.Open, FileAccess.Write))
            file.Write("NOT A DATABASE!\0"u8);

        var serve = await ServerProcess.RunToExitAsync("serve", "--data-dir", _dataDir, "--port", "0");
        Assert.Equal(1, serve.ExitCode);
        Assert.Contains("metadata.db is damaged", serve.Output, StringComparison.Ordinal);
        Assert.Contains("runnel repair --data-dir", serve.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", serve.Output, StringComparison.Ordinal);

        var repair = await ServerProcess.RunToExitAsync("repair", "--data-dir", _dataDir);
        Assert.True(repair.ExitCode == 0, repair.Output);
        Assert.Contains("header bytes restored", repair.Output, StringComparison.Ordinal);
        Assert.Contains("kept: 1 stream(s)", repair.Output, StringComparison.Ordinal);

        await using var server = await StartAsync();
        Assert.Equal("record of kept", await ReadFirstRecordAsync(server, "kept"));
    }
}
