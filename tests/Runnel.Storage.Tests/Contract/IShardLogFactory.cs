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

/// <summary>
/// The embedded log behind <see cref="Runnel.Storage.Encryption.EncryptingShardStore"/>'s log, with every append sealed
/// under one data key: the contract holds through encryption at rest.
/// </summary>
public sealed class EncryptedShardLogFactory : IShardLogFactory
{
    private static readonly byte[] DataKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public IShardLog Open(string directory, LogOptions options) =>
        new SealingLog(new Runnel.Storage.Encryption.EncryptingShardLog(ShardLog.Open(directory, options), 7, 0, new OneKey()));

    public override string ToString() => "encrypted";

    private sealed class OneKey : Runnel.Storage.Encryption.ILogKeys
    {
        public byte[] Find(long logId, uint keyId) => logId == 7 && keyId == 1 ? DataKey : throw new InvalidOperationException($"no key {keyId} for log {logId}");
    }

    /// <summary>Names the key on every batch, as the server's writer does for an encrypted stream.</summary>
    private sealed class SealingLog(IShardLog inner) : IShardLog
    {
        public ulong NextOffset => inner.NextOffset;

        public long LastArrivalMillis => inner.LastArrivalMillis;

        public bool IsClosed => inner.IsClosed;

        public event Action? AppendedElsewhere
        {
            add => inner.AppendedElsewhere += value;
            remove => inner.AppendedElsewhere -= value;
        }

        public ValueTask<AppendResult> AppendAsync(Runnel.Storage.Records.RecordBatch batch)
        {
            batch.SealWith = new Runnel.Storage.Encryption.LogKey(1, DataKey);
            return inner.AppendAsync(batch);
        }

        public ValueTask<Runnel.Storage.Records.ReadResult> ReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(fromOffset, maxRecords, maxBytes, minArrivalMillis, cancellationToken);

        public ValueTask<ulong> FirstOffsetAtOrAfterAsync(long arrivalMillis, CancellationToken cancellationToken = default) => inner.FirstOffsetAtOrAfterAsync(arrivalMillis, cancellationToken);

        public void EnforceRetention(long cutoffMillis) => inner.EnforceRetention(cutoffMillis);

        public void Flush() => inner.Flush();

        public ulong Close() => inner.Close();

        public void Dispose() => inner.Dispose();
    }
}
