using System.Net;
using System.Text.Json.Nodes;
using Runnel.Client.Credentials;
using Runnel.Client.Models;
using Runnel.Client.Signing;
using Runnel.Server;

namespace Runnel.Client.Tests;

/// <summary>
/// SigV4 against AWS's published vectors (the test suite's get-vanilla and post-vanilla: key AKIDEXAMPLE, us-east-1,
/// service "service", 2015-08-30T12:36:00Z; and the IAM ListUsers example of AWS's signing documentation, with its
/// derived key), and end to end: a server started with <c>--auth sigv4</c> accepts the client's Kinesis and DynamoDB
/// requests, on HTTP/2 and HTTP/1.1, in JSON and CBOR, and refuses a wrong secret with AWS's error, not retried.
/// </summary>
public sealed class SigV4SignerTests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static Dictionary<string, string> Headers(params (string Name, string Value)[] headers) => headers.ToDictionary(h => h.Name, h => h.Value);

    [Theory]
    [InlineData("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")] // get-vanilla
    [InlineData("POST", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")] // post-vanilla
    public void AWSs_test_suite_vectors_sign_alike(string method, string expected)
    {
        var signer = new SigV4Signer();
        string signature = signer.Signature(method, new Uri("https://example.amazonaws.com/"),
            Headers(("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")), EmptyHash, Secret, "20150830T123600Z", "us-east-1", "service", out string scope);
        Assert.Equal((expected, "20150830/us-east-1/service/aws4_request"), (signature, scope));

        // The same through Sign, which adds the date and the Authorization header itself.
        using var request = new HttpRequestMessage(new HttpMethod(method), "https://example.amazonaws.com/");
        signer.Sign(request, [], new AwsCredentials("AKIDEXAMPLE", Secret), "us-east-1", "service", new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero));
        Assert.Equal($"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={expected}",
            request.Headers.GetValues("Authorization").Single());
        Assert.Equal("20150830T123600Z", request.Headers.GetValues("X-Amz-Date").Single());
    }

    [Fact]
    public void AWSs_documented_IAM_example_derives_the_same_key_canonical_request_and_signature()
    {
        var signer = new SigV4Signer();
        Assert.Equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9", Convert.ToHexStringLower(signer.SigningKey(Secret, "20150830", "us-east-1", "iam")));
        var uri = new Uri("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08");
        var headers = Headers(("content-type", "application/x-www-form-urlencoded; charset=utf-8"), ("host", "iam.amazonaws.com"), ("x-amz-date", "20150830T123600Z"));
        string canonical = SigV4Signer.CanonicalRequest("GET", uri, headers, EmptyHash);
        Assert.Equal("GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n" + EmptyHash, canonical);
        Assert.Equal("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            signer.Signature("GET", uri, headers, EmptyHash, Secret, "20150830T123600Z", "us-east-1", "iam", out _));
    }

    [Fact]
    public void A_session_token_the_target_and_the_content_type_are_signed_and_paths_are_encoded_twice()
    {
        var signer = new SigV4Signer(addContentSha256Header: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://localhost:4567/") { Content = new ByteArrayContent("{}"u8.ToArray()) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202.ListStreams");
        signer.Sign(request, "{}"u8, new AwsCredentials("ASIAKEY", Secret, "the-token"), "eu-west-1", "kinesis", DateTimeOffset.UnixEpoch.AddDays(20000));
        string authorization = request.Headers.GetValues("Authorization").Single();
        Assert.Contains("Credential=ASIAKEY/20241004/eu-west-1/kinesis/aws4_request", authorization, StringComparison.Ordinal);
        Assert.Contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target,", authorization, StringComparison.Ordinal);
        Assert.Equal("the-token", request.Headers.GetValues("X-Amz-Security-Token").Single());
        Assert.Equal("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", request.Headers.GetValues("X-Amz-Content-SHA256").Single());

        Assert.StartsWith("POST\n/a%2520b/c\n", SigV4Signer.CanonicalRequest("POST", new Uri("http://h/a%20b/c"), Headers(("host", "h")), EmptyHash), StringComparison.Ordinal);
        Assert.Contains("\nb=%20x&b=y&z=1\n", SigV4Signer.CanonicalRequest("GET", new Uri("http://h/?z=1&b=y&b=%20x"), Headers(("host", "h")), EmptyHash), StringComparison.Ordinal);
    }

    [Fact(Timeout = 90_000)]
    public async Task A_server_checking_signatures_accepts_the_clients_requests_and_refuses_a_wrong_secret()
    {
        string dir = Path.Combine(Path.GetTempPath(), "runnel-client-sigv4-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "credentials");
            File.WriteAllText(file, $"[example]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {Secret}\n");
            await using var host = await RunnelHost.StartAsync(new RunnelOptions
            {
                Limits = Runnel.Core.Throughput.ThroughputLimits.Off,
                VerifySignatures = true,
                CredentialsFile = file,
            });
            var right = new StaticCredentialsProvider("AKIDEXAMPLE", Secret);
            string stream = RunnelHost.UniqueName("signed");
            foreach (var (protocol, http2) in new[] { (KinesisProtocol.Json11, true), (KinesisProtocol.Cbor, true), (KinesisProtocol.Json11, false), (KinesisProtocol.Cbor, false) })
            {
                using var client = host.Kinesis(protocol, http2, right);
                if (protocol == KinesisProtocol.Json11 && http2)
                    await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
                var put = await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = new byte[] { 1, 2, 3 }, PartitionKey = "p" });
                Assert.Equal("shardId-000000000000", put.ShardId);
            }

            using var wrong = host.Kinesis(credentials: new StaticCredentialsProvider("AKIDEXAMPLE", "not-the-secret"));
            var refused = await Assert.ThrowsAsync<KinesisException>(() => wrong.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = stream }));
            Assert.Equal(("InvalidSignatureException", HttpStatusCode.BadRequest, false), (refused.ErrorCode, refused.StatusCode, refused.IsRetryable));
            Assert.StartsWith("The request signature we calculated does not match", refused.Message, StringComparison.Ordinal);
            using var unknown = host.Kinesis(credentials: new StaticCredentialsProvider("AKIDUNKNOWN", Secret));
            Assert.Equal("UnrecognizedClientException", (await Assert.ThrowsAsync<KinesisException>(() => unknown.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = stream }))).ErrorCode);

            using var dynamo = host.DynamoDb(right);
            var tables = await dynamo.SendAsync("ListTables", new JsonObject());
            Assert.NotNull(tables["TableNames"]);
            using var wrongDynamo = host.DynamoDb(new StaticCredentialsProvider("AKIDEXAMPLE", "not-the-secret"));
            var refusedDynamo = await Assert.ThrowsAsync<DynamoDbException>(() => wrongDynamo.SendAsync("ListTables", new JsonObject()));
            Assert.Equal("InvalidSignatureException", refusedDynamo.ErrorCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
