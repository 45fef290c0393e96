using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>The test classes that share one cluster: one at a time, and after the tests that run in parallel, so that
/// three servers (and the Runnel nodes of the server tests) do not starve the timing-sensitive tests of two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NatsClusterCollection : ICollectionFixture<NatsClusterFixture>
{
    public const string Name = "nats-cluster";
}

/// <summary>A three-node JetStream cluster and a connection to it, shared by the <see cref="NatsClusterCollection"/>.</summary>
public sealed class NatsClusterFixture : IAsyncLifetime
{
    public NatsCluster Cluster { get; private set; } = null!;

    public NatsConnection Connection { get; private set; } = null!;

    public INatsJSContext JetStream { get; private set; } = null!;

    private FileStream? _machineWide;

    public async Task InitializeAsync()
    {
        _machineWide = await TakeMachineWideTurnAsync();
        Cluster = await NatsCluster.StartAsync(3);
        Connection = new NatsConnection(new NatsOpts { Url = Cluster.Urls, Name = "runnel-storage-tests", RequestTimeout = TimeSpan.FromSeconds(30) });
        await Connection.ConnectAsync();
        JetStream = new NatsJSContext(Connection);
        await WaitForMetaLeaderAsync();
    }

    /// <summary>A new cluster elects its JetStream meta leader a moment after the nodes report healthy:
    /// until then, stream operations fail. Waits (bounded) until an R3 stream can be made.</summary>
    private async Task WaitForMetaLeaderAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await JetStream.CreateStreamAsync(new StreamConfig("RUNNEL_PROBE", ["runnel.probe"]) { NumReplicas = 3 });
                await JetStream.DeleteStreamAsync("RUNNEL_PROBE");
                return;
            }
            catch (Exception e) when (e is NatsJSException or NatsException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>
    /// The storage and the server tests run in two processes at once, each with a cluster of its own: six
    /// nats-servers and the Runnel nodes of the fault tests starve two cores until JetStream stops answering. An
    /// exclusive lock on a file (flock, released by the kernel when a process dies) makes them take turns; a turn
    /// waited for longer than 20 minutes goes ahead anyway.
    /// </summary>
    private static async Task<FileStream?> TakeMachineWideTurnAsync()
    {
        string path = Path.Combine(Path.GetTempPath(), "runnel-nats-cluster-tests.lock");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(250);
            }
        }
        return null;
    }

    public async Task DisposeAsync()
    {
        if (Connection is not null)
            await Connection.DisposeAsync();
        if (Cluster is not null)
            await Cluster.DisposeAsync();
        _machineWide?.Dispose();
    }
}
