using Runnel.Client.Models;
using Runnel.Server;

namespace Runnel.Client.Tests;

/// <summary>
/// The waiters against a server whose streams and consumers stay CREATING for a moment, as AWS's do: each returns once
/// the resource is ACTIVE (whenever that is: no timing is asserted), and a consumer subscribed to then is accepted.
/// </summary>
public sealed class WaiterTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_new_stream_and_consumer_are_waited_for_until_they_are_ACTIVE()
    {
        await using var host = await RunnelHost.StartAsync(new RunnelOptions
        {
            Limits = Runnel.Core.Throughput.ThroughputLimits.Off,
            CreateStreamDelay = TimeSpan.FromMilliseconds(500),
            ConsumerCreateDelay = TimeSpan.FromMilliseconds(500),
        });
        using var client = host.Kinesis();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string stream = RunnelHost.UniqueName("waited");
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 }, timeout.Token);
        var active = await client.WaitForStreamActiveAsync(new DescribeStreamSummaryRequest { StreamName = stream }, TimeSpan.FromMilliseconds(100), timeout.Token);
        Assert.Equal("ACTIVE", active.StreamStatus);

        var registered = (await client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = active.StreamARN, ConsumerName = "late" }, timeout.Token)).Consumer;
        Assert.Equal("CREATING", registered.ConsumerStatus); // as registered, whatever the time now
        var consumer = await client.WaitForConsumerActiveAsync(new StreamConsumerRequest { ConsumerARN = registered.ConsumerARN }, TimeSpan.FromMilliseconds(100), timeout.Token);
        Assert.Equal("ACTIVE", consumer.ConsumerStatus);
        await using var subscription = await client.SubscribeToShardAsync(new SubscribeToShardRequest
        {
            ConsumerARN = consumer.ConsumerARN,
            ShardId = "shardId-000000000000",
            StartingPosition = new StartingPosition { Type = ShardIteratorType.TrimHorizon },
        }, timeout.Token);
        Assert.NotNull(subscription.RequestId);
    }
}
