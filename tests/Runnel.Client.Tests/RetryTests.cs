using System.Net;
using System.Text;
using Runnel.Client.Credentials;
using Runnel.Client.Internal.Http;
using Runnel.Client.Models;

namespace Runnel.Client.Tests;

/// <summary>
/// The retry policy, through a stub HTTP handler that answers what each test scripts: throttling and 5xx retried until
/// they succeed or the attempts are spent, other errors and PutRecords' partial failures not retried, transport failures
/// retried; and the backoffs within full jitter's bounds, seen through an injected random source and wait (no timing).
/// </summary>
public sealed class RetryTests
{
    private sealed class StubHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] answers) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            var answer = answers[Math.Min(Requests.Count - 1, answers.Length - 1)];
            return Task.FromResult(answer(request));
        }
    }

    private static Func<HttpRequestMessage, HttpResponseMessage> Answer(HttpStatusCode status, string json) => _ =>
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/x-amz-json-1.1") };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.1");
        response.Headers.TryAddWithoutValidation("x-amzn-RequestId", "req-" + (int)status);
        return response;
    };

    private static readonly Func<HttpRequestMessage, HttpResponseMessage> Throttled =
        Answer(HttpStatusCode.BadRequest, """{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard shardId-000000000000."}""");

    private static readonly Func<HttpRequestMessage, HttpResponseMessage> Stored =
        Answer(HttpStatusCode.OK, """{"ShardId":"shardId-000000000000","SequenceNumber":"49590338271490256608559692538361571095921575989136588898"}""");

    private readonly List<TimeSpan> _waits = [];

    private KinesisClient Client(StubHandler handler, RetryOptions retry, double random = 0.5) =>
        new(new KinesisClientOptions
        {
            Endpoint = new Uri("http://stub.invalid/"),
            Region = "us-east-1",
            Credentials = new StaticCredentialsProvider("AKID", "secret"),
            HttpHandler = handler,
            Retry = retry,
        }, new RetryPolicy(retry, () => random, (wait, _) =>
        {
            _waits.Add(wait);
            return Task.CompletedTask;
        }));

    private static PutRecordRequest Put => new() { StreamName = "s", Data = new byte[] { 1 }, PartitionKey = "p" };

    [Fact(Timeout = 10_000)]
    public async Task A_throttled_call_is_retried_and_then_succeeds()
    {
        var handler = new StubHandler(Throttled, Throttled, Stored);
        using var client = Client(handler, new RetryOptions { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(100) });
        var stored = await client.PutRecordAsync(Put);
        Assert.Equal("shardId-000000000000", stored.ShardId);
        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal([TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100)], _waits); // half of 100 ms, then of 200 ms
        // Each attempt is signed anew.
        Assert.All(handler.Requests, r => Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKID/", r.Headers.GetValues("Authorization").Single(), StringComparison.Ordinal));
    }

    [Fact(Timeout = 10_000)]
    public async Task Throttling_and_5xx_are_thrown_once_the_attempts_are_spent()
    {
        var handler = new StubHandler(Throttled);
        using var client = Client(handler, new RetryOptions { MaxAttempts = 4 });
        var error = await Assert.ThrowsAsync<KinesisException>(() => client.PutRecordAsync(Put));
        Assert.Equal(("ProvisionedThroughputExceededException", HttpStatusCode.BadRequest, true, "req-400"), (error.ErrorCode, error.StatusCode, error.IsRetryable, error.RequestId));
        Assert.Equal(4, handler.Requests.Count);

        var unavailable = new StubHandler(Answer(HttpStatusCode.ServiceUnavailable, ""), Stored);
        using var second = Client(unavailable, new RetryOptions { MaxAttempts = 2 });
        await second.PutRecordAsync(Put);
        Assert.Equal(2, unavailable.Requests.Count);

        var failing = new StubHandler(Answer(HttpStatusCode.InternalServerError, """{"__type":"InternalFailure"}"""));
        using var third = Client(failing, RetryOptions.None);
        var internalFailure = await Assert.ThrowsAsync<KinesisException>(() => third.PutRecordAsync(Put));
        Assert.Equal(("InternalFailure", true), (internalFailure.ErrorCode, internalFailure.IsRetryable));
        Assert.Single(failing.Requests);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_client_error_is_not_retried()
    {
        var handler = new StubHandler(Answer(HttpStatusCode.BadRequest, """{"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error detected"}"""), Stored);
        using var client = Client(handler, new RetryOptions { MaxAttempts = 5 });
        var error = await Assert.ThrowsAsync<KinesisException>(() => client.PutRecordAsync(Put));
        Assert.Equal(("ValidationException", "1 validation error detected", false), (error.ErrorCode, error.Message, error.IsRetryable));
        Assert.Single(handler.Requests);
        Assert.Empty(_waits);
    }

    [Fact(Timeout = 10_000)]
    public async Task PutRecords_partial_failures_are_returned_not_retried()
    {
        var handler = new StubHandler(Answer(HttpStatusCode.OK, """
            {"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},
            {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded"}]}
            """));
        using var client = Client(handler, new RetryOptions { MaxAttempts = 5 });
        var answer = await client.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = "s",
            Records = [new PutRecordsRequestEntry { Data = new byte[] { 1 }, PartitionKey = "a" }, new PutRecordsRequestEntry { Data = new byte[] { 2 }, PartitionKey = "b" }],
        });
        Assert.Equal(1, answer.FailedRecordCount);
        Assert.Equal([true, false], answer.Records.Select(r => r.Succeeded));
        Assert.Equal("ProvisionedThroughputExceededException", answer.Records[1].ErrorCode);
        Assert.Single(handler.Requests);
    }

    [Fact(Timeout = 10_000)]
    public async Task Transport_failures_are_retried_and_then_thrown_with_the_cause()
    {
        var handler = new StubHandler(_ => throw new HttpRequestException("connection refused"), Stored);
        using var client = Client(handler, new RetryOptions { MaxAttempts = 2 });
        await client.PutRecordAsync(Put);
        Assert.Equal(2, handler.Requests.Count);

        var broken = new StubHandler(_ => throw new HttpRequestException("connection refused"));
        using var failing = Client(broken, new RetryOptions { MaxAttempts = 3 });
        var error = await Assert.ThrowsAsync<KinesisException>(() => failing.PutRecordAsync(Put));
        Assert.Equal(("RequestFailed", (HttpStatusCode)0, true), (error.ErrorCode, error.StatusCode, error.IsRetryable));
        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Equal(3, broken.Requests.Count);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_DynamoDB_answer_that_fails_its_CRC32_is_retried()
    {
        static Func<HttpRequestMessage, HttpResponseMessage> Crc(string crc) => _ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"TableNames":[]}""", Encoding.UTF8, "application/x-amz-json-1.0") };
            response.Headers.TryAddWithoutValidation("x-amz-crc32", crc);
            return response;
        };
        string right = Runnel.Client.Internal.Crc32.Compute("""{"TableNames":[]}"""u8).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var handler = new StubHandler(Crc("12345"), Crc(right));
        var retry = new RetryOptions { MaxAttempts = 3 };
        using var client = new DynamoDbClient(new DynamoDbClientOptions
        {
            Endpoint = new Uri("http://stub.invalid/"),
            Credentials = new StaticCredentialsProvider("AKID", "secret"),
            HttpHandler = handler,
            Retry = retry,
        }, new RetryPolicy(retry, () => 0, (_, _) => Task.CompletedTask));
        var tables = await client.SendAsync("ListTables", new System.Text.Json.Nodes.JsonObject());
        Assert.NotNull(tables["TableNames"]);
        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal("DynamoDB_20120810.ListTables", handler.Requests[0].Headers.GetValues("X-Amz-Target").Single());
        Assert.Equal("application/x-amz-json-1.0", handler.Requests[0].Content!.Headers.ContentType!.MediaType);
        Assert.Contains("/dynamodb/aws4_request", handler.Requests[0].Headers.GetValues("Authorization").Single(), StringComparison.Ordinal);

        var damaged = new StubHandler(Crc("12345"));
        using var failing = new DynamoDbClient(new DynamoDbClientOptions
        {
            Endpoint = new Uri("http://stub.invalid/"),
            Credentials = new StaticCredentialsProvider("AKID", "secret"),
            HttpHandler = damaged,
            Retry = RetryOptions.None,
        });
        var error = await Assert.ThrowsAsync<DynamoDbException>(() => failing.SendAsync("ListTables", new System.Text.Json.Nodes.JsonObject()));
        Assert.Equal(("CRC32CheckFailed", true), (error.ErrorCode, error.IsRetryable));
    }

    /// <summary>Answers nothing until the request is cancelled.</summary>
    private sealed class SilentHandler : HttpMessageHandler
    {
        public int Calls;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task An_attempt_past_the_request_timeout_is_retried_and_then_thrown_as_RequestTimeout()
    {
        var handler = new SilentHandler();
        var retry = new RetryOptions { MaxAttempts = 2 };
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Endpoint = new Uri("http://stub.invalid/"),
            Credentials = new StaticCredentialsProvider("AKID", "secret"),
            HttpHandler = handler,
            RequestTimeout = TimeSpan.FromMilliseconds(50),
            Retry = retry,
        }, new RetryPolicy(retry, () => 0, (_, _) => Task.CompletedTask));
        var error = await Assert.ThrowsAsync<KinesisException>(() => client.PutRecordAsync(Put));
        Assert.Equal(("RequestTimeout", true), (error.ErrorCode, error.IsRetryable));
        Assert.Equal(2, handler.Calls);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_call_the_caller_cancels_is_cancelled_not_retried()
    {
        var handler = new SilentHandler();
        using var silent = new KinesisClient(new KinesisClientOptions
        {
            Endpoint = new Uri("http://stub.invalid/"),
            Credentials = new StaticCredentialsProvider("AKID", "secret"),
            HttpHandler = handler,
            Retry = new RetryOptions { MaxAttempts = 5 },
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => silent.PutRecordAsync(Put, cancel.Token));
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public void Backoffs_lie_within_full_jitters_bounds_and_stop_growing_at_the_maximum()
    {
        var options = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };
        Assert.Equal([100d, 200d, 400d, 800d, 1000d, 1000d], Enumerable.Range(0, 6).Select(r => new RetryPolicy(options).Ceiling(r).TotalMilliseconds));
        foreach (double random in new[] { 0.0, 0.25, 0.999999 })
        {
            var policy = new RetryPolicy(options, () => random);
            for (int retry = 0; retry < 40; retry++)
            {
                var backoff = policy.Backoff(retry);
                Assert.InRange(backoff, TimeSpan.Zero, policy.Ceiling(retry));
                Assert.Equal(policy.Ceiling(retry).TotalMilliseconds * random, backoff.TotalMilliseconds, 3);
            }
        }
        // The default random source stays within the bounds too.
        var real = new RetryPolicy(options);
        for (int i = 0; i < 1000; i++)
            Assert.InRange(real.Backoff(i % 8), TimeSpan.Zero, real.Ceiling(i % 8));
    }

    [Theory]
    [InlineData("ProvisionedThroughputExceededException", 400, true)]
    [InlineData("LimitExceededException", 400, true)]
    [InlineData("ThrottlingException", 400, true)]
    [InlineData("RequestLimitExceeded", 400, true)]
    [InlineData("KMSThrottlingException", 400, true)]
    [InlineData("InternalFailure", 500, true)]
    [InlineData("ServiceUnavailable", 503, true)]
    [InlineData("Anything", 502, true)]
    [InlineData("ResourceNotFoundException", 400, false)]
    [InlineData("ConditionalCheckFailedException", 400, false)]
    [InlineData("InvalidSignatureException", 400, false)]
    [InlineData("ExpiredIteratorException", 400, false)]
    public void Which_errors_are_retried(string code, int status, bool retried) =>
        Assert.Equal(retried, RetryPolicy.IsRetryable(code, (HttpStatusCode)status));
}
