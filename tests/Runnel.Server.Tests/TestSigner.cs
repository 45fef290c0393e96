using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Runnel.Server.Auth;

namespace Runnel.Server.Tests;

/// <summary>Signs a test's request with SigV4 as an SDK does (host, x-amz-date and any x-amz-target signed; the body's
/// SHA-256), for servers started with <c>--auth sigv4</c>.</summary>
public static class TestSigner
{
    public static void Sign(HttpRequestMessage request, Uri server, byte[] body, string accessKey, string secret, DateTimeOffset now, string service = "kinesis")
    {
        string stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = server.Authority, ["x-amz-date"] = stamp };
        if (request.Headers.TryGetValues("X-Amz-Target", out var target))
            headers["x-amz-target"] = target.First();
        string signedHeaders = string.Join(';', headers.Keys);
        string canonical = $"{request.Method.Method}\n{request.RequestUri!.OriginalString.Split('?')[0]}\n\n"
            + string.Concat(headers.Select(h => $"{h.Key}:{h.Value}\n")) + $"\n{signedHeaders}\n{Hex(SHA256.HashData(body))}";
        string scope = $"{stamp[..8]}/us-east-1/{service}/aws4_request";
        string toSign = $"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        string signature = Hex(HMACSHA256.HashData(SigV4Verifier.SigningKey(secret, stamp[..8], "us-east-1", service), Encoding.UTF8.GetBytes(toSign)));
        request.Headers.Remove("Authorization");
        request.Headers.Remove("X-Amz-Date");
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", stamp);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
