using System.Collections.Concurrent;
using System.Net;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// PutRecords load over several Runnel nodes, as clients behind a load balancer make it: each writer sends its
/// batches through one node and, when that node does not answer (refused, reset, timed out, 5xx), sends the same
/// batch again through the next; records a PutRecords answer refuses one by one are sent again in the writer's next
/// call. Every acknowledgement is kept with its shard, sequence number and the order it arrived in, so that
/// <see cref="VerifyAsync"/> can check that each acknowledged record is in the stream once, where it was
/// acknowledged, with its bytes, and in the order acknowledgements arrived for its partition key.
/// </summary>
public sealed class ClusterLoad(string stream, IReadOnlyList<TestClient> nodes)
{
    private const int Batch = 10;
    private const int KeysPerWriter = 8;

    private readonly ConcurrentDictionary<string, Acknowledgement> _acknowledged = new();
    private readonly ConcurrentDictionary<string, byte> _sent = new();
    private long _order;
    private int _unansweredRecords;
    private int _failover;
    private int _refusedRecords;

    /// <summary>One acknowledged record: where the answer put it, and the order answers arrived in.</summary>
    public sealed record Acknowledgement(string Key, string Shard, BigInteger Sequence, long Order);

    public int Acknowledged => _acknowledged.Count;

    /// <summary>Records sent in calls that got no answer: each may be stored although it was sent again.</summary>
    public int UnansweredRecords => Volatile.Read(ref _unansweredRecords);

    /// <summary>Calls sent again through another node.</summary>
    public int Failovers => Volatile.Read(ref _failover);

    /// <summary>Records a PutRecords answer refused one by one (ErrorCode), sent again.</summary>
    public int RefusedRecords => Volatile.Read(ref _refusedRecords);

