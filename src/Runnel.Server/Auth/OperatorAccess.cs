using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Runnel.Core.Errors;

namespace Runnel.Server.Auth;

/// <summary>
/// Who may read Runnel's own GET endpoints (<c>/metrics</c>, <c>/console/api/pipeline</c>) under <c>--auth sigv4</c>:
/// a request signed with SigV4 as the API's are (the console signs its GETs), or HTTP Basic with an access key id as
/// the user and its secret as the password, which is what Prometheus's <c>basic_auth</c> sends. Without credentials the
/// answer is 401 with a Basic challenge, so browsers and scrapers ask; with wrong ones, the API's errors. A key whose
/// policy does not allow <c>cloudwatch:GetMetricData</c> is refused with AccessDeniedException (403). Thread-safe.
/// </summary>
public sealed class OperatorAccess(SigV4Verifier verifier, CredentialStore credentials, AccessControl access)
{
    /// <summary>The IAM action these endpoints stand for: they show what GetMetricData would.</summary>
    public const string Action = "cloudwatch:GetMetricData";

    /// <summary>The credential of a request, or null when an answer (401, 400 or 403) has been written instead.</summary>
    public async Task<Credential?> AuthenticateAsync(HttpContext context)
    {
        var credential = await IdentifyAsync(context).ConfigureAwait(false);
        if (credential is not null && access.Denial(credential, Action, "*") is { } denial)
        {
            await WriteErrorAsync(context.Response, StatusCodes.Status403Forbidden, "AccessDeniedException", denial).ConfigureAwait(false);
            return null;
        }
        return credential;
    }

    private async Task<Credential?> IdentifyAsync(HttpContext context)
    {
        var request = context.Request;
        string authorization = request.Headers.Authorization.ToString();
        try
        {
            if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
                return Basic(authorization["Basic ".Length..].Trim()) ?? throw SigV4Verifier.UnrecognizedClient();
            if (authorization.Length > 0 || request.Query.ContainsKey("X-Amz-Algorithm"))
            {
                Kinesis.Authentication.Check(request);
                return await verifier.VerifyAsync(request, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (KinesisException e)
        {
            await WriteErrorAsync(context.Response, e.StatusCode, e.ErrorType, e.WireMessage ?? e.ErrorType).ConfigureAwait(false);
            return null;
        }
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"runnel\", charset=\"UTF-8\"";
        await WriteErrorAsync(context.Response, StatusCodes.Status401Unauthorized, "MissingAuthenticationTokenException",
            "Runnel checks credentials (--auth sigv4): sign the request with SigV4, or send HTTP Basic with an access key id and its secret.").ConfigureAwait(false);
        return null;
    }

    /// <summary>The credential whose id and secret the Basic header carries (the secret compared in constant time), or null.</summary>
    private Credential? Basic(string encoded)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }
        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || credentials.Find(decoded[..colon]) is not { } credential)
            return null;
        byte[] given = SHA256.HashData(Encoding.UTF8.GetBytes(decoded[(colon + 1)..]));
        byte[] expected = SHA256.HashData(Encoding.UTF8.GetBytes(credential.SecretAccessKey));
        return CryptographicOperations.FixedTimeEquals(given, expected) ? credential : null;
    }

    private static Task WriteErrorAsync(HttpResponse response, int status, string type, string message)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var body = new System.Text.Json.Nodes.JsonObject { ["__type"] = type, ["message"] = message };
        return response.WriteAsync(body.ToJsonString(), response.HttpContext.RequestAborted);
    }
}
