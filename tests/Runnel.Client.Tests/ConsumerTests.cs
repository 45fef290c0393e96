using Runnel.Client.Models;
using Record = Runnel.Client.Models.Record;

namespace Runnel.Client.Tests;

/// <summary>
/// Enhanced fan-out through the client against a real server, in JSON and CBOR, on h2c and HTTP/1.1: consumers
/// registered, described by ARN and by name, listed and deregistered; SubscribeToShard's event stream delivering the
/// records put after subscribing, byte for byte, and the service's exception event thrown with its code.
/// </summary>
public sealed class ConsumerTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    public static TheoryData<KinesisProtocol, bool> Protocols => KinesisClientTests.Protocols;

    private static async Task<(string Stream, string StreamArn)> CreateStreamAsync(KinesisClient client, string prefix)
    {
        string stream = RunnelHost.UniqueName(prefix);
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        return (stream, (await client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = stream })).StreamDescriptionSummary.StreamARN);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Protocols))]
    public async Task Consumers_are_registered_described_listed_and_deregistered(KinesisProtocol protocol, bool http2)
    {
        using var client = fixture.Host.Kinesis(protocol, http2);
        var (_, arn) = await CreateStreamAsync(client, "consumers");
        var registered = (await client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = arn, ConsumerName = "app" })).Consumer;
        Assert.Equal("app", registered.ConsumerName);
        Assert.StartsWith(arn + "/consumer/app:", registered.ConsumerARN, StringComparison.Ordinal);
        Assert.NotNull(registered.ConsumerCreationTimestamp);

        var byArn = (await client.DescribeStreamConsumerAsync(new StreamConsumerRequest { ConsumerARN = registered.ConsumerARN })).ConsumerDescription;
        var byName = (await client.DescribeStreamConsumerAsync(new StreamConsumerRequest { StreamARN = arn, ConsumerName = "app" })).ConsumerDescription;
        Assert.Equal((registered.ConsumerARN, "ACTIVE", arn), (byArn.ConsumerARN, byArn.ConsumerStatus, byArn.StreamARN));
        Assert.Equal(byArn, byName);

        await client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = arn, ConsumerName = "other" });
        var page = await client.ListStreamConsumersAsync(new ListStreamConsumersRequest { StreamARN = arn, MaxResults = 1 });
        Assert.Single(page.Consumers);
        Assert.NotNull(page.NextToken);
        var rest = await client.ListStreamConsumersAsync(new ListStreamConsumersRequest { StreamARN = arn, NextToken = page.NextToken, MaxResults = 1 });
        Assert.Equal(["app", "other"], page.Consumers.Concat(rest.Consumers).Select(c => c.ConsumerName).Order());

        await client.DeregisterStreamConsumerAsync(new StreamConsumerRequest { StreamARN = arn, ConsumerName = "other" });
        await client.DeregisterStreamConsumerAsync(new StreamConsumerRequest { ConsumerARN = registered.ConsumerARN });
        var none = await client.ListStreamConsumersAsync(new ListStreamConsumersRequest { StreamARN = arn });
        Assert.DoesNotContain(none.Consumers, c => c.ConsumerStatus == "ACTIVE");
        var missing = await Assert.ThrowsAsync<KinesisException>(() =>
            client.DescribeStreamConsumerAsync(new StreamConsumerRequest { StreamARN = arn, ConsumerName = "never" }));
        Assert.Equal("ResourceNotFoundException", missing.ErrorCode);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Protocols))]
    public async Task A_subscription_receives_the_records_put_after_it_began(KinesisProtocol protocol, bool http2)
    {
        using var client = fixture.Host.Kinesis(protocol, http2);
        var (stream, arn) = await CreateStreamAsync(client, "subscribe");
        var consumer = (await client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = arn, ConsumerName = "push" })).Consumer;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));

        var request = new SubscribeToShardRequest
        {
            ConsumerARN = consumer.ConsumerARN,
            ShardId = "shardId-000000000000",
            StartingPosition = new StartingPosition { Type = ShardIteratorType.Latest },
        };
        var received = new List<Record>();
        string? continuation = null;
        await using (var subscription = await client.SubscribeToShardAsync(request, timeout.Token))
        {
            Assert.Equal(http2 ? new Version(2, 0) : new Version(1, 1), subscription.HttpVersion);
            // The subscription has begun when SubscribeToShardAsync returns: records put now are pushed to it.
            byte[][] data = [[0, 1, 2, 255], [.. Enumerable.Range(0, 1000).Select(i => (byte)i)], [7]];
            foreach (var bytes in data)
                await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = bytes, PartitionKey = "p" });
            await foreach (var e in subscription.WithCancellation(timeout.Token))
            {
                received.AddRange(e.Records);
                continuation = e.ContinuationSequenceNumber;
                Assert.True(e.MillisBehindLatest >= 0);
                Assert.Empty(e.ChildShards);
                if (received.Count >= data.Length)
                    break;
            }
            Assert.Equal(data, received.Select(r => r.Data));
            Assert.All(received, r => Assert.Equal("p", r.PartitionKey));
            Assert.Equal(received[^1].SequenceNumber, continuation);
        }

        // Deregistering a consumer ends its live subscription with the service's exception event. (Another consumer: the
        // first's next subscription could take over only 5 seconds after the last began.)
        var second = (await client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = arn, ConsumerName = "second" })).Consumer;
        await using var again = await client.SubscribeToShardAsync(new SubscribeToShardRequest
        {
            ConsumerARN = second.ConsumerARN,
            ShardId = request.ShardId,
            StartingPosition = new StartingPosition { Type = ShardIteratorType.AfterSequenceNumber, SequenceNumber = continuation },
        }, timeout.Token);
        await client.DeregisterStreamConsumerAsync(new StreamConsumerRequest { ConsumerARN = second.ConsumerARN });
        var ended = await Assert.ThrowsAsync<KinesisException>(async () =>
        {
            await foreach (var _ in again.WithCancellation(timeout.Token))
            {
            }
        });
        Assert.Equal("ResourceNotFoundException", ended.ErrorCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_subscription_refused_before_it_begins_is_an_ordinary_error()
    {
        using var client = fixture.Host.Kinesis();
        var (_, arn) = await CreateStreamAsync(client, "refused");
        var error = await Assert.ThrowsAsync<KinesisException>(() => client.SubscribeToShardAsync(new SubscribeToShardRequest
        {
            ConsumerARN = arn + "/consumer/nobody:1",
            ShardId = "shardId-000000000000",
            StartingPosition = new StartingPosition { Type = ShardIteratorType.TrimHorizon },
        }));
        Assert.Equal(("ResourceNotFoundException", System.Net.HttpStatusCode.BadRequest), (error.ErrorCode, error.StatusCode));
    }
}
