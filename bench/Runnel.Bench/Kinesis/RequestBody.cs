using System.Security.Cryptography;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// A serialized request body, built once and sent as often as needed. Its SHA-256 (part of the SigV4
/// signature) is computed on first use and kept, so a body reused by a load loop is hashed once.
/// Thread-safe: the lazily computed hash is idempotent.
/// </summary>
public sealed class RequestBody(byte[] utf8)
{
    private string? _sha256Hex;

    public byte[] Utf8 { get; } = utf8;

    /// <summary>Hex of the SHA-256 of the body (the x-amz-content-sha256 of SigV4).</summary>
    public string Sha256Hex => _sha256Hex ??= SigV4Signer.Hex(SHA256.HashData(Utf8));
}
