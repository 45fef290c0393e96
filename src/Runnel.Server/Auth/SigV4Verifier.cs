using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Runnel.Core.Errors;

namespace Runnel.Server.Auth;

/// <summary>
/// Verifies AWS Signature Version 4 (<c>--auth sigv4</c>): recomputes the signature of a request from its method,
/// path, query, the headers it says it signed and its payload (the body's SHA-256, or <c>UNSIGNED-PAYLOAD</c> when
/// <c>x-amz-content-sha256</c> says so), with the secret of its access key from the <see cref="CredentialStore"/>,
/// in the header form and the presigned query-string form, and refuses it with AWS's errors: an unknown key
/// (<c>UnrecognizedClientException</c>), a date more than 15 minutes off (<c>InvalidSignatureException</c> "Signature
/// expired"/"not yet current"), a signature that differs (<c>InvalidSignatureException</c>). The shape checks before
/// it are <see cref="Kinesis.Authentication"/>'s. Thread-safe.
/// </summary>
public sealed class SigV4Verifier(CredentialStore credentials, TimeProvider clock, Action<string>? explain = null)
{
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(15);

    private const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The credential a request was signed with, once its signature is verified against <paramref name="body"/>.</summary>
    public Credential Verify(HttpRequest request, ReadOnlySpan<byte> body)
    {
        var signed = Read(request);
        var credential = credentials.Find(signed.AccessKey) ?? throw UnrecognizedClient();
        CheckDate(signed.AmzDate, signed.ExpiresSeconds);
        string payloadHash = request.Headers["x-amz-content-sha256"].ToString() switch
        {
            "UNSIGNED-PAYLOAD" => "UNSIGNED-PAYLOAD",
            _ => Convert.ToHexStringLower(SHA256.HashData(body)),
        };
        if (request.Headers["x-amz-content-sha256"].ToString() is { Length: 64 } claimed && claimed != payloadHash)
            throw KinesisErrors.InvalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
        string canonical = CanonicalRequest(request, signed.SignedHeaders, payloadHash, presigned: signed.Presigned);
        string scope = $"{signed.Date}/{signed.Region}/{signed.Service}/aws4_request";
        string toSign = $"{Algorithm}\n{signed.AmzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        byte[] key = SigningKey(credential.SecretAccessKey, signed.Date, signed.Region, signed.Service);
        byte[] expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign))));
        byte[] given = Encoding.ASCII.GetBytes(signed.Signature); // lower-case hex, as SigV4 writes it: no other spelling matches
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            // AWS's answer says no more; the operator's log says what was signed, to compare with the client's.
            explain?.Invoke($"A request signed with {signed.AccessKey} ({credential.Profile}) was refused: its signature does not match. The canonical request Runnel computed:\n{canonical}\nThe string to sign:\n{toSign}");
            throw KinesisErrors.InvalidSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        }
        return credential;
    }

    /// <summary>As <see cref="Verify(HttpRequest, ReadOnlySpan{byte})"/>, reading the body (kept for the handler to read again).</summary>
    public async Task<Credential> VerifyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        request.EnableBuffering();
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
        request.Body.Position = 0;
        return Verify(request, body.GetBuffer().AsSpan(0, (int)body.Length));
    }

    private sealed record Signed(string AccessKey, string Date, string Region, string Service, string AmzDate, string Signature, string[] SignedHeaders, bool Presigned, long? ExpiresSeconds);

    /// <summary>What the signature says about itself (the shape was checked before), from the header or the query.</summary>
    private static Signed Read(HttpRequest request)
    {
        string credential, signature, signedHeaders, amzDate;
        bool presigned = request.Headers.Authorization.Count == 0;
        long? expires = null;
        if (!presigned)
        {
            string authorization = request.Headers.Authorization.ToString();
            if (!authorization.StartsWith(Algorithm + " ", StringComparison.Ordinal))
                throw KinesisErrors.IncompleteSignature($"Unsupported AWS 'algorithm': '{authorization.Split(' ')[0]}'");
            var parts = authorization[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
            credential = parts.GetValueOrDefault("Credential") ?? "";
            signature = parts.GetValueOrDefault("Signature") ?? "";
            signedHeaders = parts.GetValueOrDefault("SignedHeaders") ?? "";
            amzDate = request.Headers["X-Amz-Date"].Count > 0 ? request.Headers["X-Amz-Date"].ToString()
                : DateTimeOffset.TryParse(request.Headers.Date.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
                    ? date.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) : "";
        }
        else
        {
            if (request.Query["X-Amz-Algorithm"].ToString() != Algorithm)
                throw KinesisErrors.IncompleteSignature($"Unsupported AWS 'algorithm': '{request.Query["X-Amz-Algorithm"]}'");
            credential = request.Query["X-Amz-Credential"].ToString();
            signature = request.Query["X-Amz-Signature"].ToString();
            signedHeaders = request.Query["X-Amz-SignedHeaders"].ToString();
            amzDate = request.Query["X-Amz-Date"].ToString();
            expires = long.TryParse(request.Query["X-Amz-Expires"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out long e) ? e : null;
        }
        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request" || scope[0].Length == 0)
            throw KinesisErrors.IncompleteSignature($"Credential should be scoped to a valid region. ");
        if (!amzDate.StartsWith(scope[1], StringComparison.Ordinal))
            throw KinesisErrors.InvalidSignature($"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope[1]}' != '{(amzDate.Length >= 8 ? amzDate[..8] : amzDate)}', from '{amzDate}'.");
        return new Signed(scope[0], scope[1], scope[2], scope[3], amzDate, signature,
            signedHeaders.Split(';'), presigned, expires); // as sent: an empty name signs differently, as it would on AWS
    }

    private void CheckDate(string amzDate, long? expiresSeconds)
    {
        if (!DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signedAt))
            throw KinesisErrors.IncompleteSignature($"Date must be in ISO-8601 'basic format'. Got '{amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601");
        var now = clock.GetUtcNow();
        string Basic(DateTimeOffset t) => t.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        if (expiresSeconds is { } expires)
        {
            if (now > signedAt.AddSeconds(expires))
                throw KinesisErrors.InvalidSignature($"Signature expired: {Basic(signedAt.AddSeconds(expires))} is now earlier than {Basic(now)}.");
            return;
        }
        if (signedAt < now - AllowedSkew)
            throw KinesisErrors.InvalidSignature($"Signature expired: {amzDate} is now earlier than {Basic(now - AllowedSkew)} ({Basic(now)} - 15 min.)");
        if (signedAt > now + AllowedSkew)
            throw KinesisErrors.InvalidSignature($"Signature not yet current: {amzDate} is still later than {Basic(now + AllowedSkew)} ({Basic(now)} + 15 min.)");
    }

    /// <summary>SigV4's canonical request of a non-S3 service: the path's segments encoded once more, the query sorted and encoded, the signed headers' values trimmed.</summary>
    public static string CanonicalRequest(HttpRequest request, IReadOnlyList<string> signedHeaders, string payloadHash, bool presigned = false)
    {
        string rawTarget = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (request.PathBase + request.Path + request.QueryString);
        int question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        string rawPath = question < 0 ? rawTarget : rawTarget[..question];
        string rawQuery = question < 0 ? "" : rawTarget[(question + 1)..];
        if (rawPath.Length == 0 || rawPath[0] != '/')
            rawPath = "/" + rawPath; // an absolute-form target is not expected from the SDKs
        string path = string.Join('/', rawPath.Split('/').Select(Encode));
        var query = rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Name: Encode(Uri.UnescapeDataString(p[0].Replace('+', ' '))), Value: Encode(Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : ""))))
            .Where(p => !(presigned && p.Name == "X-Amz-Signature"))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Name + "=" + p.Value);
        var canonical = new StringBuilder();
        canonical.Append(request.Method).Append('\n').Append(path).Append('\n').Append(string.Join('&', query)).Append('\n');
        foreach (string name in signedHeaders)
        {
            // HTTP/2's :authority is the Host header to Kestrel; the JavaScript SDK signs it by that name over HTTP/1.1 too.
            string value = name is "host" or ":authority" ? request.Headers.Host.ToString() : string.Join(',', request.Headers[name].Select(v => v ?? ""));
            canonical.Append(name).Append(':').Append(CollapseSpaces(value.Trim())).Append('\n');
        }
        canonical.Append('\n').Append(string.Join(';', signedHeaders)).Append('\n').Append(payloadHash);
        return canonical.ToString();
    }

    public static byte[] SigningKey(string secret, string date, string region, string service)
    {
        byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8.ToArray());
    }

    /// <summary>RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX in upper case.</summary>
    private static string Encode(string text)
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

    /// <summary>AWS's answer to an access key it does not know.</summary>
    public static KinesisException UnrecognizedClient() => new("UnrecognizedClientException", "The security token included in the request is invalid.", 400);
}
