using Microsoft.AspNetCore.Http;
using Runnel.Core.Errors;
using Runnel.Server.Auth;

namespace Runnel.Server.Tests;

/// <summary>
/// <c>--auth sigv4</c>'s verifier against AWS's published SigV4 test suite (get-vanilla, post-vanilla: key
/// AKIDEXAMPLE, region us-east-1, service "service", 2015-08-30T12:36:00Z), and AWS's refusals: an unknown key, a
/// signature that differs, a date beyond the 15 minutes allowed; and the credentials file re-read when it changes.
/// </summary>
public sealed class SigV4VerifierTests : IDisposable
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-sigv4-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero));
    private readonly string _file;

    public SigV4VerifierTests()
    {
        Directory.CreateDirectory(_dir);
        _file = Path.Combine(_dir, "credentials");
        File.WriteAllText(_file, $"[example]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {Secret}\naccount_id = 111122223333\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SigV4Verifier Verifier() => new(new CredentialStore(_file, _clock, _ => { }), _clock);

    private static HttpRequest Request(string method, string signature, string accessKey = "AKIDEXAMPLE", string date = "20150830T123600Z")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = "/";
        context.Request.Headers.Host = "example.amazonaws.com";
        context.Request.Headers["X-Amz-Date"] = date;
        context.Request.Headers.Authorization = $"AWS4-HMAC-SHA256 Credential={accessKey}/{date[..8]}/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}";
        return context.Request;
    }

    [Theory]
    [InlineData("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")] // get-vanilla
    [InlineData("POST", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")] // post-vanilla
    public void AWSs_test_suite_signatures_verify(string method, string signature)
    {
        var credential = Verifier().Verify(Request(method, signature), ReadOnlySpan<byte>.Empty);
        Assert.Equal(("example", "111122223333"), (credential.Profile, credential.AccountId));
    }

    [Fact]
    public void A_wrong_signature_an_unknown_key_and_a_skewed_date_are_refused_as_AWS_refuses_them()
    {
        var verifier = Verifier();
        var wrong = Assert.Throws<KinesisException>(() => verifier.Verify(Request("GET", new string('0', 64)), ReadOnlySpan<byte>.Empty));
        Assert.Equal(("InvalidSignatureException", 400), (wrong.ErrorType, wrong.StatusCode));
        Assert.StartsWith("The request signature we calculated does not match the signature you provided.", wrong.Message, StringComparison.Ordinal);
        // The same signature over another body no longer matches.
        Assert.Throws<KinesisException>(() => verifier.Verify(Request("POST", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"), "{}"u8));

        var unknown = Assert.Throws<KinesisException>(() => verifier.Verify(Request("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", accessKey: "AKIDUNKNOWN"), ReadOnlySpan<byte>.Empty));
        Assert.Equal(("UnrecognizedClientException", "The security token included in the request is invalid."), (unknown.ErrorType, unknown.Message));

        _clock.Advance(TimeSpan.FromMinutes(16));
        var expired = Assert.Throws<KinesisException>(() => verifier.Verify(Request("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), ReadOnlySpan<byte>.Empty));
        Assert.Equal("InvalidSignatureException", expired.ErrorType);
        Assert.Equal("Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)", expired.Message);
    }

    [Fact]
    public async Task A_server_with_auth_sigv4_refuses_a_key_it_does_not_know_on_every_API()
    {
        await using var host = new RestartableServer(Path.Combine(_dir, "data"), TimeProvider.System,
            new RunnelOptions { Limits = new() { Enabled = false }, VerifySignatures = true, CredentialsFile = _file });
        await host.StartAsync();
        foreach (string operation in new[] { "ListStreams", "Firehose_20150804.ListDeliveryStreams", "GraniteServiceVersion20100801.ListMetrics" })
        {
            var (status, body) = await host.Client.CallAsync(operation, "{}"); // TestClient signs as key "a"
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
            Assert.EndsWith("UnrecognizedClientException", body.GetProperty("__type").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Metrics_and_the_pipeline_view_answer_only_a_key_of_the_file_signed_or_by_HTTP_Basic()
    {
        // The key is of account 111122223333: the server's own here (/metrics is the server's account's alone).
        await using var host = new RestartableServer(Path.Combine(_dir, "data"), TimeProvider.System,
            new RunnelOptions { Limits = new() { Enabled = false }, VerifySignatures = true, CredentialsFile = _file, AccountId = "111122223333" });
        await host.StartAsync();
        using var http = new HttpClient { BaseAddress = host.Server.Url };
        foreach (string path in new[] { "/metrics", "/console/api/pipeline" })
        {
            using var bare = await http.GetAsync(path);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, bare.StatusCode);
            Assert.StartsWith("Basic realm=\"runnel\"", bare.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

            Assert.Equal(System.Net.HttpStatusCode.OK, (await GetAsync(http, path, Basic("AKIDEXAMPLE", Secret))).Status);
            var wrong = await GetAsync(http, path, Basic("AKIDEXAMPLE", "not-the-secret"));
            Assert.Equal((System.Net.HttpStatusCode.BadRequest, true), (wrong.Status, wrong.Body.Contains("UnrecognizedClientException", StringComparison.Ordinal)));
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await GetAsync(http, path, Basic("AKIDUNKNOWN", Secret))).Status);

            var signed = await GetAsync(http, path, null, ("AKIDEXAMPLE", Secret));
            Assert.Equal(System.Net.HttpStatusCode.OK, signed.Status);
            var badlySigned = await GetAsync(http, path, null, ("AKIDEXAMPLE", "not-the-secret"));
            Assert.Equal((System.Net.HttpStatusCode.BadRequest, true), (badlySigned.Status, badlySigned.Body.Contains("InvalidSignatureException", StringComparison.Ordinal)));
        }
        Assert.Contains("# TYPE target_info gauge", (await GetAsync(http, "/metrics", Basic("AKIDEXAMPLE", Secret))).Body, StringComparison.Ordinal);
    }

    private static string Basic(string key, string secret) => "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{key}:{secret}"));

    private static async Task<(System.Net.HttpStatusCode Status, string Body)> GetAsync(HttpClient http, string path, string? authorization, (string Key, string Secret)? signer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (signer is var (key, secret))
            TestSigner.Sign(request, http.BaseAddress!, [], key, secret, DateTimeOffset.UtcNow);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void The_credentials_file_is_read_again_when_it_changes()
    {
        var verifier = Verifier();
        File.WriteAllText(_file, "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s3cr3t\n");
        File.SetLastWriteTimeUtc(_file, DateTime.UtcNow.AddMinutes(1));
        _clock.Advance(TimeSpan.FromSeconds(2));
        var revoked = Assert.Throws<KinesisException>(() => verifier.Verify(Request("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), ReadOnlySpan<byte>.Empty));
        Assert.Equal("UnrecognizedClientException", revoked.ErrorType);
        Assert.Throws<FormatException>(() => CredentialStore.Parse("aws_access_key_id = x", "test"));
        Assert.Equal(["K1", "K2"], CredentialStore.Parse("# keys\n[a]\naws_access_key_id=K1\naws_secret_access_key=S1\n\n[b]\naws_access_key_id = K2\naws_secret_access_key = S2\n", "test").Keys.Order());
    }
}
