using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Runnel.Core.Iterators;

/// <summary>What a shard iterator points at: a position in one shard of one incarnation of a stream.</summary>
public readonly record struct ShardPosition(string StreamName, long StreamId, int ShardIndex, ulong Offset, long IssuedAtMillis);

/// <summary>
/// Encodes shard positions as opaque, tamper-evident tokens: a versioned binary payload followed by a
/// truncated HMAC-SHA256 under a per-data-directory secret, in base64. A token whose MAC does not
/// verify is rejected, so clients cannot forge positions. Thread-safe.
/// </summary>
public sealed class ShardIteratorCodec(byte[] secret)
{
    /// <summary>Iterators expire five minutes after they are issued, as on AWS.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private const byte Version = 1;
    private const int MacLength = 16;
    private const int FixedLength = 1 + 8 + 8 + 4 + 8 + 1; // version, issued, stream id, shard, offset, name length

    private readonly byte[] _secret = secret.Length >= 16 ? secret : throw new ArgumentException("secret too short", nameof(secret));

    public string Encode(in ShardPosition position)
    {
        int nameLength = Encoding.UTF8.GetByteCount(position.StreamName);
        var buffer = new byte[FixedLength + nameLength + MacLength];
        var span = buffer.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], position.IssuedAtMillis);
        BinaryPrimitives.WriteInt64BigEndian(span[9..], position.StreamId);
        BinaryPrimitives.WriteInt32BigEndian(span[17..], position.ShardIndex);
        BinaryPrimitives.WriteUInt64BigEndian(span[21..], position.Offset);
        span[29] = (byte)nameLength;
        Encoding.UTF8.GetBytes(position.StreamName, span.Slice(FixedLength, nameLength));
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_secret, span[..(FixedLength + nameLength)], mac);
        mac[..MacLength].CopyTo(span[(FixedLength + nameLength)..]);
        return Convert.ToBase64String(buffer);
    }

    /// <summary>False when the token is not one of ours or was altered.</summary>
    public bool TryDecode(string token, out ShardPosition position)
    {
        position = default;
        if (token.Length is 0 or > 512)
            return false;
        Span<byte> buffer = stackalloc byte[384];
        if (!Convert.TryFromBase64String(token, buffer, out int length) || length < FixedLength + MacLength || buffer[0] != Version)
            return false;
        var span = buffer[..length];
        int nameLength = span[29];
        if (length != FixedLength + nameLength + MacLength)
            return false;
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_secret, span[..(FixedLength + nameLength)], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacLength], span.Slice(FixedLength + nameLength, MacLength)))
            return false;
        position = new ShardPosition(
            Encoding.UTF8.GetString(span.Slice(FixedLength, nameLength)),
            BinaryPrimitives.ReadInt64BigEndian(span[9..]),
            BinaryPrimitives.ReadInt32BigEndian(span[17..]),
            BinaryPrimitives.ReadUInt64BigEndian(span[21..]),
            BinaryPrimitives.ReadInt64BigEndian(span[1..]));
        return true;
    }
}
