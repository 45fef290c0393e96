using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Runnel.Client.Credentials;

namespace Runnel.Client.Signing;

/// <summary>
/// Signs requests with AWS Signature Version 4 in the Authorization header: the canonical request (method, the path
/// with each segment encoded once more as services other than S3 want it, the sorted query, the signed headers in
/// lower case with their values trimmed, the payload's SHA-256), the string to sign over the credential scope
/// <c>date/region/service/aws4_request</c>, and the signing key derived from the secret, kept for the last
/// date, region and service used. Signs <c>host</c>, <c>x-amz-date</c>, <c>content-type</c>, <c>x-amz-target</c>,
/// <c>x-amz-security-token</c> for temporary credentials and, when asked, <c>x-amz-content-sha256</c>. Thread-safe.
/// </summary>
internal sealed class SigV4Signer(bool addContentSha256Header = false)
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    private sealed record CachedKey(string Secret, string Date, string Region, string Service, byte[] Key);

    private CachedKey? _cached; // replaced whole, so a reader sees one consistent entry

    /// <summary>Signs <paramref name="request"/>, whose body is <paramref name="body"/>, as of <paramref name="now"/>.</summary>
    public void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, AwsCredentials credentials, string region, string service, DateTimeOffset now)
    {
        string amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string payloadHash = Convert.ToHexStringLower(SHA256.HashData(body));
        request.Headers.Remove("Authorization");
        request.Headers.Remove("X-Amz-Date");
        request.Headers.Remove("X-Amz-Security-Token");
        request.Headers.Remove("X-Amz-Content-SHA256");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (credentials.SessionToken is { } token)
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        if (addContentSha256Header)
            request.Headers.TryAddWithoutValidation("X-Amz-Content-SHA256", payloadHash);

        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = request.Headers.Host ?? request.RequestUri!.Authority,
        };
        foreach (var header in request.Headers)
        {
            string name = header.Key.ToLowerInvariant();
            if (name.StartsWith("x-amz-", StringComparison.Ordinal))
                headers[name] = string.Join(',', header.Value);
        }
        if (request.Content?.Headers.ContentType is { } contentType)
            headers["content-type"] = contentType.ToString();

        string signature = Signature(request.Method.Method, request.RequestUri!, headers, payloadHash, credentials.SecretAccessKey, amzDate, region, service, out string scope);
        request.Headers.TryAddWithoutValidation("Authorization",
            $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={string.Join(';', headers.Keys)}, Signature={signature}");
    }

    /// <summary>The signature of a request whose signed headers (names in lower case) are <paramref name="headers"/>.</summary>
    public string Signature(string method, Uri uri, IReadOnlyDictionary<string, string> headers, string payloadHash, string secret, string amzDate, string region, string service, out string scope)
    {
        string date = amzDate[..8];
        scope = $"{date}/{region}/{service}/aws4_request";
        string canonical = CanonicalRequest(method, uri, headers, payloadHash);
        string toSign = StringToSign(amzDate, scope, canonical);
        return Convert.ToHexStringLower(HMACSHA256.HashData(SigningKey(secret, date, region, service), Encoding.UTF8.GetBytes(toSign)));
    }

    /// <summary>SigV4's canonical request; the headers are sorted by their lower-case names.</summary>
    public static string CanonicalRequest(string method, Uri uri, IReadOnlyDictionary<string, string> headers, string payloadHash)
    {
        var canonical = new StringBuilder(256);
        canonical.Append(method).Append('\n');
        string path = uri.AbsolutePath.Length == 0 ? "/" : uri.AbsolutePath; // already percent-encoded once
        canonical.Append(string.Join('/', path.Split('/').Select(UriEncode))).Append('\n');
        canonical.Append(CanonicalQuery(uri.Query)).Append('\n');
        var names = headers.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (string name in names)
            canonical.Append(name).Append(':').Append(CollapseSpaces(headers[name].Trim())).Append('\n');
        canonical.Append('\n').Append(string.Join(';', names)).Append('\n').Append(payloadHash);
        return canonical.ToString();
    }

    /// <summary>The string to sign: the algorithm, the date, the scope, and the canonical request's SHA-256 in hex.</summary>
    public static string StringToSign(string amzDate, string scope, string canonicalRequest) =>
        $"{Algorithm}\n{amzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

    /// <summary>The key of a day, region and service: HMAC-SHA256 chained from <c>"AWS4" + secret</c>; the last one is kept.</summary>
    public byte[] SigningKey(string secret, string date, string region, string service)
    {
        var cached = _cached;
        if (cached is not null && cached.Date == date && cached.Region == region && cached.Service == service && cached.Secret == secret)
            return cached.Key;
        byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        key = HMACSHA256.HashData(key, "aws4_request"u8);
        _cached = new CachedKey(secret, date, region, service, key);
        return key;
    }

    private static string CanonicalQuery(string query)
    {
        if (query.Length <= 1)
            return "";
        return string.Join('&', query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Name: UriEncode(Uri.UnescapeDataString(p[0])), Value: UriEncode(Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Name + "=" + p.Value));
    }

    /// <summary>RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every other byte as %XX in upper case.</summary>
    internal static string UriEncode(string text)
    {
        var encoded = new StringBuilder(text.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
                encoded.Append(c);
            else
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return encoded.ToString();
    }

    private static string CollapseSpaces(string value)
    {
        if (!value.Contains("  ", StringComparison.Ordinal))
            return value;
        var collapsed = new StringBuilder(value.Length);
        foreach (char c in value)
            if (c != ' ' || collapsed.Length == 0 || collapsed[^1] != ' ')
                collapsed.Append(c);
        return collapsed.ToString();
    }
}
