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
