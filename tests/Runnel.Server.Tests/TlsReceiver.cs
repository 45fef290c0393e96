using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Runnel.Server.Tests;

/// <summary>
/// An HTTPS server a test runs on 127.0.0.1 and a free port, with a self-signed certificate written to a directory
/// (give its path to the server as <c>--http-endpoint-ca</c>): a stand-in for a Firehose destination, posts to
/// <c>path</c> handled by the test.
/// </summary>
public sealed class TlsReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TlsReceiver(WebApplication app, string certificatePath)
    {
        _app = app;
        CertificatePath = certificatePath;
        Url = app.Urls.First().TrimEnd('/');
    }

    /// <summary>The receiver's base URL, https://127.0.0.1:PORT.</summary>
    public string Url { get; }

    /// <summary>Its certificate (PEM), the one to trust.</summary>
    public string CertificatePath { get; }

    public static async Task<TlsReceiver> StartAsync(string directory, string path, RequestDelegate handle)
    {
        Directory.CreateDirectory(directory);
        var (certificatePath, keyPath, _) = TlsTests.MakeCertificate(directory);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
            listen.UseHttps(X509Certificate2.CreateFromPemFile(certificatePath, keyPath))));
        var app = builder.Build();
        app.MapPost(path, handle);
        await app.StartAsync();
        return new TlsReceiver(app, certificatePath);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
