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
}
