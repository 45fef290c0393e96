using System.Net;
using System.Text;

namespace Runnel.Console.Tests;

/// <summary>The console's files as HTTP serves them, without a browser.</summary>
public sealed class EndpointTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    [Fact(Timeout = 30_000)]
    public async Task Root_is_the_console_page_with_a_strict_content_security_policy()
    {
        using var response = await server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.StartsWith("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
        string html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"/console/app.js\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal); // no external fetches
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", html); // no inline handlers: the policy would refuse them
    }

    [Theory(Timeout = 30_000)]
    [InlineData("app.js", "text/javascript; charset=utf-8")]
    [InlineData("sigv4.js", "text/javascript; charset=utf-8")]
    [InlineData("data.js", "text/javascript; charset=utf-8")]
    [InlineData("pipeline.js", "text/javascript; charset=utf-8")]
    [InlineData("console.css", "text/css; charset=utf-8")]
    [InlineData("index.html", "text/html; charset=utf-8")]
    public async Task Every_file_is_served_with_its_type_and_an_etag(string file, string type)
    {
        using var response = await server.Http.GetAsync("/console/" + file);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType!.ToString());
        Assert.NotNull(response.Headers.ETag);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/console/" + file);
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var cached = await server.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
        using var head = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/console/" + file));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(response.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
    }

    [Fact(Timeout = 30_000)]
    public async Task No_script_imports_anything_but_our_own_files()
    {
        foreach (string file in Runnel.Server.Console.ConsoleEndpoint.Files.Where(f => f.EndsWith(".js", StringComparison.Ordinal)))
        {
            string script = await server.Http.GetStringAsync("/console/" + file);
            foreach (var import in System.Text.RegularExpressions.Regex.Matches(script, @"from '([^']+)'").Select(m => m.Groups[1].Value))
            {
                Assert.StartsWith("./", import, StringComparison.Ordinal);
                Assert.Contains(import[2..], Runnel.Server.Console.ConsoleEndpoint.Files);
            }
            Assert.True(script.Split('\n').Length <= 500, $"{file} is over 500 lines");
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/console/nope.js")]
    [InlineData("/console/")]
    [InlineData("/console/app.js.map")]
    [InlineData("/console/api/unknown")]
    public async Task Unknown_files_are_404(string path)
    {
        using var response = await server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task Posts_to_the_root_stay_the_Kinesis_APIs()
    {
        using var unsigned = await server.Http.PostAsync("/", new StringContent("{}", Encoding.UTF8, "application/x-amz-json-1.1"));
        Assert.NotEqual(HttpStatusCode.OK, unsigned.StatusCode);
        Assert.DoesNotContain("<!doctype html>", await unsigned.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        var answer = await server.KinesisAsync("ListStreams", new { });
        Assert.Equal(System.Text.Json.JsonValueKind.Array, answer.GetProperty("StreamNames").ValueKind);
        // An API call by GET (it names an operation, or is signed) is still the API's to refuse, as on AWS.
        foreach (var (header, value) in new[] { ("X-Amz-Target", "Kinesis_20131202.ListStreams"), ("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc") })
        {
            using var apiGet = new HttpRequestMessage(HttpMethod.Get, "/");
            apiGet.Headers.TryAddWithoutValidation(header, value);
            using var denied = await server.Http.SendAsync(apiGet);
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Contains("<AccessDeniedException>", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}

/// <summary><c>--console off</c>: the page and its files are gone, and GET / answers as before the console.</summary>
public sealed class ConsoleOffTests(ConsoleOffServer off) : IClassFixture<ConsoleOffServer>
{
    [Fact(Timeout = 30_000)]
    public async Task Nothing_of_the_console_is_served()
    {
        using var root = await off.Server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Forbidden, root.StatusCode); // the Kinesis API's answer, as before the console
        Assert.Contains("<AccessDeniedException>", await root.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var script = await off.Server.Http.GetAsync("/console/app.js");
        Assert.NotEqual(HttpStatusCode.OK, script.StatusCode);
        await off.Server.KinesisAsync("ListStreams", new { });
    }
}
