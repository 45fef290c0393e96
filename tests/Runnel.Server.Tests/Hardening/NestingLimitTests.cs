using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Runnel.Server.Tests.Hardening;

/// <summary>
/// How deep a request body may nest is a setting (<c>--max-nesting-depth</c>, 64 by default; Kinesis's deepest shape
/// has 5): deeper JSON or CBOR is refused with SerializationException before anything reads it, and a server set low
/// still takes every real request.
/// </summary>
public sealed class NestingLimitTests
{
    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(RunnelServer server, string operation, byte[] body, bool cbor)
    {
        using var http = new HttpClient { BaseAddress = server.Url };
        using var request = TestClient.Request(operation, "", cbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1");
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(cbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1");
        using var response = await http.SendAsync(request);
        return (response.StatusCode, Encoding.Latin1.GetString(await response.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>{"StreamName": "deep", "Nested": [[…[1]…]]} with <paramref name="depth"/> levels in all, as JSON (a member
    /// the operation does not have is passed over, as AWS does).</summary>
    private static byte[] Json(int depth) =>
        Encoding.UTF8.GetBytes("{\"StreamName\":\"deep\",\"Nested\":" + new string('[', depth - 1) + "1" + new string(']', depth - 1) + "}");

    /// <summary>The same as CBOR: a map whose second member is arrays of one element, nested.</summary>
    private static byte[] Cbor(int depth) =>
        [0xA2, 0x6A, .. "StreamName"u8, 0x64, .. "deep"u8, 0x66, .. "Nested"u8, .. Enumerable.Repeat((byte)0x81, depth - 1), 0x01];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_deeper_than_the_setting_is_refused_and_real_requests_pass_a_low_setting(bool cbor)
    {
        string dir = Path.Combine(Path.GetTempPath(), "runnel-nesting-" + Guid.NewGuid().ToString("N"));
        var server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = dir, Limits = new() { Enabled = false }, MaxNestingDepth = 8 }, logging: _ => { });
        try
        {
            await server.StartAsync();
            using var client = new TestClient(server.Url);
            await client.OkAsync("CreateStream", """{"StreamName":"deep","ShardCount":1,"Tags":{"k":"v"}}""");
            foreach (int depth in new[] { 9, 200 })
            {
                var (status, body) = await SendAsync(server, "DescribeStreamSummary", cbor ? Cbor(depth) : Json(depth), cbor);
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.Contains("SerializationException", body, StringComparison.Ordinal);
            }
            // At the limit the body is read and answered.
            var (atLimit, answer) = await SendAsync(server, "DescribeStreamSummary", cbor ? Cbor(8) : Json(8), cbor);
            Assert.True(atLimit == HttpStatusCode.OK, answer);

            // The deepest real requests (PutRecords' records, tags, a shard filter) pass 8 levels.
            await client.OkAsync("PutRecords", """{"StreamName":"deep","Records":[{"PartitionKey":"k","Data":"AA=="}]}""");
            await client.OkAsync("ListShards", """{"StreamName":"deep","ShardFilter":{"Type":"AT_LATEST"}}""");
        }
        finally
        {
            await server.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
