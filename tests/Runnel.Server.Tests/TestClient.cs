using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>Signed-looking Kinesis calls to one server (signatures are not verified), for every server test; or, given
/// a key pair, calls signed with it (for servers started with <c>--auth sigv4</c>).</summary>
public sealed class TestClient(Uri baseAddress, (string Key, string Secret)? signer = null) : IDisposable
{
    public HttpClient Http { get; } = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(20) };

    public static HttpRequestMessage Request(string operation, string body, string contentType = "application/x-amz-json-1.1", bool signed = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        // An operation of another service comes with its target prefix (Firehose_20150804.PutRecord).
        request.Headers.TryAddWithoutValidation("X-Amz-Target", operation.Contains('.', StringComparison.Ordinal) ? operation : "Kinesis_20131202." + operation);
        if (signed)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
            request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        }
        return request;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(string operation, string body)
    {
        using var request = Request(operation, body);
        if (signer is var (key, secret))
            TestSigner.Sign(request, baseAddress, Encoding.UTF8.GetBytes(body), key, secret, DateTimeOffset.UtcNow);
        using var response = await Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<JsonElement> OkAsync(string operation, string body)
    {
        var (status, json) = await CallAsync(operation, body);
        Assert.True(status == HttpStatusCode.OK, $"{operation} answered {(int)status}: {json}");
        return json;
    }

    /// <summary>Calls an operation that must fail with HTTP 400 and <paramref name="type"/>; returns the message.</summary>
    public async Task<string> ErrorMessageAsync(string operation, string body, string type)
    {
        var (status, json) = await CallAsync(operation, body);
        Assert.True(status == HttpStatusCode.BadRequest && json.ValueKind == JsonValueKind.Object && json.GetProperty("__type").GetString() == type,
            $"{operation} answered {(int)status}: {json}");
        return json.GetProperty("message").GetString()!;
    }

    public void Dispose() => Http.Dispose();
}
