using System.Net;
using System.Text.Json;
using Runnel.Server;

namespace Runnel.Server.Tests;

/// <summary>One in-process server on a free port with its own data directory, shared by a test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private TestClient _client = null!;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "runnel-server-test-" + Guid.NewGuid().ToString("N"));

    public RunnelServer Server { get; private set; } = null!;

    public HttpClient Http => _client.Http;

    public async Task InitializeAsync()
    {
        // API-semantics tests call faster than AWS's per-shard limits allow; LimitTests covers the limits.
        Server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = DataDir, Limits = Runnel.Core.Throughput.ThroughputLimits.Off }, logging: _ => { });
        await Server.StartAsync();
        _client = new TestClient(Server.Url);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 128)];

    /// <summary>Base64 of a string's UTF-8 bytes, for Data members.</summary>
    public static string B64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s));

    /// <summary>Creates a provisioned stream with a unique name and returns the name.</summary>
    public async Task<string> CreateStreamAsync(string prefix, int shards)
    {
        string name = UniqueName(prefix);
        await OkAsync("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":{{shards}}}""");
        return name;
    }

    public HttpRequestMessage Request(string operation, string body, string contentType = "application/x-amz-json-1.1", bool signed = true) =>
        TestClient.Request(operation, body, contentType, signed);

    public Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(string operation, string body) => _client.CallAsync(operation, body);

    public Task<JsonElement> OkAsync(string operation, string body) => _client.OkAsync(operation, body);

    public Task<string> ErrorMessageAsync(string operation, string body, string type) => _client.ErrorMessageAsync(operation, body, type);
}
