using System.Net;

namespace Runnel.Server.Tests;

/// <summary>
/// Access control end to end on a server with <c>--auth sigv4</c>: a producer key whose policy allows writing one
/// stream, an admin key without a policy, and a key of another account; Kinesis, Firehose, CloudWatch and /metrics
/// refuse what the policies do not allow, and a stream's resource policy (PutResourcePolicy) grants what it names.
/// </summary>
public sealed class AccessControlServerTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-access-" + Guid.NewGuid().ToString("N"));
    private RestartableServer _host = null!;
    private TestClient _admin = null!, _producer = null!, _partner = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        string credentials = Path.Combine(_dir, "credentials");
        File.WriteAllText(Path.Combine(_dir, "producer.json"), """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords","kinesis:DescribeStreamSummary"],"Resource":"arn:aws:kinesis:*:*:stream/orders"}]}
            """);
        File.WriteAllText(credentials, """
            [admin]
            aws_access_key_id = AKIDADMIN
            aws_secret_access_key = admin-secret
            [producer]
            aws_access_key_id = AKIDPRODUCER
            aws_secret_access_key = producer-secret
            policy_file = producer.json
            [partner]
            aws_access_key_id = AKIDPARTNER
            aws_secret_access_key = partner-secret
            account_id = 111122223333
            """);
        _host = new RestartableServer(Path.Combine(_dir, "data"), TimeProvider.System,
            new RunnelOptions { Limits = new() { Enabled = false }, VerifySignatures = true, CredentialsFile = credentials });
        await _host.StartAsync();
        _admin = new TestClient(_host.Server.Url, ("AKIDADMIN", "admin-secret"));
        _producer = new TestClient(_host.Server.Url, ("AKIDPRODUCER", "producer-secret"));
        _partner = new TestClient(_host.Server.Url, ("AKIDPARTNER", "partner-secret"));
        await _admin.OkAsync("CreateStream", """{"StreamName":"orders","ShardCount":1}""");
    }

    public async Task DisposeAsync()
    {
        foreach (var client in new[] { _admin, _producer, _partner })
            client?.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_producer_key_writes_its_stream_and_is_refused_reads_deletes_and_other_services()
    {
        await _producer.OkAsync("PutRecord", """{"StreamName":"orders","PartitionKey":"k","Data":"AA=="}""");
        await _producer.OkAsync("PutRecords", """{"StreamName":"orders","Records":[{"PartitionKey":"k","Data":"AA=="}]}""");
        Assert.Equal("User: arn:aws:iam::000000000000:user/producer is not authorized to perform: kinesis:GetShardIterator on resource: " +
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders because no identity-based policy allows the kinesis:GetShardIterator action",
            await _producer.ErrorMessageAsync("GetShardIterator", """{"StreamName":"orders","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""", "AccessDeniedException"));
        await _producer.ErrorMessageAsync("DeleteStream", """{"StreamName":"orders"}""", "AccessDeniedException");
        await _producer.ErrorMessageAsync("ListStreams", "{}", "AccessDeniedException");
        await _producer.ErrorMessageAsync("Firehose_20150804.ListDeliveryStreams", "{}", "AccessDeniedException");

        var (status, body) = await _producer.CallAsync("GraniteServiceVersion20100801.ListMetrics", "{}");
        Assert.Equal((HttpStatusCode.BadRequest, "AccessDenied"), (status, body.GetProperty("__type").GetString()!.Split('#')[^1]));
        using var metrics = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        TestSigner.Sign(metrics, _host.Server.Url, [], "AKIDPRODUCER", "producer-secret", DateTimeOffset.UtcNow);
        using var answer = await _producer.Http.SendAsync(metrics);
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);

        // An iterator the admin took is the stream's: GetRecords with it is refused to the producer too.
        var iterator = (await _admin.OkAsync("GetShardIterator", """{"StreamName":"orders","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString();
        await _producer.ErrorMessageAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""", "AccessDeniedException");
        Assert.Equal(2, (await _admin.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records").GetArrayLength());
    }

    [Fact]
    public async Task A_streams_resource_policy_grants_a_user_of_the_account_and_another_account()
    {
        const string arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
        const string read = """{"StreamName":"orders","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""";
        Assert.EndsWith("because no resource-based policy allows the kinesis:GetShardIterator action",
            await _partner.ErrorMessageAsync("GetShardIterator", read, "AccessDeniedException"), StringComparison.Ordinal);
        string policy = """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:user/producer","111122223333"]},"Action":"kinesis:GetShardIterator","Resource":"*"}]}
            """;
        await _admin.OkAsync("PutResourcePolicy", System.Text.Json.JsonSerializer.Serialize(new { ResourceARN = arn, Policy = policy }));
        await _producer.OkAsync("GetShardIterator", read);
        await _partner.OkAsync("GetShardIterator", read);
        await _partner.ErrorMessageAsync("DescribeStreamSummary", """{"StreamName":"orders"}""", "AccessDeniedException");
    }
}
