using NATS.Client.Core;
using NATS.Client.JetStream;
using Runnel.Storage.JetStream;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>
/// What the JetStream backend adds to the log contract (which it passes, Contract/Implementations.cs): several
/// nodes writing one shard at once, a close seen by every node, and the store's naming, deletion and orphans.
/// Each "node" is a connection and a store of its own, against a real three-node R3 cluster.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class JetStreamShardStoreTests(NatsClusterFixture nats)
{
    private static long _nextStreamId = DateTime.UtcNow.Ticks % 1_000_000_000;

    private static long NewStreamId() => Interlocked.Increment(ref _nextStreamId);

    /// <summary>A second node: its own connection and store, with its own writer id.</summary>
    private async Task<(NatsConnection Connection, JetStreamShardStore Store)> NodeAsync()
    {
        var connection = new NatsConnection(new NatsOpts { Url = nats.Cluster.Urls, Name = "runnel-storage-tests-node", RequestTimeout = TimeSpan.FromSeconds(30) });
        await connection.ConnectAsync();
        return (connection, new JetStreamShardStore(new NatsJSContext(connection), new JetStreamSettings { Replicas = 3 }));
    }

    [Fact(Timeout = 60000)]
    public async Task Two_nodes_appending_to_one_shard_get_consecutive_offsets_and_lose_nothing()
    {
        long id = NewStreamId();
        var (connection, other) = await NodeAsync();
        await using (connection)
        using (other)
        using (var first = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 }))
        {
            var logs = new[] { first.Open(id, 0), other.Open(id, 0) };
            var appends = Enumerable.Range(0, 120).Select(i => Task.Run(async () =>
            {
                var log = logs[i % 2];
                var result = await AppendAsync(log, $"node{i % 2}-record{i}");
                return (Value: $"node{i % 2}-record{i}", result.FirstOffset);
            })).ToList();
            var acknowledged = await Task.WhenAll(appends);

            Assert.Equal(Enumerable.Range(0, 120).Select(i => (ulong)i), acknowledged.Select(a => a.FirstOffset).Order());
            foreach (var log in logs)
            {
                // A node learns of another's appends when it reads at the end it knows (until the tail
                // subscription of docs/adr/0001 tells it at once): what the GetRecords of a consumer does.
                for (int i = 0; i < 100 && log.NextOffset < 120; i++)
                    ReadOnce(log, log.NextOffset);
                Assert.Equal(120UL, log.NextOffset);
                var records = ReadAll(log);
                AssertInOrder(records);
                Assert.Equal(120, records.Count);
                Assert.All(acknowledged, a => Assert.Equal(a.Value, records[(int)a.FirstOffset].Text));
                for (int i = 1; i < records.Count; i++)
                    Assert.True(records[i].ArrivalMillis >= records[i - 1].ArrivalMillis, "arrival times never go back along a shard, whichever node wrote");
            }
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_shard_closed_on_one_node_refuses_appends_on_another_and_both_agree_on_its_end()
    {
        long id = NewStreamId();
        var (connection, other) = await NodeAsync();
        await using (connection)
        using (other)
        using (var first = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 }))
        {
            var here = first.Open(id, 3);
            var there = other.Open(id, 3);
            await AppendAsync(here, "a", "b");
            await AppendAsync(there, "c");
            Assert.Equal(3UL, here.Close());
            await Assert.ThrowsAsync<ShardClosedException>(async () => await AppendAsync(there, "late"));
            Assert.True(there.IsClosed);
            Assert.Equal(3UL, there.Close());
            Assert.Equal(["a", "b", "c"], ReadAllText(there));
        }
    }

    [Fact(Timeout = 60000)]
    public async Task Streams_are_named_by_stream_and_shard_deleted_with_their_stream_and_found_when_orphaned()
    {
        long kept = NewStreamId(), deleted = NewStreamId(), orphan = NewStreamId();
        using var store = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 });
        foreach (var (stream, shard) in new[] { (kept, 0), (deleted, 0), (deleted, 1), (orphan, 2) })
            await AppendAsync(store.Open(stream, shard), "x");
        Assert.Equal($"RUNNEL_{kept}_0", JetStreamShardStore.StreamNameOf(kept, 0));
        Assert.Equal($"runnel.shard.{kept}.0", JetStreamShardStore.SubjectOf(kept, 0));
        await nats.JetStream.GetStreamAsync(JetStreamShardStore.StreamNameOf(deleted, 1));

        store.DeleteStream(deleted);
        await Assert.ThrowsAsync<NatsJSApiException>(async () => await nats.JetStream.GetStreamAsync(JetStreamShardStore.StreamNameOf(deleted, 0)));
        await Assert.ThrowsAsync<NatsJSApiException>(async () => await nats.JetStream.GetStreamAsync(JetStreamShardStore.StreamNameOf(deleted, 1)));
        Assert.Equal(["x"], ReadAllText(store.Open(kept, 0)));

        var orphans = store.OrphanedStreams(new HashSet<long> { kept }).ToList();
        Assert.Contains(orphan, orphans);
        Assert.DoesNotContain(kept, orphans);
        Assert.DoesNotContain(deleted, orphans);
        // A store of a new process finds what an earlier one wrote: the log is in JetStream, not in the node.
        using var later = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 });
        var log = later.Open(kept, 0);
        Assert.Equal(1UL, log.NextOffset);
        Assert.Equal(1UL, (await AppendAsync(log, "y")).FirstOffset);
    }
}
