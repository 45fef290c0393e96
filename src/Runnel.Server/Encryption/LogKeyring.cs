using System.Collections.Concurrent;
using System.Security.Cryptography;
using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Storage.Encryption;

namespace Runnel.Server.Encryption;

/// <summary>
/// The data keys of encrypted logs (streams, delivery streams): issues them wrapped under the <see cref="MasterKey"/>
/// (StartStreamEncryption), unwraps them once per process and keeps them, names the key an append is sealed under and
/// finds the key a stored record was sealed under (<see cref="ILogKeys"/>). The master key is loaded on first need, so
/// a server that never encrypts never makes a development key. Thread-safe.
/// </summary>
public sealed class LogKeyring(Func<MasterKey> loadMaster) : IDataKeys
{
    private readonly Lazy<MasterKey> _master = new(loadMaster, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly ConcurrentDictionary<(long LogId, uint KeyId), byte[]> _unwrapped = new();

    /// <summary>The encryption of a log by its id (a stream's or a delivery stream's), or null; set once the services exist.</summary>
    public Func<long, AtRestEncryption?> EncryptionOf { get; set; } = _ => null;

    /// <summary>The encryption with a new data key for <paramref name="kmsKeyId"/>, unless its current key is for that KMS key already.</summary>
    public AtRestEncryption Issue(long logId, AtRestEncryption? current, string kmsKeyId)
    {
        var keys = current?.Keys ?? [];
        if (current?.Current is { } active && active.KmsKeyId == kmsKeyId)
            return current;
        uint id = keys.Count == 0 ? 1 : keys.Max(k => k.Id) + 1;
        byte[] dataKey = RandomNumberGenerator.GetBytes(32);
        // Not kept unwrapped here: the change may lose to another node's, whose key of this id is the one stored.
        var wrapped = new WrappedDataKey(id, kmsKeyId, Master.Wrap(dataKey, logId, id, kmsKeyId));
        CryptographicOperations.ZeroMemory(dataKey);
        return new AtRestEncryption(kmsKeyId, [.. keys, wrapped]);
    }

    /// <summary>The key to seal a log's new records under, or null when its encryption is off.</summary>
    public LogKey? SealingKey(long logId, AtRestEncryption? encryption) =>
        encryption?.Current is { } key ? new LogKey(key.Id, Unwrapped(logId, key)) : null;

    public byte[] Find(long logId, uint keyId)
    {
        if (_unwrapped.TryGetValue((logId, keyId), out byte[]? known))
            return known;
        var key = EncryptionOf(logId)?.Keys.FirstOrDefault(k => k.Id == keyId)
            ?? throw new KinesisException("KMSNotFoundException", $"Data key {keyId} of log {logId}, under which a record was sealed, is not in its stream's metadata.");
        return Unwrapped(logId, key);
    }

    private MasterKey Master
    {
        get
        {
            try
            {
                return _master.Value;
            }
            catch (ArgumentException e)
            {
                throw new KinesisException("KMSInvalidStateException", e.Message);
            }
        }
    }

    private byte[] Unwrapped(long logId, WrappedDataKey key)
    {
        if (_unwrapped.TryGetValue((logId, key.Id), out byte[]? known))
            return known;
        var master = Master;
        try
        {
            return _unwrapped.GetOrAdd((logId, key.Id), master.Unwrap(key.Wrapped, logId, key.Id, key.KmsKeyId));
        }
        catch (CryptographicException)
        {
            throw new KinesisException("KMSInvalidStateException",
                $"Data key {key.Id} (for {key.KmsKeyId}) of log {logId} does not open with the master key of this server ({master.Origin}): it was wrapped under another. Start the server with the master key that encrypted the stream.");
        }
    }
}
