using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server.Console;

/// <summary>
/// The web console's static files (docs/console.md), embedded in the executable from <c>Console/wwwroot</c>:
/// <c>GET /</c> answers index.html, <c>GET /console/FILE</c> the file, anything else under <c>/console/</c> 404. The
/// page itself talks to the Kinesis, Firehose and CloudWatch APIs on the same port, signed as any SDK signs.
/// Answers are revalidated by ETag (the files change only with the executable). Thread-safe: the files are read once.
/// </summary>
public sealed class ConsoleEndpoint
{
    /// <summary>Where the files are served from, below the page itself at <c>/</c>.</summary>
    public const string Prefix = "/console/";

    /// <summary>What every answer says besides its body: only our own scripts and styles, and no guessing of types.</summary>
    private const string ContentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    private sealed record Asset(byte[] Body, string ContentType, string ETag);

    /// <summary>Whether a request is for the console: a GET or HEAD of <c>/</c> or of a path under <c>/console/</c>
    /// that is not shaped as an API call (no <c>X-Amz-Target</c>, no SigV4 signature): every other request to <c>/</c>
    /// stays the Kinesis API's, which SDKs POST to and which answers an API call by GET with AccessDeniedException, as
    /// AWS does.</summary>
    public static bool Accepts(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && (request.Path == "/" || (request.Path.Value ?? "").StartsWith(Prefix, StringComparison.Ordinal))
        && request.Headers["X-Amz-Target"].Count == 0
        && !request.Headers.Authorization.ToString().StartsWith("AWS4-", StringComparison.Ordinal)
        && !request.Query.ContainsKey("X-Amz-Algorithm");

    /// <summary>The names of the embedded files, as served under <see cref="Prefix"/>.</summary>
    public static IEnumerable<string> Files => Assets.Keys;

    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        string path = context.Request.Path.Value ?? "/";
        response.Headers["Content-Security-Policy"] = ContentSecurityPolicy;
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        string name = path == "/" ? "index.html" : path[Prefix.Length..];
        if (!Assets.TryGetValue(name, out var asset))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.WriteAsync($"Not found: {path}\n", context.RequestAborted);
        }
        response.Headers.ETag = asset.ETag;
        // Revalidated on every load (a 304 when unchanged): an upgraded server's console never mixes old and new files.
        response.Headers.CacheControl = "no-cache";
        response.ContentType = asset.ContentType;
        if (context.Request.Headers.IfNoneMatch.ToString() is { Length: > 0 } match
            && match.Split(',', StringSplitOptions.TrimEntries).Any(tag => tag == asset.ETag || tag == "*"))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentLength = asset.Body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Body, context.RequestAborted).AsTask();
    }

    /// <summary>Every embedded file under <c>Console/wwwroot</c> (resource names <c>Runnel.Server.Console.wwwroot.NAME</c>,
    /// as the project file names them), with its type and a strong ETag of its content.</summary>
    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleEndpoint).Assembly;
        const string resourcePrefix = "Runnel.Server.Console.wwwroot.";
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(resourcePrefix, StringComparison.Ordinal))
                continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] body = copy.ToArray();
            string name = resource[resourcePrefix.Length..];
            assets[name] = new Asset(body, ContentType(name), $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"");
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
