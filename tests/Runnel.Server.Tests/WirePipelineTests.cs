using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Runnel.Server.Tests;

/// <summary>The HTTP-level checks, in AWS's order, with AWS's statuses and bodies (docs/compatibility.md).</summary>
public class WirePipelineTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> Send(HttpRequestMessage request)
    {
        var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Fact(Timeout = 20000)]
    public async Task Health_answers_200()
    {
        var (status, body, _) = await Send(new HttpRequestMessage(HttpMethod.Get, "/health"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("ok", body, StringComparison.Ordinal);
    }

    [Fact(Timeout = 20000)]
    public async Task Every_response_carries_request_ids()
    {
        var (_, _, response) = await Send(server.Request("ListStreams", "{}"));
        Assert.True(Guid.TryParse(response.Headers.GetValues("x-amzn-RequestId").Single(), out _));
        Assert.Equal(72, Convert.FromBase64String(response.Headers.GetValues("x-amz-id-2").Single()).Length);
        Assert.Equal("application/x-amz-json-1.1", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact(Timeout = 20000)]
    public async Task Unsigned_requests_get_missing_authentication_token()
    {
        var (status, body, _) = await Send(server.Request("ListStreams", "{}", signed: false));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("""{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}""", body);
    }

    [Fact(Timeout = 20000)]
    public async Task Incomplete_signatures_list_what_is_missing()
    {
        var request = server.Request("ListStreams", "{}", signed: false);
        request.Headers.TryAddWithoutValidation("Authorization", "X");
        var (status, body, _) = await Send(request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(
            """{"__type":"IncompleteSignatureException","message":"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=X"}""",
            body);
    }

    [Fact(Timeout = 20000)]
    public async Task Unknown_operations_get_unknown_operation_exception()
    {
        var (status, body, _) = await Send(server.Request("ListStream", "{}"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("""{"__type":"UnknownOperationException"}""", body);
    }

    [Theory(Timeout = 20000)]
    [InlineData("{")]
    [InlineData("hello")]
    [InlineData("1")]
    [InlineData("{\"StreamName\":\"\\ud800\"}")] // half a surrogate pair is not text
    public async Task Malformed_bodies_get_a_bare_serialization_exception(string body)
    {
        var (status, text, _) = await Send(server.Request("ListStreams", body));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("""{"__type":"SerializationException"}""", text);
    }

    [Fact(Timeout = 20000)]
    public async Task Empty_json_body_is_a_json_serialization_exception()
    {
        var (status, text, _) = await Send(server.Request("ListStreams", ""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("""{"__type":"SerializationException"}""", text);
    }

    [Fact(Timeout = 20000)]
    public async Task Empty_body_with_another_content_type_gets_a_cbor_error()
    {
        var (status, _, response) = await Send(server.Request("ListStreams", "", "application/x-amz-cbor-1.1"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/x-amz-cbor-1.1", response.Content.Headers.ContentType!.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(0xBF, bytes[0]);
        Assert.Contains("SerializationException", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact(Timeout = 20000)]
    public async Task Wrong_content_type_with_a_known_target_is_404_unknown_operation()
    {
        var (status, body, response) = await Send(server.Request("ListStreams", "{}", "text/plain"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("<UnknownOperationException/>\n", body);
        Assert.Null(response.Content.Headers.ContentType);
    }

    [Fact(Timeout = 20000)]
    public async Task Non_post_methods_are_access_denied()
    {
        // GET / is the web console's (tests/Runnel.Console.Tests; with --console off it is denied as here).
        foreach (var (method, path) in new[] { (HttpMethod.Put, "/"), (HttpMethod.Delete, "/"), (HttpMethod.Get, "/streams") })
        {
            var (status, body, _) = await Send(new HttpRequestMessage(method, path));
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Equal("<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n", body);
        }
    }

    [Fact(Timeout = 20000)]
    public async Task Plain_json_content_type_gets_the_coral_envelope()
    {
        var (status, body, _) = await Send(server.Request("ListStreams", "{}", "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("""{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}""", body);
    }

    [Fact(Timeout = 20000)]
    public async Task Oversized_bodies_get_413()
    {
        var huge = new string(' ', (int)server.Server.Options.MaxRequestBytes + 10);
        var (status, _, _) = await Send(server.Request("PutRecords", huge));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
    }

    [Fact(Timeout = 20000)]
    public async Task Cors_preflight_is_answered()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/");
        request.Headers.TryAddWithoutValidation("Origin", "http://localhost:3000");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", "x-amz-target");
        var (status, _, response) = await Send(request);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("x-amz-target", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
    }

    [Fact(Timeout = 20000)]
    public async Task Http2_with_prior_knowledge_is_served_on_the_same_port()
    {
        using var http2 = new HttpClient { BaseAddress = server.Server.Url, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var request = server.Request("ListStreams", "{}");
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var response = await http2.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("StreamNames", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 20000)]
    public async Task Type_errors_use_a_capital_m_message_field()
    {
        var (status, body, _) = await Send(server.Request("DescribeStream", """{"StreamName":1}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("""{"__type":"SerializationException","Message":"class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"}""", body);
    }

    [Fact(Timeout = 20000)]
    public async Task Operations_without_output_answer_an_empty_body()
    {
        string name = ServerFixture.UniqueName("empty");
        var (_, body, response) = await Send(server.Request("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":1}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", body);
        Assert.Equal(0, response.Content.Headers.ContentLength);
        await server.OkAsync("DeleteStream", $$"""{"StreamName":"{{name}}"}""");
    }
}
