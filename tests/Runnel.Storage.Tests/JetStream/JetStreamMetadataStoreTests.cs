using NATS.Client.Core;
using NATS.Client.JetStream;
using Runnel.Core.Model;
using Runnel.Storage.JetStream;
using Runnel.Storage.Metadata;
using Runnel.Storage.Tests.Contract;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>
/// What the key-value metadata adds to the contract (which it passes, Contract/MetadataStoreContractTests.cs):
/// two nodes changing it at once, each with its own connection, against a real three-node R3 cluster.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class JetStreamMetadataStoreTests(NatsClusterFixture nats)
{
    private static string NewBucket() => "RUNNEL_META_TWO_" + Guid.NewGuid().ToString("N")[..12];

    private async Task<(NatsConnection Connection, IMetadataStore Store)> NodeAsync(string bucket)
    {
        var connection = new NatsConnection(new NatsOpts { Url = nats.Cluster.Urls, Name = "runnel-metadata-node", RequestTimeout = TimeSpan.FromSeconds(30) });
        await connection.ConnectAsync();
        return (connection, await JetStreamMetadataStore.OpenAsync(new NatsJSContext(connection), bucket, 3));
    }

    /// <summary>Two nodes on one bucket, each with its connection; disposing closes both connections.</summary>
    private sealed class TwoNodes(NatsConnection[] connections, IMetadataStore[] stores) : IAsyncDisposable
    {
        public IMetadataStore[] Stores { get; } = stores;

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }
    }

    private async Task<TwoNodes> TwoNodesAsync()
    {
        string bucket = NewBucket();
        var (c1, first) = await NodeAsync(bucket);
        var (c2, second) = await NodeAsync(bucket);
        return new TwoNodes([c1, c2], [first, second]);
    }

    /// <summary>Runs <paramref name="work"/> on threads of its own (the store's calls block), all released at once.</summary>
    private static async Task<List<T>> AtOnceAsync<T>(int threads, Func<int, T> work)
    {
        var results = new T[threads];
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var start = new Barrier(threads);
        var running = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                results[i] = work(i);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        })).ToList();
        running.ForEach(t => t.Start());
        await Task.Run(() => running.ForEach(t => t.Join()));
        return errors.IsEmpty ? [.. results] : throw new AggregateException(errors);
    }

    [Fact(Timeout = 60000)]
    public async Task Two_nodes_counting_at_once_never_hand_out_a_value_twice()
    {
        await using var nodes = await TwoNodesAsync();
        var stores = nodes.Stores;
        var values = await AtOnceAsync(6, i => Enumerable.Range(0, 10).Select(_ => stores[i % 2].NextSequence("stream-id")).ToList());
        Assert.Equal(Enumerable.Range(1, 60).Select(v => (long)v), values.SelectMany(v => v).Order());
    }

    [Fact(Timeout = 60000)]
    public async Task Of_two_nodes_creating_a_stream_of_one_name_at_once_exactly_one_gets_it()
    {
        await using var nodes = await TwoNodesAsync();
        var stores = nodes.Stores;
        var outcomes = await AtOnceAsync(2, i =>
        {
            try
            {
                stores[i].Save(MetadataStoreContractTests.Sample("contested", 100 + i));
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        });
        Assert.Equal(1, outcomes.Count(won => won));
        var loaded = Assert.Single(stores[0].Load().Streams);
        Assert.Equal(100 + outcomes.IndexOf(true), loaded.Id);
    }

    [Fact(Timeout = 60000)]
    public async Task Nodes_starting_together_sign_with_one_secret()
    {
        await using var nodes = await TwoNodesAsync();
        var stores = nodes.Stores;
        var secrets = await AtOnceAsync(4, i => stores[i % 2].GetOrCreateSecret("iterator-key", 32));
        Assert.All(secrets, s => Assert.Equal(secrets[0], s));
        Assert.Equal(secrets[0], stores[1].GetOrCreateSecret("iterator-key", 32));
    }

    [Fact(Timeout = 60000)]
    public async Task A_following_node_hears_each_change_another_makes_and_none_of_its_own()
    {
        await using var nodes = await TwoNodesAsync();
        var (writer, follower) = (nodes.Stores[0], nodes.Stores[1]);
        writer.Save(MetadataStoreContractTests.Sample("before", 1)); // loaded, not reported
        Assert.Single(follower.Load().Streams);
        var heard = new System.Collections.Concurrent.BlockingCollection<MetadataChange>();
        var taken = new List<MetadataChange>();
        follower.Follow(heard.Add);
        MetadataChange Next()
        {
            if (heard.TryTake(out var change, TimeSpan.FromSeconds(15)))
            {
                taken.Add(change);
                return change;
            }
            // What the follower had heard, and whether it had applied every revision the bucket holds, say which side stalled.
            bool caughtUp = follower.CatchUp(TimeSpan.FromSeconds(5));
            throw new TimeoutException($"no change reported in 15 s; heard before: {string.Join(", ", taken)}; the follower {(caughtUp ? "has" : "has not")} applied every revision of the bucket since");
        }

        // Each change is awaited before the next: the bucket keeps one value per key (history 1), so a follower
        // that falls behind sees only each key's latest value, which is all it needs to converge.
        follower.Save(MetadataStoreContractTests.Sample("own", 2)); // the follower's own: never reported
        var orders = writer.Save(MetadataStoreContractTests.Sample("orders", 3));
        Assert.Equal("orders", Assert.IsType<MetadataChange.StreamSaved>(Next()).Stream.Name);
        long consumerId = writer.AddConsumer(MetadataStoreContractTests.Consumer(3, "reader")).Id;
        Assert.Equal(consumerId, Assert.IsType<MetadataChange.ConsumerSaved>(Next()).Consumer.Id);
        writer.WriteSetting("account-settings", [1, 2, 3]);
        var setting = Assert.IsType<MetadataChange.SettingWritten>(Next());
        Assert.Equal("account-settings", setting.Name);
        Assert.Equal([1, 2, 3], setting.Value);
        follower.WriteDocument("delivery-stream", "own", [0], 0); // the follower's own: never reported
        var document = writer.WriteDocument("delivery-stream", "orders to s3", [4, 5], 0);
        var written = Assert.IsType<MetadataChange.DocumentWritten>(Next()).Document;
        Assert.Equal(("delivery-stream", "orders to s3", document.Revision), (written.Kind, written.Key, written.Revision));
        Assert.Equal([4, 5], written.Body);
        writer.DeleteDocument("delivery-stream", "orders to s3");
        Assert.Equal(("delivery-stream", "orders to s3"), Assert.IsType<MetadataChange.DocumentDeleted>(Next()) is var deleted ? (deleted.Kind, deleted.Key) : default);
        follower.DeleteDocument("delivery-stream", "own");
        writer.Save(orders with { RetentionHours = 48 });
        Assert.Equal(48, Assert.IsType<MetadataChange.StreamSaved>(Next()).Stream.RetentionHours);
        writer.Delete(3);
        var consumerGone = Assert.IsType<MetadataChange.ConsumerDeleted>(Next());
        Assert.Equal((3L, consumerId), (consumerGone.StreamId, consumerGone.ConsumerId));
        Assert.Equal(3, Assert.IsType<MetadataChange.StreamDeleted>(Next()).StreamId);
        Assert.False(heard.TryTake(out var extra, TimeSpan.FromMilliseconds(500)), $"nothing else is reported, not the follower's own save: {extra}");
    }

    [Fact(Timeout = 60000)]
    public async Task Catching_up_returns_only_once_every_change_made_before_it_was_applied_however_slow_applying_is()
    {
        await using var nodes = await TwoNodesAsync();
        var (writer, follower) = (nodes.Stores[0], nodes.Stores[1]);
        Assert.True(follower.CatchUp(TimeSpan.FromSeconds(1)), "a store that follows nothing is caught up");
        follower.Load();
        var applied = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
        follower.Follow(change =>
        {
            Thread.Sleep(300); // a node slow to apply (a loaded machine)
            if (change is MetadataChange.StreamSaved saved)
                applied[saved.Stream.Id] = true;
        });
        for (long id = 20; id < 23; id++)
        {
            writer.Save(MetadataStoreContractTests.Sample("slow-" + id, id));
            Assert.True(follower.CatchUp(TimeSpan.FromSeconds(10)), "caught up within the budget");
            Assert.True(applied.ContainsKey(id), $"stream {id} was applied before CatchUp returned");
        }
        writer.Save(MetadataStoreContractTests.Sample("late", 30));
        Assert.False(follower.CatchUp(TimeSpan.FromMilliseconds(50)), "a budget shorter than applying takes is reported as not caught up");
    }

    [Fact(Timeout = 60000)]
    public async Task Two_hundred_catch_ups_waiting_at_once_all_return_once_the_change_is_applied()
    {
        await using var nodes = await TwoNodesAsync();
        var (writer, follower) = (nodes.Stores[0], nodes.Stores[1]);
        follower.Load();
        var applied = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
        follower.Follow(change =>
        {
            if (change is MetadataChange.StreamSaved saved)
                applied[saved.Stream.Id] = true;
        });
        writer.Save(MetadataStoreContractTests.Sample("many-40", 40));
        // Far more waiters than a two-core machine's pool starts with: they wait on the revision, not on a thread each
        // (blocked threads once left the watch that releases them none to run on, for seconds).
        var waits = Enumerable.Range(0, 200).Select(_ => follower.CatchUpAsync(TimeSpan.FromSeconds(20)).AsTask()).ToArray();
        Assert.All(await Task.WhenAll(waits), Assert.True);
        Assert.True(applied.ContainsKey(40), "the change was applied before the catch-ups returned");
    }

    [Fact(Timeout = 60000)]
    public async Task A_follower_that_starts_late_still_ends_at_the_latest_state()
    {
        await using var nodes = await TwoNodesAsync();
        var (writer, follower) = (nodes.Stores[0], nodes.Stores[1]);
        Assert.Empty(follower.Load().Streams);
        var kept = writer.Save(MetadataStoreContractTests.Sample("kept", 5));
        writer.Save(kept with { RetentionHours = 72 });
        writer.Save(MetadataStoreContractTests.Sample("dropped", 6));
        writer.Delete(6);
        var heard = new System.Collections.Concurrent.BlockingCollection<MetadataChange>();
        follower.Follow(heard.Add); // after every change: what is stored now is what it hears
        var state = new Dictionary<long, StreamInfo>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!(state.TryGetValue(5, out var latest) && latest.RetentionHours == 72) && heard.TryTake(out var change, deadline - DateTime.UtcNow))
        {
            if (change is MetadataChange.StreamSaved saved)
                state[saved.Stream.Id] = saved.Stream;
            else if (change is MetadataChange.StreamDeleted deleted)
                state.Remove(deleted.StreamId);
        }
        Assert.Equal(72, Assert.Single(state).Value.RetentionHours);
    }

    [Fact(Timeout = 60000)]
    public async Task A_change_decided_from_a_stale_copy_is_refused_with_the_stream_as_stored()
    {
        await using var nodes = await TwoNodesAsync();
        var (a, b) = (nodes.Stores[0], nodes.Stores[1]);
        var created = a.Save(MetadataStoreContractTests.Sample("contended", 7));
        Assert.True(created.Revision > 0);
        var seenByB = Assert.Single(b.Load().Streams);
        Assert.Equal(created.Revision, seenByB.Revision);

        var changedByA = a.Save(created with { RetentionHours = 48 });
        Assert.True(changedByA.Revision > created.Revision);
        var conflict = Assert.Throws<MetadataConflictException>(() => b.Save(seenByB with { RetentionHours = 72 }));
        Assert.Equal(48, conflict.Current!.RetentionHours);
        Assert.Equal(changedByA.Revision, conflict.Current.Revision);
        var decidedAgain = b.Save(conflict.Current with { RetentionHours = 72 });
        Assert.Equal(72, Assert.Single(a.Load().Streams).RetentionHours);
        Assert.Equal(decidedAgain.Revision, Assert.Single(a.Load().Streams).Revision);

        a.Delete(7);
        var gone = Assert.Throws<MetadataConflictException>(() => b.Save(decidedAgain with { RetentionHours = 96 }));
        Assert.Null(gone.Current);
    }

    [Fact(Timeout = 60000)]
    public async Task A_consumer_change_decided_from_a_stale_copy_is_refused_with_the_consumer_as_stored()
    {
        await using var nodes = await TwoNodesAsync();
        var (a, b) = (nodes.Stores[0], nodes.Stores[1]);
        a.Save(MetadataStoreContractTests.Sample("with-consumer", 8));
        var added = a.AddConsumer(MetadataStoreContractTests.Consumer(8, "reader"));
        Assert.True(added.Revision > 0);
        var seenByB = Assert.Single(b.Load().Consumers);
        Assert.Equal(added.Revision, seenByB.Revision);

        var taggedByA = a.SaveConsumer(added with { Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["by"] = "a" } });
        Assert.True(taggedByA.Revision > added.Revision);
        var conflict = Assert.Throws<ConsumerConflictException>(() => b.SaveConsumer(seenByB with { ResourcePolicy = "{}" }));
        Assert.Equal("a", conflict.Current!.Tags["by"]);
        var decidedAgain = b.SaveConsumer(conflict.Current with { ResourcePolicy = "{}" });
        var stored = Assert.Single(a.Load().Consumers);
        Assert.Equal(("a", "{}", decidedAgain.Revision), (stored.Tags["by"], stored.ResourcePolicy, stored.Revision));

        a.DeleteConsumer(added.Id);
        var gone = Assert.Throws<ConsumerConflictException>(() => b.SaveConsumer(decidedAgain with { ResourcePolicy = null }));
        Assert.Null(gone.Current);
        Assert.Empty(a.Load().Consumers); // the refused write did not bring the consumer back
    }

    [Fact(Timeout = 60000)]
    public async Task Holds_reads_the_bucket_itself_not_a_copy()
    {
        await using var nodes = await TwoNodesAsync();
        var (a, b) = (nodes.Stores[0], nodes.Stores[1]);
        b.Load();
        a.Save(MetadataStoreContractTests.Sample("fresh", 9));
        Assert.True(b.Holds(9)); // b never loaded it
        a.Delete(9);
        Assert.False(b.Holds(9));
    }
}
