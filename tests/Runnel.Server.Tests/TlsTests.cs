using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// <c>--tls-port</c>: the whole API over TLS, HTTP/2 chosen by ALPN (the Java SDK's way) and HTTP/1.1, next to
/// the plain port. The certificate is made here, self-signed for 127.0.0.1, and written as PEM files.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runnel-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A self-signed certificate for 127.0.0.1 as PEM files: (certificate path, key path, thumbprint).</summary>
    public static (string Certificate, string Key, string Thumbprint) MakeCertificate(string dir, bool rsaKey = false)
    {
        using AsymmetricAlgorithm key = rsaKey ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA rsa
            ? new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=127.0.0.1", (ECDsa)key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        string certPath = Path.Combine(dir, "cert.pem"), keyPath = Path.Combine(dir, "key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath, certificate.Thumbprint);
    }

    [Theory(Timeout = 60000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_whole_api_answers_over_tls_in_http2_and_http11_and_the_plain_port_still_works(bool rsaKey)
    {
        var (cert, key, thumbprint) = MakeCertificate(_dir, rsaKey);
        var options = new RunnelOptions { Port = 0, TlsPort = 0, TlsCertificate = cert, TlsKey = key, DataDir = Path.Combine(_dir, "data") };
        await using var server = RunnelServer.Create(options, _ => { });
        await server.StartAsync();
        Assert.NotNull(server.TlsUrl);
        Assert.Equal("https", server.TlsUrl!.Scheme);

        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 c && c.Thumbprint == thumbprint;
        using var http = new HttpClient(handler) { BaseAddress = server.TlsUrl, Timeout = TimeSpan.FromSeconds(20) };
        foreach (var version in new[] { HttpVersion.Version20, HttpVersion.Version11 })
        {
            string name = "tls" + version.Major;
            using var create = TestClient.Request("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":1}""");
            create.Version = version;
            create.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            using var created = await http.SendAsync(create);
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            Assert.Equal(version, created.Version);

            using var list = TestClient.Request("ListStreams", "{}");
            list.Version = version;
            list.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            using var listed = await http.SendAsync(list);
            var names = JsonDocument.Parse(await listed.Content.ReadAsStringAsync()).RootElement.GetProperty("StreamNames").EnumerateArray().Select(n => n.GetString());
            Assert.Contains(name, names);
        }

        using var plain = new TestClient(server.Url);
        var streams = await plain.OkAsync("ListStreams", "{}");
        Assert.Equal(2, streams.GetProperty("StreamNames").GetArrayLength());
    }
}
