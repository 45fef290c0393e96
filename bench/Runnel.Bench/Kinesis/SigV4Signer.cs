using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// Signs requests with AWS Signature Version 4 over the headers <c>host;x-amz-date</c>, as an SDK would
/// (neither Runnel nor kinesalite verifies the signature, but both require its shape). The derived
/// signing key and the formatted date are cached per day and per second, and a request body's hash is
/// computed once per <see cref="RequestBody"/>, so signing costs two small HMACs per request.
/// Thread-safe: the caches are replaced atomically as immutable tuples.
/// </summary>
public sealed class SigV4Signer(string accessKey, string secretKey, string region, string service = "kinesis")
{
    private (long Second, string AmzDate) _dateCache = (-1, "");
    private (string Day, byte[] Key) _keyCache = ("", []);

    /// <summary>The X-Amz-Date value for now (yyyyMMddTHHmmssZ, UTC).</summary>
    public string AmzDateNow()
    {
        long second = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cached = _dateCache;
        if (cached.Second == second)
            return cached.AmzDate;
        string formatted = DateTimeOffset.FromUnixTimeSeconds(second).UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        _dateCache = (second, formatted);
        return formatted;
    }

    /// <summary>The Authorization header value for a POST to <c>/</c> on <paramref name="host"/>.</summary>
    public string Authorization(string host, string amzDate, RequestBody body)
    {
        string day = amzDate[..8];
        string scope = $"{day}/{region}/{service}/aws4_request";
        string canonicalRequest = $"POST\n/\n\nhost:{host}\nx-amz-date:{amzDate}\n\nhost;x-amz-date\n{body.Sha256Hex}";
        string stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        string signature = Hex(HMACSHA256.HashData(SigningKey(day), Encoding.UTF8.GetBytes(stringToSign)));
        return $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders=host;x-amz-date, Signature={signature}";
    }

    private byte[] SigningKey(string day)
    {
        var cached = _keyCache;
        if (cached.Day == day)
            return cached.Key;
        byte[] key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), day);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        _keyCache = (day, key);
        return key;
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
