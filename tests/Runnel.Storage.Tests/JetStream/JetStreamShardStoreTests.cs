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
    private async Task<(NatsConnection Connection, JetStreamShardStore Store)> NodeAsync(JetStreamSettings? settings = null)
    {
        var connection = new NatsConnection(new NatsOpts { Url = nats.Cluster.Urls, Name = "runnel-storage-tests-node", RequestTimeout = TimeSpan.FromSeconds(30) });
        await connection.ConnectAsync();
        return (connection, new JetStreamShardStore(new NatsJSContext(connection), settings ?? new JetStreamSettings { Replicas = 3 }));
    }

    /// <summary>A new shard's log as two nodes see it: the fixture's connection and a second node's.</summary>
    private async Task<TwoNodes> TwoNodesAsync()
    {
        long id = NewStreamId();
        var (connection, other) = await NodeAsync();
        var first = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 });
        return new TwoNodes(connection, [first, other], [first.Open(id, 0), other.Open(id, 0)]);
    }

    private sealed class TwoNodes(NatsConnection connection, JetStreamShardStore[] stores, IShardLog[] logs) : IAsyncDisposable
    {
        public IShardLog[] Logs { get; } = logs;

        public async ValueTask DisposeAsync()
        {
            foreach (var store in stores)
                store.Dispose();
            await connection.DisposeAsync();
        }
    }

    [Fact(Timeout = 60000)]
    public async Task Two_nodes_appending_to_one_shard_get_consecutive_offsets_and_lose_nothing()
    {
        await using (var nodes = await TwoNodesAsync())
        {
            var logs = nodes.Logs;
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
    public async Task Nodes_that_hear_each_other_place_refused_appends_again_consecutively()
    {
        // Each node listens for the other's notices (as every shard the server opens does) and appends right after
        // the other did: a refused append learns the tip from the notice of the message that got in first, or from
        // the leader when the notice is late. Either way the offsets are consecutive and nothing is lost.
        await using (var nodes = await TwoNodesAsync())
        {
            var logs = nodes.Logs;
            foreach (var log in logs)
                log.AppendedElsewhere += () => { };
            var offsets = new List<ulong>();
            for (int i = 0; i < 60; i++)
            {
                var pair = await Task.WhenAll(AppendAsync(logs[i % 2], $"a{i}"), AppendAsync(logs[(i + 1) % 2], $"b{i}"));
                offsets.AddRange(pair.Select(r => r.FirstOffset));
            }
            Assert.Equal(Enumerable.Range(0, 120).Select(i => (ulong)i), offsets.Order());
            var records = ReadAll(logs[0]);
            Assert.Equal(120, records.Count);
            AssertInOrder(records);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task JetStream_names_the_streams_last_sequence_when_it_refuses_an_append()
    {
        // A refused append reads the sequence JetStream names instead of asking the leader (JetStreamShardLog.Conflicts).
        string name = "RUNNEL_REFUSAL_" + NewStreamId();
        await nats.JetStream.CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig(name, [name.ToLowerInvariant()]) { NumReplicas = 3 });
        try
        {
            for (int i = 0; i < 3; i++)
                (await nats.JetStream.PublishAsync(name.ToLowerInvariant(), new byte[] { 1 })).EnsureSuccess();
            var refused = await nats.JetStream.PublishAsync(name.ToLowerInvariant(), new byte[] { 2 }, opts: new NatsJSPubOpts { ExpectedLastSequence = 1 });
            Assert.NotNull(refused.Error);
            Assert.Equal(10071, refused.Error!.ErrCode);
            Assert.Equal(3UL, JetStreamShardLog.LastSequenceOf(refused.Error.Description));
            Assert.Null(JetStreamShardLog.LastSequenceOf("wrong last msg ID: x"));
            Assert.Null(JetStreamShardLog.LastSequenceOf(null));
        }
        finally
        {
            await nats.JetStream.DeleteStreamAsync(name);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task Appends_arriving_together_on_one_node_share_messages()
    {
        long id = NewStreamId();
        using var store = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 });
        var log = store.Open(id, 0);
        var appended = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => AppendAsync(log, $"r{i}", $"r{i}-second")));

        Assert.Equal(Enumerable.Range(0, 200).Select(i => (ulong)(2 * i)), appended.Select(a => a.FirstOffset).Order());
        var stream = await nats.JetStream.GetStreamAsync(JetStreamShardStore.StreamNameOf(id, 0));
        Assert.True(stream.Info.State.Messages < 200, $"{stream.Info.State.Messages} messages for 200 appends made at once: none was grouped");
        var records = ReadAll(log);
        AssertInOrder(records);
        Assert.Equal(400, records.Count);
        for (int i = 0; i < 200; i++)
        {
            int at = (int)appended[i].FirstOffset;
            Assert.Equal(($"r{i}", $"r{i}-second"), (records[at].Text, records[at + 1].Text)); // a batch stays together
            Assert.Equal(appended[i].ArrivalMillis, records[at].ArrivalMillis);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_node_hears_of_another_nodes_appends_and_close_without_reading()
    {
        long id = NewStreamId();
        // No poll on the reading node: what it learns, it learns from the writer's notices.
        var (connection, other) = await NodeAsync(new JetStreamSettings { Replicas = 3, TipPollInterval = Timeout.InfiniteTimeSpan });
        await using (connection)
        using (other)
        using (var first = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 }))
        {
            var writer = first.Open(id, 0);
            var reader = other.Open(id, 0);
            int heard = 0;
            var woken = new SemaphoreSlim(0);
            reader.AppendedElsewhere += () =>
            {
                Interlocked.Increment(ref heard);
                woken.Release();
            };
            await Task.Delay(200); // the reader's subscription reaches the server (a notice before it would wait for the poll)

            await AppendAsync(writer, "a", "b");
            Assert.True(await woken.WaitAsync(TimeSpan.FromSeconds(10)), "the reader was not told of the append"); // hang detector, not a timing
            Assert.Equal(2UL, reader.NextOffset);
            Assert.Equal(writer.LastArrivalMillis, reader.LastArrivalMillis);

            writer.Close();
            for (int i = 0; i < 10 && !reader.IsClosed; i++)
                await woken.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(reader.IsClosed, "the reader was not told of the close");

            // Its own appends do not raise it.
            var solo = other.Open(id, 1);
            int soloHeard = 0;
            solo.AppendedElsewhere += () => Interlocked.Increment(ref soloHeard);
            await AppendAsync(solo, "mine");
            await Task.Delay(500); // its own notice came back by now, and was not taken for another writer's
            Assert.Equal(0, Volatile.Read(ref soloHeard));
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_notice_carries_small_appends_to_the_readers_at_the_tip_and_large_ones_are_read_from_JetStream()
    {
        long id = NewStreamId();
        var (connection, other) = await NodeAsync(new JetStreamSettings { Replicas = 3, TipPollInterval = Timeout.InfiniteTimeSpan });
        await using (connection)
        using (other)
        using (var first = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 }))
        {
            var writer = first.Open(id, 0);
            var reader = other.Open(id, 0);
            var woken = new SemaphoreSlim(0);
            reader.AppendedElsewhere += () => woken.Release();
            await Task.Delay(200); // the reader's subscription reaches the server
            Assert.Empty(ReadOnce(reader, 0).Records); // a read at the tip

            await AppendAsync(writer, "small-a", "small-b");
            while (reader.NextOffset < 2)
                Assert.True(await woken.WaitAsync(TimeSpan.FromSeconds(10)), "the reader was not told of the append"); // hang detector
            // The message is gone from JetStream (removed by hand, only to show where the read is served from): the
            // reader still has it, from the notice.
            var stream = await nats.JetStream.GetStreamAsync(JetStreamShardStore.StreamNameOf(id, 0));
            Assert.True((await stream.DeleteMessageAsync(new NATS.Client.JetStream.Models.StreamMsgDeleteRequest { Seq = 1, NoErase = true })).Success);
            Assert.Equal(["small-a", "small-b"], ReadOnce(reader, 0).Records.Select(r => r.Text));

            // Past the size a notice carries: the reader is told of it, and reads its records from JetStream.
            byte[] large = new byte[JetStreamShardLog.MaxNoticeFrameBytes + 1];
            new Random(3).NextBytes(large);
            var appended = await AppendBytesAsync(writer, large);
            while (reader.NextOffset < 3)
                Assert.True(await woken.WaitAsync(TimeSpan.FromSeconds(10)), "the reader was not told of the large append");
            var read = ReadOnce(reader, appended.FirstOffset).Records;
            Assert.Equal(large, Assert.Single(read).Data);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task OpenIfPresent_creates_no_stream_for_a_shard_never_written_and_finds_one_another_node_made()
    {
        long id = NewStreamId();
        var (connection, other) = await NodeAsync();
        await using (connection)
        using (other)
        using (var first = new JetStreamShardStore(nats.JetStream, new JetStreamSettings { Replicas = 3 }))
        {
            Assert.Null(first.OpenIfPresent(id, 0));
            await Assert.ThrowsAsync<NatsJSApiException>(async () => await nats.JetStream.GetStreamAsync(JetStreamShardStore.StreamNameOf(id, 0)));
            await AppendAsync(other.Open(id, 0), "through the other node");
            var found = first.OpenIfPresent(id, 0);
            Assert.NotNull(found);
            Assert.Equal(["through the other node"], ReadAllText(found));
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
        // Stream ids are never reused: a late request for a deleted stream makes no JetStream stream again.
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.OpenAsync(deleted, 0));
        await Assert.ThrowsAsync<NatsJSApiException>(async () => await nats.JetStream.GetStreamAsync(JetStreamShardStore.StreamNameOf(deleted, 0)));

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
