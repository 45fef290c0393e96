using System.Security.Cryptography;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// A serialized request body, built once and sent as often as needed. Its SHA-256 (part of the SigV4
/// signature) is computed on first use and kept, so a body reused by a load loop is hashed once.
/// Thread-safe: the lazily computed hash is idempotent.
/// </summary>
public sealed class RequestBody(byte[] utf8, string mediaType = RequestBody.Json)
{
    public const string Json = "application/x-amz-json-1.1";
    public const string Cbor = "application/x-amz-cbor-1.1";

    private string? _sha256Hex;

    /// <summary>The body's bytes (UTF-8 JSON, or CBOR when <see cref="MediaType"/> says so).</summary>
    public byte[] Utf8 { get; } = utf8;

    /// <summary>The Content-Type it is sent with.</summary>
    public string MediaType { get; } = mediaType;

    /// <summary>Hex of the SHA-256 of the body (the x-amz-content-sha256 of SigV4).</summary>
    public string Sha256Hex => _sha256Hex ??= SigV4Signer.Hex(SHA256.HashData(Utf8));
}