    /// <summary>Runs <paramref name="writers"/> writers until <paramref name="stop"/> (or <paramref name="maxRecordsPerWriter"/>).</summary>
    public Task RunAsync(int writers, int maxRecordsPerWriter, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => WriteAsync(w, maxRecordsPerWriter, stop))));

    private async Task WriteAsync(int writer, int maxRecords, CancellationToken stop)
    {
        int node = writer % nodes.Count;
        var giveUp = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        for (int first = 0; first < maxRecords && !stop.IsCancellationRequested; first += Batch)
        {
            var pending = Enumerable.Range(first, Batch)
                .Select(i => (Key: $"w{writer}-k{i % KeysPerWriter}", Data: $"w{writer}-r{i:D6}-{new string((char)('a' + i % 26), 60)}"))
                .ToList();
            foreach (var (_, data) in pending)
                _sent[data] = 0;
            while (pending.Count > 0)
            {
                if (DateTime.UtcNow > giveUp)
                    throw new TimeoutException($"writer {writer} could not place {pending.Count} records in 5 minutes");
                string body = JsonSerializer.Serialize(new
                {
                    StreamName = stream,
                    Records = pending.Select(r => new { PartitionKey = r.Key, Data = Convert.ToBase64String(Encoding.UTF8.GetBytes(r.Data)) }),
                });
                JsonElement answer;
                try
                {
                    var (status, json) = await nodes[node].CallAsync("PutRecords", body);
                    if (status != HttpStatusCode.OK)
                    {
                        Assert.True((int)status >= 500, $"PutRecords answered {(int)status}: {json}"); // a client error is a finding, not a fault to ride out
                        throw new HttpRequestException($"answered {(int)status}");
                    }
                    answer = json;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Add(ref _unansweredRecords, pending.Count);
                    Interlocked.Increment(ref _failover);
                    node = (node + 1) % nodes.Count;
                    await Task.Delay(20, CancellationToken.None);
                    continue;
                }
                var still = new List<(string Key, string Data)>();
                int i = 0;
                foreach (var result in answer.GetProperty("Records").EnumerateArray())
                {
                    var record = pending[i++];
                    if (result.TryGetProperty("SequenceNumber", out var sequence))
                    {
                        var ack = new Acknowledgement(record.Key, result.GetProperty("ShardId").GetString()!, BigInteger.Parse(sequence.GetString()!), Interlocked.Increment(ref _order));
                        Assert.True(_acknowledged.TryAdd(record.Data, ack), $"{record.Data} acknowledged twice");
                    }
                    else
                    {
                        still.Add(record);
                        Interlocked.Increment(ref _refusedRecords);
                    }
                }
                pending = still;
            }
            await Task.Delay(5, CancellationToken.None);
        }
    }

    /// <summary>One record as read back.</summary>
    public sealed record Stored(string Shard, BigInteger Sequence, string Key, string Data);

    /// <summary>What the verification found.</summary>
    public sealed record Verdict(int Acknowledged, int Stored, int ExtraCopies, int Shards);

    /// <summary>
    /// Reads every shard of the stream through <paramref name="reader"/> from its start to its end (closed shards) or
    /// to the newest record, and checks: every acknowledged record is stored at the shard and sequence number its
    /// acknowledgement gave, with its partition key and bytes; each shard's sequence numbers strictly increase; for
    /// each partition key, acknowledgements in the order they arrived carry increasing sequence numbers (across a
    /// reshard too: children above their parents); and every record stored but not acknowledged is a second copy of a
    /// record sent in a call that got no answer, no more of them than such records.
    /// </summary>
    public async Task<Verdict> VerifyAsync(TestClient reader)
    {
        var stored = new List<Stored>();
        var shards = (await reader.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Shards").EnumerateArray().ToList();
        foreach (var shard in shards)
        {
            string shardId = shard.GetProperty("ShardId").GetString()!;
            var inShard = await ReadShardAsync(reader, shardId);
            for (int i = 1; i < inShard.Count; i++)
                Assert.True(inShard[i].Sequence > inShard[i - 1].Sequence, $"{shardId}: sequence numbers do not increase at {inShard[i].Data}");
            stored.AddRange(inShard);
        }

        var at = stored.GroupBy(s => (s.Shard, s.Sequence)).ToDictionary(g => g.Key, g => g.Single());
        foreach (var (data, ack) in _acknowledged)
        {
            Assert.True(at.TryGetValue((ack.Shard, ack.Sequence), out var found), $"acknowledged record {data[..14]} ({ack.Shard} {ack.Sequence}) is missing");
            Assert.Equal((ack.Key, data), (found.Key, found.Data));
        }
        foreach (var byKey in _acknowledged.Values.GroupBy(a => a.Key))
        {
            var inOrder = byKey.OrderBy(a => a.Order).ToList();
            for (int i = 1; i < inOrder.Count; i++)
                Assert.True(inOrder[i].Sequence > inOrder[i - 1].Sequence, $"key {byKey.Key}: an acknowledgement that arrived later has a lower sequence number");
        }
        var acknowledgedAt = _acknowledged.Values.Select(a => (a.Shard, a.Sequence)).ToHashSet();
        var extras = stored.Where(s => !acknowledgedAt.Contains((s.Shard, s.Sequence))).ToList();
        foreach (var extra in extras)
            Assert.True(_sent.ContainsKey(extra.Data), $"a record nobody sent is stored: {extra.Data}");
        Assert.True(extras.Count <= UnansweredRecords, $"{extras.Count} extra copies, but only {UnansweredRecords} records went unanswered");
        return new Verdict(_acknowledged.Count, stored.Count, extras.Count, shards.Count);
    }

    private async Task<List<Stored>> ReadShardAsync(TestClient reader, string shardId)
    {
        var records = new List<Stored>();
        string? iterator = (await reader.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"{{shardId}}","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString();
        for (int page = 0; iterator is not null && page < 10_000; page++)
        {
            var result = await reader.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}","Limit":10000}""");
            var batch = result.GetProperty("Records");
            foreach (var r in batch.EnumerateArray())
            {
                records.Add(new Stored(shardId, BigInteger.Parse(r.GetProperty("SequenceNumber").GetString()!), r.GetProperty("PartitionKey").GetString()!,
                    Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64())));
            }
            iterator = result.TryGetProperty("NextShardIterator", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            if (batch.GetArrayLength() == 0 && result.GetProperty("MillisBehindLatest").GetInt64() == 0)
                break;
        }
        return records;
    }
}
