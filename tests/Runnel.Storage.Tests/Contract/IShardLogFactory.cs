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
