using Microsoft.AspNetCore.Http;
using Runnel.Core.Metrics;

namespace Runnel.Server.Kinesis;

/// <summary>Who sent a request: the access key its SigV4 signature names (header or presigned query) and its User-Agent. Thread-safe: stateless.</summary>
public static class ClientIdentity
{
    /// <summary>Longest User-Agent kept: SDKs send long ones, and each distinct one is a series.</summary>
    public const int MaxUserAgent = 256;

    public static ClientId From(HttpRequest? request)
    {
        if (request is null)
            return new ClientId("", "");
        string userAgent = request.Headers.UserAgent.ToString();
        if (userAgent.Length > MaxUserAgent)
            userAgent = userAgent[..MaxUserAgent];
        return new ClientId(AccessKey(request), userAgent);
    }

    private static string AccessKey(HttpRequest request)
    {
        string credential;
        if (request.Headers.Authorization.Count > 0)
        {
            string authorization = request.Headers.Authorization.ToString();
            int at = authorization.IndexOf("Credential=", StringComparison.Ordinal);
            if (at < 0)
                return "";
            credential = authorization[(at + "Credential=".Length)..];
        }
        else
        {
            credential = request.Query["X-Amz-Credential"].ToString();
        }
        int slash = credential.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash <= 128 ? credential[..slash] : "";
    }
}
