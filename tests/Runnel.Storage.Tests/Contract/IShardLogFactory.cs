using Runnel.Storage.Log;

namespace Runnel.Storage.Tests.Contract;

/// <summary>
/// Opens one <see cref="IShardLog"/> implementation for the contract suites. A new implementation gets
/// the whole suite with a factory and one line in <c>Implementations.cs</c>.
/// </summary>
public interface IShardLogFactory
{
    /// <summary>
    /// Opens the log kept under <paramref name="directory"/> (the test's own temp directory), creating it
    /// when absent. A durable implementation reopens what an earlier, disposed log left there.
    /// Implementations that have no segment files may ignore the segment-related options.
    /// </summary>
    IShardLog Open(string directory, LogOptions options);
}

/// <summary>The embedded segment-file log, <see cref="ShardLog"/>.</summary>
public sealed class EmbeddedShardLogFactory : IShardLogFactory
{
    public IShardLog Open(string directory, LogOptions options) => ShardLog.Open(directory, options);

    public override string ToString() => "embedded";
}

/// <summary>
/// The JetStream log, <see cref="Runnel.Storage.JetStream.JetStreamShardLog"/>, at R3 on the fixture's cluster: the
/// test's directory names its JetStream stream, so that a reopen finds the same stream.
/// </summary>
public sealed class JetStreamShardLogFactory(Runnel.Storage.Tests.JetStream.NatsClusterFixture nats) : IShardLogFactory
{
    public IShardLog Open(string directory, LogOptions options)
    {
        string name = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(directory)))[..16];
        var settings = new Runnel.Storage.JetStream.JetStreamSettings { Replicas = 3 };
        return Runnel.Storage.JetStream.JetStreamShardLog.OpenAsync(nats.JetStream, $"RUNNEL_TEST_{name}", $"runnel.test.{name}", settings).GetAwaiter().GetResult();
    }

    public override string ToString() => "jetstream";
}
