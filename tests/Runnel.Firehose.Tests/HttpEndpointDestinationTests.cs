using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;

namespace Runnel.Firehose.Tests;

/// <summary>
/// Firehose's HTTP endpoint contract against a real HTTP server the test starts on a loopback port: what a request
/// carries, and which answers count as delivered, to be retried, or permanent.
/// </summary>
public sealed class HttpEndpointDestinationTests : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _http = new();
    private readonly ConcurrentQueue<(NameValueCollectionCopy Headers, byte[] Body)> _received = new();
    private readonly Task _serving;
    private readonly string _url;
    private Func<string, (int Status, string? ContentType, string Body)> _answer = id => (200, "application/json", $$"""{"requestId":"{{id}}","timestamp":1578090903599}""");

    public sealed record NameValueCollectionCopy(Dictionary<string, string> Values)
    {
        public string? this[string name] => Values.GetValueOrDefault(name.ToLowerInvariant());
    }

    public HttpEndpointDestinationTests()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/ingest/";
        }
        _listener.Prefixes.Add(_url);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }
        _http.Dispose();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!);
            _received.Enqueue((new NameValueCollectionCopy(headers), body.ToArray()));
            var (status, contentType, answer) = _answer(headers.GetValueOrDefault("x-amz-firehose-request-id") ?? "");
            context.Response.StatusCode = status;
            if (contentType is not null)
                context.Response.ContentType = contentType;
            byte[] bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private static DeliveryBatch Batch(params string[] records)
    {
        var buffers = new DeliveryBuffers(new BufferingHints(1, 0));
        ulong position = 0;
        foreach (string record in records)
            buffers.Add("", new SourceRecord(0, position++, 1_700_000_000_000, Encoding.UTF8.GetBytes(record)), 0);
        return Assert.Single(buffers.TakeDue(0));
    }

    private HttpEndpointDestination Destination(bool gzip = false) => new(_http, new HttpEndpointSettings(new Uri(_url + "?token=1"),
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders", "secret-key", new Dictionary<string, string> { ["team"] = "data" }, gzip));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_request_carries_the_records_and_headers_AWS_sends(bool gzip)
    {
        var outcome = await Destination(gzip).SendAsync(Batch("hello", "", "hello world"), "43b8e724-dbac-4510-adb7-ef211c6044b9", 1_578_090_901_599);
        Assert.Equal(HttpDeliveryResult.Delivered, outcome.Result);
        var (headers, raw) = Assert.Single(_received);
        Assert.Equal("1.0", headers["X-Amz-Firehose-Protocol-Version"]);
        Assert.Equal("43b8e724-dbac-4510-adb7-ef211c6044b9", headers["X-Amz-Firehose-Request-Id"]);
        Assert.Equal("arn:aws:firehose:us-east-1:000000000000:deliverystream/orders", headers["X-Amz-Firehose-Source-Arn"]);
        Assert.Equal("secret-key", headers["X-Amz-Firehose-Access-Key"]);
        Assert.Equal("""{"commonAttributes":{"team":"data"}}""", headers["X-Amz-Firehose-Common-Attributes"]);
        Assert.Equal("application/json", headers["Content-Type"]);
        Assert.Equal(gzip ? "gzip" : null, headers["Content-Encoding"]);
        byte[] body = gzip ? Inflate(raw) : raw;
        using var json = JsonDocument.Parse(body);
        Assert.Equal("43b8e724-dbac-4510-adb7-ef211c6044b9", json.RootElement.GetProperty("requestId").GetString());
        Assert.Equal(1_578_090_901_599, json.RootElement.GetProperty("timestamp").GetInt64());
        Assert.Equal(["aGVsbG8=", "", "aGVsbG8gd29ybGQ="], json.RootElement.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("data").GetString()));
    }

    [Theory]
    [InlineData(200, "application/json", """{"requestId":"other","timestamp":1}""", HttpDeliveryResult.Retry, "HttpEndpoint.InvalidResponseFromDestination")]
    [InlineData(200, "application/json", """{"requestId":"ID","timestamp":"1578090903599"}""", HttpDeliveryResult.Retry, "HttpEndpoint.InvalidResponseFromDestination")]
    [InlineData(200, "application/json", """{"requestId":null,"timestamp":1}""", HttpDeliveryResult.Retry, "HttpEndpoint.InvalidResponseFromDestination")]
    [InlineData(200, "text/plain", """{"requestId":"ID","timestamp":1}""", HttpDeliveryResult.Retry, "HttpEndpoint.InvalidResponseFromDestination")]
    [InlineData(200, "application/json; charset=utf-8", """{"requestId":"ID","timestamp":1,"errorMessage":""}""", HttpDeliveryResult.Delivered, null)]
    [InlineData(201, "application/json", """{"requestId":"ID","timestamp":1}""", HttpDeliveryResult.Retry, "HttpEndpoint.ResponseReceivedStatusCode")]
    [InlineData(500, "application/json", """{"requestId":"ID","timestamp":1,"errorMessage":"disk full"}""", HttpDeliveryResult.Retry, "HttpEndpoint.ResponseReceivedStatusCode")]
    [InlineData(400, null, "", HttpDeliveryResult.Retry, "HttpEndpoint.ResponseReceivedStatusCode")]
    [InlineData(413, "application/json", """{"requestId":"ID","timestamp":1,"errorMessage":"too big"}""", HttpDeliveryResult.Permanent, "HttpEndpoint.ResponseReceivedStatusCode")]
    public async Task Only_a_200_that_echoes_the_request_id_is_a_delivery_and_only_a_413_is_final(int status, string? contentType, string answer, HttpDeliveryResult expected, string? code)
    {
        _answer = id => (status, contentType, answer.Replace("\"ID\"", $"\"{id}\"", StringComparison.Ordinal));
        var outcome = await Destination().SendAsync(Batch("x"), Guid.NewGuid().ToString(), 1);
        Assert.Equal((expected, code), (outcome.Result, outcome.ErrorCode));
        if (answer.Contains("errorMessage\":\"d", StringComparison.Ordinal) || answer.Contains("too big", StringComparison.Ordinal))
            Assert.Contains(status == 413 ? "too big" : "disk full", outcome.ErrorMessage);
    }

    [Fact]
    public async Task An_endpoint_that_is_not_there_is_to_be_retried()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop(); // nothing listens there now
        var destination = new HttpEndpointDestination(_http, new HttpEndpointSettings(new Uri($"http://127.0.0.1:{port}/"), "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders"));
        var outcome = await destination.SendAsync(Batch("x"), "id", 1);
        Assert.Equal((HttpDeliveryResult.Retry, "HttpEndpoint.ConnectionFailed"), (outcome.Result, outcome.ErrorCode));
    }

    private static byte[] Inflate(byte[] gzip)
    {
        using var stream = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        var output = new MemoryStream();
        stream.CopyTo(output);
        return output.ToArray();
    }
}
