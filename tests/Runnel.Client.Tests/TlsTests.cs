using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Runnel.Client.Credentials;
using Runnel.Client.Models;
using Runnel.Server;

namespace Runnel.Client.Tests;

/// <summary>
/// The client over TLS against Runnel's TLS port (a self-signed certificate the test makes and trusts by thumbprint):
/// HTTP/2 negotiated by ALPN when asked, HTTP/1.1 when not, for ordinary calls and for SubscribeToShard alike.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runnel-client-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Passes requests on and notes the HTTP version each answer came in.</summary>
    private sealed class VersionRecorder(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public List<Version> Versions { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            lock (Versions)
                Versions.Add(response.Version);
            return response;
        }
    }

    private (string Certificate, string Key, string Thumbprint) MakeCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        string certPath = Path.Combine(_dir, "cert.pem"), keyPath = Path.Combine(_dir, "key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath, certificate.Thumbprint);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Calls_and_subscriptions_go_over_TLS_on_HTTP2_when_asked_and_HTTP11_when_not(bool http2)
    {
        var (cert, key, thumbprint) = MakeCertificate();
        await using var host = await RunnelHost.StartAsync(new RunnelOptions
        {
            Limits = Runnel.Core.Throughput.ThroughputLimits.Off,
            TlsPort = 0,
            TlsCertificate = cert,
            TlsKey = key,
        });
        using var sockets = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 c && c.Thumbprint == thumbprint,
            },
        };
        using var recorder = new VersionRecorder(sockets);
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Endpoint = host.TlsUrl,
            Credentials = new StaticCredentialsProvider("AKID", "secret"),
            HttpHandler = recorder,
            UseHttp2 = http2,
            Protocol = KinesisProtocol.Cbor,
        });
        Assert.Equal("https", client.Endpoint.Scheme);

        string stream = RunnelHost.UniqueName("tls");
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        string arn = (await client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = stream })).StreamDescriptionSummary.StreamARN;
        var consumer = (await client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = arn, ConsumerName = "tls" })).Consumer;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var subscription = await client.SubscribeToShardAsync(new SubscribeToShardRequest
        {
            ConsumerARN = consumer.ConsumerARN,
            ShardId = "shardId-000000000000",
            StartingPosition = new StartingPosition { Type = ShardIteratorType.Latest },
        }, timeout.Token);
        await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = new byte[] { 9, 8, 7 }, PartitionKey = "p" });
        await foreach (var e in subscription.WithCancellation(timeout.Token))
        {
            if (e.Records.Count == 0)
                continue;
            Assert.Equal(new byte[] { 9, 8, 7 }, Assert.Single(e.Records).Data);
            break;
        }

        var expected = http2 ? HttpVersion.Version20 : HttpVersion.Version11;
        Assert.Equal(expected, subscription.HttpVersion);
        Assert.All(recorder.Versions, v => Assert.Equal(expected, v));
        Assert.Equal(5, recorder.Versions.Count);
    }
}
