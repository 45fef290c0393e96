using Runnel.Client.Credentials;
using Runnel.Server;

namespace Runnel.Client.Tests;

/// <summary>
/// One Runnel server in-process on a free port with a data directory of its own, stopped and deleted on disposal. By
/// default without throughput limits (API tests call faster than AWS's per-shard limits allow).
/// </summary>
public sealed class RunnelHost : IAsyncDisposable
{
    private RunnelHost(RunnelServer server, string dataDir)
    {
        Server = server;
        DataDir = dataDir;
    }

    public RunnelServer Server { get; }

    public string DataDir { get; }

    public Uri Url => Server.Url;

    /// <summary>The TLS endpoint, when the server was started with one.</summary>
    public Uri? TlsUrl => Server.TlsUrl;

    public static async Task<RunnelHost> StartAsync(RunnelOptions? options = null, TimeProvider? clock = null)
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "runnel-client-test-" + Guid.NewGuid().ToString("N"));
        options ??= new RunnelOptions { Limits = Runnel.Core.Throughput.ThroughputLimits.Off };
        var server = RunnelServer.Create(options with { Port = 0, DataDir = dataDir }, logging: _ => { }, clock: clock);
        try
        {
            await server.StartAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return new RunnelHost(server, dataDir);
    }

    /// <summary>A Kinesis client of this server, with a fixed key (signatures are not checked unless the server was started so).</summary>
    public KinesisClient Kinesis(KinesisProtocol protocol = KinesisProtocol.Json11, bool http2 = true, IAwsCredentialsProvider? credentials = null) =>
        new(new KinesisClientOptions
        {
            Endpoint = Url,
            Region = "us-east-1",
            Protocol = protocol,
            UseHttp2 = http2,
            Credentials = credentials ?? new StaticCredentialsProvider("AKIDEXAMPLE", "secret"),
            RequestTimeout = TimeSpan.FromSeconds(20),
        });

    /// <summary>A DynamoDB client of this server.</summary>
    public DynamoDbClient DynamoDb(IAwsCredentialsProvider? credentials = null) =>
        new(new DynamoDbClientOptions
        {
            Endpoint = Url,
            Region = "us-east-1",
            Credentials = credentials ?? new StaticCredentialsProvider("AKIDEXAMPLE", "secret"),
            RequestTimeout = TimeSpan.FromSeconds(20),
        });

    /// <summary>Reshards <paramref name="stream"/> by UpdateShardCount in raw JSON: the client has no method for it, and
    /// the server wants a signature header but does not check it here.</summary>
    public async Task UpdateShardCountAsync(string stream, int shards)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, Url)
        {
            Content = new StringContent($$"""{"StreamName":"{{stream}}","TargetShardCount":{{shards}},"ScalingType":"UNIFORM_SCALING"}"""),
        };
        request.Content.Headers.ContentType = new("application/x-amz-json-1.1");
        request.Headers.Add("X-Amz-Target", "Kinesis_20131202.UpdateShardCount");
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>One server shared by a test class; each test uses stream and table names of its own.</summary>
public sealed class RunnelFixture : IAsyncLifetime
{
    public RunnelHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await RunnelHost.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
