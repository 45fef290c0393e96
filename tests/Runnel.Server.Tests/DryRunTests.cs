using System.Net;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// DryRun on the data plane (PutRecord, PutRecords, GetShardIterator, GetRecords, SubscribeToShard): every check
/// runs, nothing is written or read, and a request that would have succeeded gets DryRunOperationException.
/// Before the current SDK's model was served, DryRun was an unknown member, ignored, and a dry PutRecord wrote
/// its record.
/// </summary>
public class DryRunTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Dry = "DryRunOperationException";

    private async Task<long> RecordCountAsync(string stream)
    {
        string iterator = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        return (await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records").GetArrayLength();
    }

    private async Task ExpectAsync(string operation, string body, string type)
    {
        var (status, json) = await server.CallAsync(operation, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(type, json.GetProperty("__type").GetString());
        if (type == Dry)
            Assert.Equal("Request would have succeeded, but DryRun flag is set.", json.GetProperty("message").GetString());
    }

    [Fact(Timeout = 30000)]
    public async Task A_dry_put_writes_nothing_and_says_it_would_have_succeeded()
    {
        string stream = await server.CreateStreamAsync("dry", 1);
        string data = ServerFixture.B64("never stored");
        await ExpectAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{data}}","DryRun":true}""", Dry);
        await ExpectAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{"PartitionKey":"a","Data":"{{data}}"},{"PartitionKey":"b","Data":"{{data}}"}],"DryRun":true}""", Dry);
        Assert.Equal(0, await RecordCountAsync(stream));

        // DryRun false, and StreamId (reserved by the model, not used), change nothing.
        await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{data}}","DryRun":false,"StreamId":"abcdefghij0123456789-abc"}""");
        Assert.Equal(1, await RecordCountAsync(stream));
    }

    [Fact(Timeout = 30000)]
    public async Task StreamId_is_checked_against_the_models_constraints_wherever_the_model_has_it()
    {
        string stream = await server.CreateStreamAsync("streamid", 1);
        foreach (var (operation, body) in new[]
        {
            ("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}","StreamId":"not-an-id"}"""),
            ("ListShards", $$"""{"StreamName":"{{stream}}","StreamId":"not-an-id"}"""),
            ("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"eA==","StreamId":"not-an-id"}"""),
        })
        {
            var (status, json) = await server.CallAsync(operation, body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("ValidationException", json.GetProperty("__type").GetString());
            Assert.Equal("1 validation error detected: Value 'not-an-id' at 'streamId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9]{20}-[a-z0-9]{3}",
                json.GetProperty("message").GetString());
        }
        await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}","StreamId":"abcdefghij0123456789-abc"}""");
    }

    [Fact(Timeout = 30000)]
    public async Task A_dry_run_still_reports_what_is_wrong_with_the_request()
    {
        string stream = await server.CreateStreamAsync("drybad", 1);
        string data = ServerFixture.B64("x");
        await ExpectAsync("PutRecord", $$"""{"StreamName":"nope-{{stream}}","PartitionKey":"k","Data":"{{data}}","DryRun":true}""", "ResourceNotFoundException");
        await ExpectAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211456","Data":"{{data}}","DryRun":true}""", "InvalidArgumentException");
        await ExpectAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{data}}","DryRun":"maybe"}""", "SerializationException");
        await ExpectAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","DryRun":true}""", "InvalidArgumentException");
        Assert.Equal(0, await RecordCountAsync(stream));
    }

    [Fact(Timeout = 30000)]
    public async Task Dry_reads_and_subscriptions_answer_the_same_way()
    {
        string stream = await server.CreateStreamAsync("dryread", 1);
        await ExpectAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON","DryRun":true}""", Dry);
        string iterator = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        await ExpectAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}","DryRun":true}""", Dry);

        string arn = (await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
        string consumer = (await server.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"dry"}""")).GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
        await ExpectAsync("SubscribeToShard", $$"""{"ConsumerARN":"{{consumer}}","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"},"DryRun":true}""", Dry);
        Assert.Equal(0, server.Server.Streams.Subscriptions.Count); // no subscription was started, so none can be taken over
    }
}
