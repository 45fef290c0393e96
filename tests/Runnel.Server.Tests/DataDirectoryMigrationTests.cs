using System.Numerics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Runnel.Core.Model;
using Runnel.Core.Throughput;

namespace Runnel.Server.Tests;

/// <summary>
/// A data directory written by the release before AWS's sequence numbers (metadata schema 3, commit c680803;
/// Fixtures/README.md says how it was made) opens in place: migrated to the current schema, every record served
/// with a 56-digit number, children above their parents although the split came within the parents' second,
/// the 43-digit numbers clients checkpointed still accepted, the same numbers after a restart.
/// </summary>
public sealed class DataDirectoryMigrationTests : IAsyncLifetime
{
    // The fixture's shards were created at 1796217481.243 and split at 1796217481.432 (2026-12-02T13:18:01Z).
    private static readonly DateTimeOffset Written = DateTimeOffset.FromUnixTimeMilliseconds(1_796_217_481_432);
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "datadir-v3");
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-migration-test-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(Written + TimeSpan.FromHours(1));
    private readonly RestartableServer _host;

    public DataDirectoryMigrationTests() => _host = new RestartableServer(_dataDir, _clock, new RunnelOptions { Limits = ThroughputLimits.Off });

    private sealed record Expected(string Pk, string Data, string Shard, string Seq);

    private TestClient Client => _host.Client;

    public async Task InitializeAsync()
    {
        foreach (string file in Directory.EnumerateFiles(Fixture, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(_dataDir, Path.GetRelativePath(Fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Assert.Equal(3L, UserVersion());
        await _host.StartAsync();
    }

    private Task StartAsync() => _host.StartAsync();

    private Task StopAsync() => _host.StopAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private long UserVersion()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dataDir, "metadata.db"), Pooling = false }.ToString());
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA user_version;";
        return (long)cmd.ExecuteScalar()!;
    }

    private static (List<Expected> Records, JsonElement Shards) LoadExpected()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "datadir-v3.expected.json")));
        var root = json.RootElement.Clone();
        var records = root.GetProperty("before").EnumerateArray().Concat(root.GetProperty("after").EnumerateArray())
            .Select(r => new Expected(r.GetProperty("pk").GetString()!, r.GetProperty("data").GetString()!, r.GetProperty("shard").GetString()!, r.GetProperty("seq").GetString()!))
            .ToList();
        return (records, root.GetProperty("shards"));
    }

    private async Task<List<JsonElement>> ShardsAsync() =>
        (await Client.OkAsync("ListShards", """{"StreamName":"legacy"}""")).GetProperty("Shards").EnumerateArray().ToList();

    private async Task<List<(string Data, string Seq)>> ReadAsync(string shard, string type, string? sequence = null)
    {
        string position = sequence is null ? "" : $",\"StartingSequenceNumber\":\"{sequence}\"";
        string iterator = (await Client.OkAsync("GetShardIterator", $$"""{"StreamName":"legacy","ShardId":"{{shard}}","ShardIteratorType":"{{type}}"{{position}}}""")).GetProperty("ShardIterator").GetString()!;
        var records = (await Client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records");
        return records.EnumerateArray()
            .Select(r => (System.Text.Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64()), r.GetProperty("SequenceNumber").GetString()!))
            .ToList();
    }

    private async Task<Dictionary<string, List<(string Data, string Seq)>>> ReadEveryShardAsync()
    {
        var all = new Dictionary<string, List<(string Data, string Seq)>>();
        foreach (var shard in await ShardsAsync())
        {
            string id = shard.GetProperty("ShardId").GetString()!;
            all[id] = await ReadAsync(id, "TRIM_HORIZON");
        }
        return all;
    }

    [Fact(Timeout = 60000)]
    public async Task Schema_3_is_migrated_in_place_and_every_record_is_served_with_AWS_numbers()
    {
        var (expected, _) = LoadExpected();
        var read = await ReadEveryShardAsync();
        Assert.Equal(4, read.Count);
        foreach (var group in expected.GroupBy(e => e.Shard))
            Assert.Equal(group.Select(e => e.Data), read[group.Key].Select(r => r.Data));
        foreach (var (_, records) in read)
        {
            Assert.All(records, r => Assert.Equal(SequenceNumber.Length, r.Seq.Length));
            for (int i = 1; i < records.Count; i++)
                Assert.True(BigInteger.Parse(records[i].Seq) > BigInteger.Parse(records[i - 1].Seq));
        }

        // The split came within the parents' second: the children's shard time is raised above it.
        var shards = await ShardsAsync();
        var start = shards.Select(s => BigInteger.Parse(s.GetProperty("SequenceNumberRange").GetProperty("StartingSequenceNumber").GetString()!)).ToList();
        var parentEnd = BigInteger.Parse(shards[0].GetProperty("SequenceNumberRange").GetProperty("EndingSequenceNumber").GetString()!);
        Assert.True(parentEnd >= BigInteger.Parse(read["shardId-000000000000"][^1].Seq));
        Assert.True(start[2] > parentEnd && start[3] > parentEnd);
        Assert.True(BigInteger.Parse(read["shardId-000000000002"][0].Seq) > parentEnd);
        Assert.True(DecodedSequenceNumber.TryDecode(read["shardId-000000000002"][0].Seq, _clock.GetUtcNow().ToUnixTimeSeconds(), out var child));
        Assert.Equal(1_796_217_482, child.ShardSeconds);

        var consumers = await Client.OkAsync("ListStreamConsumers", """{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/legacy"}""");
        Assert.Equal("old-consumer", consumers.GetProperty("Consumers")[0].GetProperty("ConsumerName").GetString());

        await StopAsync();
        Assert.Equal(8L, UserVersion()); // the current schema (docs/formats/metadata.md)
        await StartAsync();
        var again = await ReadEveryShardAsync();
        foreach (var (shard, records) in read)
            Assert.Equal(records, again[shard]);

        // Writes go on above everything the shard holds.
        var put = await Client.OkAsync("PutRecord", """{"StreamName":"legacy","PartitionKey":"pk-0","Data":""}""");
        Assert.Equal("shardId-000000000001", put.GetProperty("ShardId").GetString());
        Assert.True(BigInteger.Parse(put.GetProperty("SequenceNumber").GetString()!) > BigInteger.Parse(read["shardId-000000000001"][^1].Seq));
    }

    [Fact(Timeout = 60000)]
    public async Task The_43_digit_numbers_clients_checkpointed_still_position_readers()
    {
        var (expected, oldShards) = LoadExpected();
        foreach (var group in expected.GroupBy(e => e.Shard))
        {
            var records = group.ToList();
            for (int i = 0; i < records.Count; i++)
            {
                Assert.Equal(records[i].Data, (await ReadAsync(group.Key, "AT_SEQUENCE_NUMBER", records[i].Seq))[0].Data);
                Assert.Equal(records.Skip(i + 1).Select(r => r.Data), (await ReadAsync(group.Key, "AFTER_SEQUENCE_NUMBER", records[i].Seq)).Select(r => r.Data));
            }
        }
        // A closed shard's former EndingSequenceNumber: nothing after it; a former StartingSequenceNumber: all of it.
        var closed = oldShards[0].GetProperty("SequenceNumberRange");
        Assert.Empty(await ReadAsync("shardId-000000000000", "AFTER_SEQUENCE_NUMBER", closed.GetProperty("EndingSequenceNumber").GetString()));
        Assert.Equal(2, (await ReadAsync("shardId-000000000000", "AFTER_SEQUENCE_NUMBER", closed.GetProperty("StartingSequenceNumber").GetString())).Count);

        // A former number still says which shard it belongs to.
        var (_, body) = await Client.CallAsync("GetShardIterator",
            $$"""{"StreamName":"legacy","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"{{expected[0].Seq}}"}""");
        Assert.Equal("Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000", body.GetProperty("message").GetString());
    }
}
