using Runnel.Core.Model;

namespace Runnel.Storage.Encryption;

/// <summary>
/// Issues and hands out the data keys of encrypted logs, for the services that write them (a stream's writer, a
/// delivery stream's PutRecord): a new wrapped data key when encryption starts with a KMS key id, and the key to seal
/// an append under while it is on. Implemented by the server, which holds the master key. Thread-safe.
/// </summary>
public interface IDataKeys : ILogKeys
{
    /// <summary><paramref name="current"/> with a new data key for <paramref name="kmsKeyId"/> (on), unless its current key is for that KMS key already.</summary>
    AtRestEncryption Issue(long logId, AtRestEncryption? current, string kmsKeyId);

    /// <summary>The key to seal a log's new records under, or null while its encryption is off.</summary>
    LogKey? SealingKey(long logId, AtRestEncryption? encryption);
}
