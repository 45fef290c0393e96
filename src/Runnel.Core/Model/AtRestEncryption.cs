namespace Runnel.Core.Model;

/// <summary>
/// How a stream's (or a delivery stream's) records are encrypted at rest (StartStreamEncryption, docs/security.md):
/// the KMS key id the user named while encryption is on (null once stopped), and every data key the records were ever
/// sealed under, wrapped by Runnel's master key, oldest first. Keys are never dropped: records sealed under an old key
/// stay readable after the key changes or encryption stops.
/// </summary>
public sealed record AtRestEncryption(string? KmsKeyId, IReadOnlyList<WrappedDataKey> Keys)
{
    public bool Enabled => KmsKeyId is not null;

    /// <summary>The key new records are sealed under, or null while encryption is off.</summary>
    public WrappedDataKey? Current => Enabled && Keys.Count > 0 ? Keys[^1] : null;

    /// <summary>Encryption stopped: no key for new records, every key kept for the records sealed before.</summary>
    public AtRestEncryption Stopped() => this with { KmsKeyId = null };
}

/// <summary>One data key: its id within its stream (from 1; the id a record's frame names), the KMS key id it was made
/// for, and its 32 bytes wrapped with AES-GCM under the master key (nonce, ciphertext, tag).</summary>
public sealed record WrappedDataKey(uint Id, string KmsKeyId, byte[] Wrapped);
