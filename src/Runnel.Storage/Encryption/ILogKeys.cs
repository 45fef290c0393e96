namespace Runnel.Storage.Encryption;

/// <summary>A log's data key in the clear: its id (as frames name it) and its 32 bytes.</summary>
public readonly record struct LogKey(uint Id, byte[] Key);

/// <summary>
/// The data keys that opened records of logs (streams and delivery streams) were sealed under, unwrapped, for
/// <see cref="EncryptingShardStore"/>'s reads (appends carry their key: <see cref="Records.RecordBatch.SealWith"/>).
/// Implemented by the server, which keeps the wrapped keys in each stream's metadata and the master key outside the
/// data directory. Thread-safe.
/// </summary>
public interface ILogKeys
{
    /// <summary>The key a record of the log was sealed under; throws (with a message for the client) when it cannot be had.</summary>
    byte[] Find(long logId, uint keyId);
}
