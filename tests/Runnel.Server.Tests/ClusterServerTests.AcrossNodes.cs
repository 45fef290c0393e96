using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>What a client behind a load balancer relies on when its calls reach different nodes: it reads what it
/// wrote, and SubscribeToShard's one-holder rule holds whichever node each subscription reached.</summary>
public sealed partial class ClusterServerTests
{
    [Fact(Timeout = 120000)]
    public async Task What_one_node_creates_the_other_finds_at_once_as_a_client_behind_a_load_balancer_expects()
    {
        // A load balancer sends a client's next call to any node: it must find what the previous call created,
        // with no wait for the metadata watch to bring it (a node that misses catches up before it says "not found").
        await using var nodes = await TwoNodesAsync();
        for (int round = 0; round < 4; round++)
        {
            var (writer, reader) = round % 2 == 0 ? (nodes.A, nodes.B) : (nodes.B, nodes.A);
            string stream = ServerFixture.UniqueName("at-once");
            await writer.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            string arn = (await reader.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
            await reader.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("x")}}"}""");
            await writer.OkAsync("AddTagsToStream", $$$"""{"StreamName":"{{{stream}}}","Tags":{"round":"{{{round}}}"}}""");
            var tags = (await reader.OkAsync("ListTagsForStream", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Tags");
            Assert.Equal($"{round}", Assert.Single(tags.EnumerateArray()).GetProperty("Value").GetString());
            string policy = $$$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kinesis:GetRecords","Resource":"{{{arn}}}"}]}""";
            await writer.OkAsync("PutResourcePolicy", JsonSerializer.Serialize(new { ResourceARN = arn, Policy = policy }));
            Assert.Equal(policy, (await reader.OkAsync("GetResourcePolicy", $$"""{"ResourceARN":"{{arn}}"}""")).GetProperty("Policy").GetString());
            string consumerArn = (await writer.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"c"}""")).GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
            await reader.OkAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{consumerArn}}"}""");
            await reader.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}","EnforceConsumerDeletion":true}""");
        }
    }

    [Fact(Timeout = 120000)]
    public async Task A_subscription_through_one_node_is_protected_for_5_seconds_from_the_other_and_then_taken_over()
    {
        var (a, aClient, _) = await NodeAsync();
        var (b, bClient, _) = await NodeAsync();
        using var aHttp = new HttpClient { BaseAddress = a.Url, Timeout = Timeout.InfiniteTimeSpan };
        using var bHttp = new HttpClient { BaseAddress = b.Url, Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            string stream = ServerFixture.UniqueName("claims");
            await aClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            string arn = (await aClient.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
            string consumer = (await aClient.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"c"}""")).GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
            await EventuallyAsync(async () => (await bClient.OkAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{consumer}}"}"""))
                .GetProperty("ConsumerDescription").GetProperty("ConsumerStatus").GetString() == "ACTIVE", "the consumer is ACTIVE");

            await using var first = await EventStreamSubscriber.StartAsync(aHttp, consumer, "shardId-000000000000", """{"Type":"LATEST"}""");
            Assert.Equal(System.Net.HttpStatusCode.OK, first.Status);
            var started = DateTime.UtcNow;
            Assert.Equal("event", (await first.NextAsync())!.Header(":message-type"));
            await using (var refused = await EventStreamSubscriber.StartAsync(bHttp, consumer, "shardId-000000000000", """{"Type":"LATEST"}"""))
            {
                Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4), "the check ran within the 5 s");
                Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.Status);
                Assert.Equal("ResourceInUseException", refused.Error.GetProperty("__type").GetString());
            }

            await Task.Delay(TimeSpan.FromSeconds(5.5) - (DateTime.UtcNow - started));
            await using var second = await EventStreamSubscriber.StartAsync(bHttp, consumer, "shardId-000000000000", """{"Type":"LATEST"}""");
            Assert.Equal(System.Net.HttpStatusCode.OK, second.Status);
            Assert.Equal("initial-response", (await second.NextAsync())!.Header(":event-type"));
            Runnel.Protocol.EventStream.EventStreamMessage? ended;
            do
                ended = await first.NextAsync(TimeSpan.FromSeconds(10));
            while (ended is not null && ended.Header(":message-type") == "event");
            Assert.NotNull(ended);
            Assert.Equal("ResourceInUseException", ended!.Header(":exception-type"));

            await aClient.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64("to the new one")}}"}""");
            Assert.Equal(["to the new one"], (await second.RecordsAsync(1)).Data);
            await aClient.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}","EnforceConsumerDeletion":true}""");
        }
        finally
        {
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }
}
