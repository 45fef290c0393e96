using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Runnel.Server;

namespace Runnel.Server.Tests;

/// <summary>One in-process server on a free port with its own data directory, shared by a test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "runnel-server-test-" + Guid.NewGuid().ToString("N"));

    public RunnelServer Server { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(20) };

    public async Task InitializeAsync()
    {
        // API-semantics tests call faster than AWS's per-shard limits allow; LimitTests covers the limits.
        Server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = DataDir, Limits = Runnel.Core.Throughput.ThroughputLimits.Off }, logging: _ => { });
        await Server.StartAsync();
        Http.BaseAddress = Server.Url;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 128)];

    /// <summary>A signed-looking Kinesis request (signatures are not verified).</summary>
    public HttpRequestMessage Request(string operation, string body, string contentType = "application/x-amz-json-1.1", bool signed = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        if (signed)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
            request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        }
        return request;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(string operation, string body)
    {
        using var response = await Http.SendAsync(Request(operation, body));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<JsonElement> OkAsync(string operation, string body)
    {
        var (status, json) = await CallAsync(operation, body);
        Assert.True(status == HttpStatusCode.OK, $"{operation} answered {(int)status}: {json}");
        return json;
    }
}
