using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Runnel.Server;

namespace Runnel.Console.Tests;

/// <summary>One in-process server (limits off, its own data directory) on a free loopback port, with a client for the
/// APIs the tests call besides the page. Stopped and deleted when its tests end.</summary>
public sealed class ConsoleServer : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "runnel-console-test-" + Guid.NewGuid().ToString("N"));

    public RunnelServer Server { get; private set; } = null!;

    public Uri Url => Server.Url;

    public HttpClient Http => _http;

    /// <summary>What the server is started with; a subclass may change it.</summary>
    internal Func<RunnelOptions, RunnelOptions> Configure { get; init; } = o => o;

    public async Task InitializeAsync()
    {
        Server = RunnelServer.Create(Configure(new RunnelOptions { Port = 0, DataDir = DataDir, Limits = Runnel.Core.Throughput.ThroughputLimits.Off }), logging: _ => { });
        await Server.StartAsync();
        _http.BaseAddress = Server.Url;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    /// <summary>Calls a Kinesis operation with a signature of the shape Runnel checks today; throws unless it answers 200.</summary>
    public async Task<JsonElement> KinesisAsync(string operation, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{operation}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<string> CreateStreamAsync(string prefix, int shards = 1)
    {
        string name = UniqueName(prefix);
        await KinesisAsync("CreateStream", new { StreamName = name, ShardCount = shards });
        return name;
    }

    public Task<JsonElement> PutAsync(string stream, string key, string data) =>
        KinesisAsync("PutRecord", new { StreamName = stream, PartitionKey = key, Data = Convert.ToBase64String(Encoding.UTF8.GetBytes(data)) });
}

/// <summary>The same with <c>--console off</c>.</summary>
public sealed class ConsoleOffServer : IAsyncLifetime
{
    private readonly ConsoleServer _server = new() { Configure = o => o with { Console = false } };

    public ConsoleServer Server => _server;

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();
}
