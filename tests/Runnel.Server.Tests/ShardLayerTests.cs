using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Runnel.Core.Hashing;
using Runnel.Core.Model;
using Runnel.Core.Throughput;
using Runnel.Server.Streams;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Tests;

/// <summary>
/// The shard layer on its own, over the real embedded store in a temporary directory: append notifications,
/// routing by hash key, per-record throughput refusals, and writes that follow a reshard.
/// </summary>
public sealed class ShardLayerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-shards-" + Guid.NewGuid().ToString("N"));
    private readonly MetadataStore _metadata;
    private readonly LogStore _store;
    private readonly StreamService _streams;
    private readonly RecordWriter _writer;

    public ShardLayerTests() : this(new ThroughputLimits { Enabled = false })
    {
    }

    private ShardLayerTests(ThroughputLimits limits)
    {
        var options = new RunnelOptions { DataDir = _dir, Limits = limits };
        _metadata = new MetadataStore(_dir);
        _store = new LogStore(_dir, new LogOptions { Fsync = FsyncPolicy.Never });
        _streams = new StreamService(options, _metadata, _store, TimeProvider.System);
        _writer = new RecordWriter(_streams.Catalog, _streams.Shards, new StorageHealth(NullLogger<StorageHealth>.Instance, TimeProvider.System, _dir), () => _streams.PreciseNowMillis);
    }

    public void Dispose()
    {
        _streams.Dispose();
        _store.Dispose();
        _metadata.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<PutOutcome[]> PutAsync(string stream, params (string Key, string Data)[] records)
    {
        var incoming = new IncomingRecords(records.Length, 0);
        foreach (var (key, data) in records)
        {
            int n = Encoding.UTF8.GetBytes(data, incoming.DataSpace(Encoding.UTF8.GetMaxByteCount(data.Length)));
            incoming.Add(key, Encoding.UTF8.GetByteCount(key), null, n);
        }
        return Put();

        async Task<PutOutcome[]> Put()
        {
            using (incoming)
                return await _writer.PutAsync(stream, incoming, "PutRecords");
        }
    }

    [Fact(Timeout = 30000)]
    public async Task A_waiting_reader_wakes_when_a_record_is_appended_and_not_before()
    {
        var stream = _streams.Create("wake", 1, StreamMode.Provisioned, new Dictionary<string, string>());
        var shard = _streams.Shard(stream, stream.Shards[0]);
        var wait = shard.WaitForRecordsAsync(0, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(wait.IsCompleted, "the wait ended with no record in the shard");
        await PutAsync("wake", ("k", "one"));
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        // Records already beyond the offset: no wait at all.
        Assert.True(shard.WaitForRecordsAsync(0, CancellationToken.None).IsCompleted);
        Assert.False(shard.WaitForRecordsAsync(1, CancellationToken.None).IsCompleted);
    }

    [Fact(Timeout = 30000)]
    public async Task A_reshard_and_a_deletion_wake_waiting_readers_and_cancellation_ends_a_wait()
    {
        var stream = _streams.Create("close", 1, StreamMode.Provisioned, new Dictionary<string, string>());
        var parent = _streams.Shard(stream, stream.Shards[0]);
        var waitOnClose = parent.WaitForRecordsAsync(0, CancellationToken.None);
        await _streams.ReshardAsync("close", s => [s.Shards[0]], s => Resharding.Split(s, s.Shards[0], HashKey.Max / 2, DateTimeOffset.UtcNow));
        await waitOnClose.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(parent.IsClosed);

        stream = _streams.Get("close");
        var child = _streams.Shard(stream, stream.OpenShards.First());
        var waitOnDelete = child.WaitForRecordsAsync(0, CancellationToken.None);
        _streams.Delete("close");
        await waitOnDelete.WaitAsync(TimeSpan.FromSeconds(10));

        var other = _streams.Create("cancel", 1, StreamMode.Provisioned, new Dictionary<string, string>());
        using var cancel = new CancellationTokenSource();
        var waitCancelled = _streams.Shard(other, other.Shards[0]).WaitForRecordsAsync(0, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitCancelled);
    }

    [Fact(Timeout = 30000)]
    public async Task Records_go_to_the_shard_whose_range_holds_their_hash_key_in_request_order()
    {
        var stream = _streams.Create("route", 4, StreamMode.Provisioned, new Dictionary<string, string>());
        var records = Enumerable.Range(0, 200).Select(i => ($"key-{i}", $"value-{i}")).ToArray();
        var outcomes = await PutAsync("route", records);
        for (int i = 0; i < records.Length; i++)
        {
            var expected = stream.Shards.Single(s => s.HashKeyRange.Contains(HashKey.FromPartitionKey(records[i].Item1)));
            Assert.Equal(expected.Index, outcomes[i].Shard!.Index);
        }
        // Within each shard, offsets follow request order.
        foreach (var group in outcomes.Select((o, i) => (o, i)).GroupBy(x => x.o.Shard!.Index))
            Assert.Equal(group.Select(x => x.o.Offset).Order(), group.Select(x => x.o.Offset));
        Assert.Equal(200UL, (ulong)stream.Shards.Sum(s => (long)_streams.Shard(stream, s).NextOffset));
    }

    [Fact(Timeout = 30000)]
    public async Task Writes_after_a_reshard_go_to_the_children()
    {
        _streams.Create("follow", 1, StreamMode.Provisioned, new Dictionary<string, string>());
        await PutAsync("follow", ("a", "before"));
        await _streams.ReshardAsync("follow", s => [s.Shards[0]], s => Resharding.Split(s, s.Shards[0], HashKey.Max / 2, DateTimeOffset.UtcNow));
        var outcomes = await PutAsync("follow", Enumerable.Range(0, 50).Select(i => ($"k{i}", "after")).ToArray());
        Assert.All(outcomes, o => Assert.NotEqual(0, o.Shard!.Index));
        Assert.Equal(2, outcomes.Select(o => o.Shard!.Index).Distinct().Count());
    }

    [Fact(Timeout = 30000)]
    public async Task A_record_over_its_shards_limit_fails_alone()
    {
        using var limited = new ShardLayerTests(new ThroughputLimits { Enabled = true, WriteRecordsPerSecond = 3 });
        limited._streams.Create("limit", 1, StreamMode.Provisioned, new Dictionary<string, string>());
        var outcomes = await limited.PutAsync("limit", Enumerable.Range(0, 5).Select(i => ("k", $"v{i}")).ToArray());
        Assert.Equal(3, outcomes.Count(o => o.ErrorCode is null));
        Assert.All(outcomes.Skip(3), o => Assert.Equal("ProvisionedThroughputExceededException", o.ErrorCode));
        Assert.Equal(3UL, limited._streams.Shard(limited._streams.Get("limit"), limited._streams.Get("limit").Shards[0]).NextOffset);
    }
}
