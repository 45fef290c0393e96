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
        // Another account reaches this account's stream by its ARN (by name it would name a stream of its own).
        string partnerRead = $$"""{"StreamARN":"{{arn}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""";
        Assert.EndsWith("because no resource-based policy allows the kinesis:GetShardIterator action",
            await _partner.ErrorMessageAsync("GetShardIterator", partnerRead, "AccessDeniedException"), StringComparison.Ordinal);
        string policy = """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:user/producer","111122223333"]},"Action":"kinesis:GetShardIterator","Resource":"*"}]}
            """;
        await _admin.OkAsync("PutResourcePolicy", System.Text.Json.JsonSerializer.Serialize(new { ResourceARN = arn, Policy = policy }));
        await _producer.OkAsync("GetShardIterator", read);
        await _partner.OkAsync("GetShardIterator", partnerRead);
        await _partner.ErrorMessageAsync("DescribeStreamSummary", $$"""{"StreamARN":"{{arn}}"}""", "AccessDeniedException");
    }

    [Fact]
    public async Task Each_account_has_its_own_streams_consumers_limits_and_settings_and_keeps_them_across_a_restart()
    {
        const string partnerArn = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
        const string adminArn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
        var answers = new List<string>();
        async Task<System.Text.Json.JsonElement> Ok(TestClient client, string operation, string body)
        {
            var answer = await client.OkAsync(operation, body);
            answers.Add(answer.ValueKind == System.Text.Json.JsonValueKind.Undefined ? "" : answer.GetRawText());
            return answer;
        }

        // The same name in two accounts: two streams.
        await Ok(_partner, "CreateStream", """{"StreamName":"orders","ShardCount":3}""");
        var summary = (await Ok(_partner, "DescribeStreamSummary", """{"StreamName":"orders"}""")).GetProperty("StreamDescriptionSummary");
        Assert.Equal(("orders", partnerArn, 3), (summary.GetProperty("StreamName").GetString(), summary.GetProperty("StreamARN").GetString(), summary.GetProperty("OpenShardCount").GetInt32()));
        Assert.Equal(adminArn, (await Ok(_admin, "DescribeStreamSummary", """{"StreamName":"orders"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString());
        var partnerList = await Ok(_partner, "ListStreams", "{}");
        Assert.Equal(["orders"], partnerList.GetProperty("StreamNames").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(partnerArn, partnerList.GetProperty("StreamSummaries")[0].GetProperty("StreamARN").GetString());
        Assert.Equal(adminArn, (await Ok(_admin, "ListStreams", "{}")).GetProperty("StreamSummaries")[0].GetProperty("StreamARN").GetString());

        // Records go to the caller's account's stream only.
        var put = await Ok(_partner, "PutRecord", """{"StreamName":"orders","PartitionKey":"k","Data":"cGFydG5lcg=="}""");
        await Ok(_admin, "PutRecord", """{"StreamName":"orders","PartitionKey":"k","Data":"AAAA"}""");
        string iterator = (await Ok(_partner, "GetShardIterator", $$"""{"StreamName":"orders","ShardId":"{{put.GetProperty("ShardId").GetString()}}","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString()!;
        var records = (await Ok(_partner, "GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records");
        Assert.Equal(["cGFydG5lcg=="], records.EnumerateArray().Select(r => r.GetProperty("Data").GetString()));
        // The partner's iterator is its stream's: the admin, of another account, is refused it (no resource policy).
        Assert.EndsWith("because no resource-based policy allows the kinesis:GetRecords action",
            await _admin.ErrorMessageAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""", "AccessDeniedException"), StringComparison.Ordinal);
        Assert.EndsWith("because no resource-based policy allows the kinesis:DescribeStreamSummary action",
            await _admin.ErrorMessageAsync("DescribeStreamSummary", $$"""{"StreamARN":"{{partnerArn}}"}""", "AccessDeniedException"), StringComparison.Ordinal);

        // Consumers carry their stream's account.
        var consumer = (await Ok(_partner, "RegisterStreamConsumer", $$"""{"StreamARN":"{{partnerArn}}","ConsumerName":"reader"}""")).GetProperty("Consumer");
        string consumerArn = consumer.GetProperty("ConsumerARN").GetString()!;
        Assert.StartsWith(partnerArn + "/consumer/reader:", consumerArn, StringComparison.Ordinal);
        Assert.Equal(consumerArn, (await Ok(_partner, "DescribeStreamConsumer", $$"""{"ConsumerARN":"{{consumerArn}}"}""")).GetProperty("ConsumerDescription").GetProperty("ConsumerARN").GetString());
        Assert.Empty((await Ok(_admin, "ListStreamConsumers", $$"""{"StreamARN":"{{adminArn}}"}""")).GetProperty("Consumers").EnumerateArray());

        // Errors name the caller's account; limits and settings are each account's.
        Assert.Equal("Stream missing under account 111122223333 not found.",
            await _partner.ErrorMessageAsync("DescribeStreamSummary", """{"StreamName":"missing"}""", "ResourceNotFoundException"));
        Assert.Equal("Stream orders under account 111122223333 already exists.",
            await _partner.ErrorMessageAsync("CreateStream", """{"StreamName":"orders","ShardCount":1}""", "ResourceInUseException"));
        Assert.Equal(3, (await Ok(_partner, "DescribeLimits", "{}")).GetProperty("OpenShardCount").GetInt32());
        Assert.Equal(1, (await Ok(_admin, "DescribeLimits", "{}")).GetProperty("OpenShardCount").GetInt32());
        await Ok(_partner, "UpdateAccountSettings", """{"MinimumThroughputBillingCommitment":{"Status":"ENABLED"}}""");
        Assert.Equal("DISABLED", (await Ok(_admin, "DescribeAccountSettings", "{}")).GetProperty("MinimumThroughputBillingCommitment").GetProperty("Status").GetString());

        // A restart keeps each stream in its account.
        await _host.StopAsync();
        await _host.StartAsync();
        foreach (var client in new[] { _admin, _partner })
            client.Dispose();
        _admin = new TestClient(_host.Server.Url, ("AKIDADMIN", "admin-secret"));
        _partner = new TestClient(_host.Server.Url, ("AKIDPARTNER", "partner-secret"));
        Assert.Equal(partnerArn, (await Ok(_partner, "DescribeStreamSummary", """{"StreamName":"orders"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString());
        Assert.Equal(1, (await Ok(_partner, "ListStreamConsumers", $$"""{"StreamARN":"{{partnerArn}}"}""")).GetProperty("Consumers").GetArrayLength());
        Assert.Equal("ENABLED", (await Ok(_partner, "DescribeAccountSettings", "{}")).GetProperty("MinimumThroughputBillingCommitment").GetProperty("Status").GetString());
        await Ok(_partner, "DeleteStream", """{"StreamName":"orders","EnforceConsumerDeletion":true}""");
        Assert.Equal(adminArn, (await Ok(_admin, "DescribeStreamSummary", """{"StreamName":"orders"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString());

        // Firehose and CloudWatch are the server's account's alone.
        Assert.Equal("User: arn:aws:iam::111122223333:user/partner is not authorized to perform: firehose:ListDeliveryStreams because this server keeps Firehose for account 000000000000 only",
            await _partner.ErrorMessageAsync("Firehose_20150804.ListDeliveryStreams", "{}", "AccessDeniedException"));
        var (status, body) = await _partner.CallAsync("GraniteServiceVersion20100801.ListMetrics", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("keeps CloudWatch for account 000000000000 only", body.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Nothing answered ever showed how a stream of another account is held inside the server.
        Assert.DoesNotContain(answers, a => a.Contains("111122223333/", StringComparison.Ordinal));
    }
}
