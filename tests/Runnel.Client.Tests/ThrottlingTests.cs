using Runnel.Client.Credentials;
using Runnel.Client.Internal.Http;
using Runnel.Client.Models;
using Runnel.Server;

namespace Runnel.Client.Tests;

/// <summary>
/// Retries against a real server with AWS's per-shard limits, on a clock the test moves: a put over the shard's
/// 1 MiB/s is refused with ProvisionedThroughputExceededException, and the client's retry succeeds once its backoff
/// (which moves the server's clock instead of waiting) has let the shard's budget fill again.
/// </summary>
public sealed class ThrottlingTests
{
    /// <summary>A clock moved by hand (timestamps for elapsed times stay real).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    [Fact(Timeout = 60_000)]
    public async Task A_put_over_the_shards_limit_is_retried_and_stored_once_the_budget_refills()
    {
        var clock = new ManualClock();
        await using var host = await RunnelHost.StartAsync(new RunnelOptions(), clock);
        var waits = new List<TimeSpan>();
        var retry = new RetryOptions { MaxAttempts = 4, BaseDelay = TimeSpan.FromSeconds(1) };
        var options = new KinesisClientOptions { Endpoint = host.Url, Credentials = new StaticCredentialsProvider("AKID", "secret"), Retry = retry };
        // Each backoff is its whole ceiling (random 1) and moves the server's clock rather than waiting.
        using var client = new KinesisClient(options, new RetryPolicy(retry, () => 1, (wait, _) =>
        {
            waits.Add(wait);
            clock.Advance(wait);
            return Task.CompletedTask;
        }));
        using var once = new KinesisClient(options, new RetryPolicy(RetryOptions.None));

        string stream = RunnelHost.UniqueName("throttled");
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        var halfMiB = new byte[512 * 1024 - 8];
        await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = halfMiB, PartitionKey = "k" });
        await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = halfMiB, PartitionKey = "k" });
        Assert.Empty(waits);

        // Without retries the third is refused: the shard took its 1 MiB for this second.
        var refused = await Assert.ThrowsAsync<KinesisException>(() => once.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = halfMiB, PartitionKey = "k" }));
        Assert.Equal(("ProvisionedThroughputExceededException", true), (refused.ErrorCode, refused.IsRetryable));

        var stored = await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = halfMiB, PartitionKey = "k" });
        Assert.Equal("shardId-000000000000", stored.ShardId);
        Assert.Equal([TimeSpan.FromSeconds(1)], waits);
    }
}
