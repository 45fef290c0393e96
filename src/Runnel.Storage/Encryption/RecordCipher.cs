using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Runnel.Storage.Encryption;

/// <summary>
/// How a record is sealed at rest (docs/formats/segment.md, "Encrypted records"): its partition key, explicit hash key
/// and data, encrypted together with AES-256-GCM under a key derived for its append from the log's data key. The body
/// that takes the frame's data field:
/// <code>version u8 (1) | salt [16] | nonce [12] | ciphertext | tag [16]</code>
/// The ciphertext is of <c>pkLength u16 | partitionKey | ehkLength u8 | explicitHashKey | data</c>. The key is
/// HKDF-SHA256(data key, salt, "runnel record v1"), the salt random per append, the nonce the record's index in the
/// append: no nonce repeats under a key, however many records a data key seals. The associated data binds the record
/// to its place: <c>"RNLR" | logId u64 | shardIndex u32 | keyId u32</c>, so a sealed record moved to another log,
/// shard or key fails to open.
/// </summary>
public static class RecordCipher
{
    public const byte Version = 1;
    public const int SaltSize = 16, NonceSize = 12, TagSize = 16;
    private const int HeaderSize = 1 + SaltSize + NonceSize;
    private static readonly byte[] Info = "runnel record v1"u8.ToArray();

    /// <summary>The sealed body of a record with keys and data of these lengths.</summary>
    public static int SealedSize(int partitionKeyBytes, int explicitHashKeyBytes, int dataBytes) =>
        HeaderSize + PlainSize(partitionKeyBytes, explicitHashKeyBytes, dataBytes) + TagSize;

    private static int PlainSize(int pk, int ehk, int data) => 2 + pk + 1 + ehk + data;

    private static void AssociatedData(Span<byte> aad, long logId, int shardIndex, uint keyId)
    {
        "RNLR"u8.CopyTo(aad);
        BinaryPrimitives.WriteInt64LittleEndian(aad[4..], logId);
        BinaryPrimitives.WriteInt32LittleEndian(aad[12..], shardIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(aad[16..], keyId);
    }

    private static AesGcm Derive(byte[] dataKey, ReadOnlySpan<byte> salt)
    {
        Span<byte> key = stackalloc byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, dataKey, key, salt, Info);
        var aes = new AesGcm(key, TagSize);
        CryptographicOperations.ZeroMemory(key);
        return aes;
    }

    /// <summary>Seals the records of one append: one salt and derived key for all of them. Not thread-safe.</summary>
    public sealed class Sealer : IDisposable
    {
        private readonly byte[] _salt = RandomNumberGenerator.GetBytes(SaltSize);
        private readonly AesGcm _aes;
        private readonly byte[] _aad = new byte[20];
        private ulong _counter;

        public Sealer(LogKey key, long logId, int shardIndex)
        {
            _aes = Derive(key.Key, _salt);
            AssociatedData(_aad, logId, shardIndex, key.Id);
        }

        /// <summary>Writes the sealed body into <paramref name="destination"/> (<see cref="SealedSize"/> bytes).</summary>
        public void Seal(ReadOnlySpan<byte> partitionKey, ReadOnlySpan<byte> explicitHashKey, ReadOnlySpan<byte> data, Span<byte> destination)
        {
            int plainSize = PlainSize(partitionKey.Length, explicitHashKey.Length, data.Length);
            destination[0] = Version;
            _salt.CopyTo(destination[1..]);
            var nonce = destination.Slice(1 + SaltSize, NonceSize);
            nonce.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(nonce, _counter++);
            // The plaintext is assembled where the ciphertext goes: GCM encrypts in place.
            var body = destination.Slice(HeaderSize, plainSize);
            BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)partitionKey.Length);
            partitionKey.CopyTo(body[2..]);
            body[2 + partitionKey.Length] = (byte)explicitHashKey.Length;
            explicitHashKey.CopyTo(body[(3 + partitionKey.Length)..]);
            data.CopyTo(body[(3 + partitionKey.Length + explicitHashKey.Length)..]);
            _aes.Encrypt(nonce, body, body, destination.Slice(HeaderSize + plainSize, TagSize), _aad);
        }

        public void Dispose() => _aes.Dispose();
    }

    /// <summary>Opens sealed records of one log's shard, keeping the derived key of the last append it met. Not thread-safe.</summary>
    public sealed class Opener(ILogKeys keys, long logId, int shardIndex) : IDisposable
    {
        private readonly byte[] _aad = new byte[20];
        private readonly byte[] _salt = new byte[SaltSize];
        private uint _keyId;
        private AesGcm? _aes;

        /// <summary>
        /// Decrypts a sealed body into <paramref name="plain"/> (at least the body's length) and says where the
        /// partition key, explicit hash key and data lie in it. Throws <see cref="InvalidDataException"/> when the
        /// body is not a sealed record this key opens.
        /// </summary>
        public (Range PartitionKey, Range ExplicitHashKey, Range Data) Open(uint keyId, ReadOnlySpan<byte> sealedBody, Span<byte> plain)
        {
            if (sealedBody.Length < HeaderSize + 3 + TagSize || sealedBody[0] != Version)
                throw new InvalidDataException($"An encrypted record of log {logId} shard {shardIndex} is not sealed in a format this Runnel reads (version {(sealedBody.IsEmpty ? 0 : sealedBody[0])}).");
            var salt = sealedBody.Slice(1, SaltSize);
            if (_aes is null || keyId != _keyId || !salt.SequenceEqual(_salt))
            {
                _aes?.Dispose();
                _aes = Derive(keys.Find(logId, keyId), salt);
                salt.CopyTo(_salt);
                _keyId = keyId;
                AssociatedData(_aad, logId, shardIndex, keyId);
            }
            int plainSize = sealedBody.Length - HeaderSize - TagSize;
            var output = plain[..plainSize];
            try
            {
                _aes.Decrypt(sealedBody.Slice(1 + SaltSize, NonceSize), sealedBody.Slice(HeaderSize, plainSize), sealedBody[^TagSize..], output, _aad);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new InvalidDataException($"An encrypted record of log {logId} shard {shardIndex} failed authentication under data key {keyId}: it was altered, or sealed elsewhere.");
            }
            int pk = BinaryPrimitives.ReadUInt16LittleEndian(output);
            int ehkAt = 2 + pk;
            if (ehkAt >= plainSize || ehkAt + 1 + output[ehkAt] > plainSize)
                throw new InvalidDataException($"An encrypted record of log {logId} shard {shardIndex} opened to a body whose lengths do not fit.");
            int ehk = output[ehkAt];
            return (new Range(2, 2 + pk), new Range(ehkAt + 1, ehkAt + 1 + ehk), new Range(ehkAt + 1 + ehk, plainSize));
        }

        public void Dispose() => _aes?.Dispose();
    }
}
