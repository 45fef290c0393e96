using System.Text;
using Microsoft.AspNetCore.Http;
using Runnel.Core.Errors;

namespace Runnel.Server.Kinesis;

/// <summary>
/// The presence-and-shape checks AWS makes on SigV4 credentials before anything else, with AWS's
/// messages. Signatures are not verified yet (any key pair works), which docs/compatibility.md states.
/// </summary>
public static class Authentication
{
    /// <summary>True when Credential, Signature and SignedHeaders all appear with a value after the algorithm.</summary>
    private static bool HasEveryPart(string authorization)
    {
        bool credential = false, signature = false, signedHeaders = false, first = true;
        foreach (var range in authorization.AsSpan().SplitAny(", "))
        {
            var part = authorization.AsSpan()[range];
            if (part.IsEmpty)
                continue;
            if (first)
            {
                first = false; // the algorithm
                continue;
            }
            int equals = part.IndexOf('=');
            if (equals <= 0 || equals == part.Length - 1)
                continue;
            var key = part[..equals];
            credential |= key.SequenceEqual("Credential");
            signature |= key.SequenceEqual("Signature");
            signedHeaders |= key.SequenceEqual("SignedHeaders");
        }
        return credential && signature && signedHeaders;
    }

    public static void Check(HttpRequest request)
    {
        string? authorization = request.Headers.Authorization.Count > 0 ? request.Headers.Authorization.ToString() : null;
        bool queryAuth = request.Query.ContainsKey("X-Amz-Algorithm");
        if (authorization is not null && queryAuth)
            throw KinesisErrors.InvalidSignature("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
        if (authorization is null && !queryAuth)
            throw KinesisErrors.MissingAuthenticationToken();
        var message = new StringBuilder();
        if (authorization is not null && HasEveryPart(authorization) && (request.Headers["X-Amz-Date"].Count > 0 || request.Headers.Date.Count > 0))
            return; // the signed request of every SDK: checked without allocating
        if (authorization is not null)
        {
            var parameters = authorization.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)
                .Skip(1)
                .Select(p => p.Split('=', 2))
                .Where(kv => kv.Length == 2)
                .GroupBy(kv => kv[0].Trim(), StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.Ordinal);
            foreach (string required in new[] { "Credential", "Signature", "SignedHeaders" })
                if (!parameters.TryGetValue(required, out string? v) || v.Length == 0)
                    message.Append($"Authorization header requires '{required}' parameter. ");
            if (request.Headers["X-Amz-Date"].Count == 0 && request.Headers.Date.Count == 0)
                message.Append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
            if (message.Length > 0)
                throw KinesisErrors.IncompleteSignature(message.Append("Authorization=").Append(authorization).ToString());
            return;
        }
        foreach (string required in new[] { "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date" })
            if (!request.Query.TryGetValue(required, out var v) || string.IsNullOrEmpty(v.ToString()))
                message.Append($"AWS query-string parameters must include '{required}'. ");
        if (message.Length > 0)
            throw KinesisErrors.IncompleteSignature(message.Append("Re-examine the query-string parameters.").ToString());
    }
}
