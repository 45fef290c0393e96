using System.Text;
using Runnel.Client.Credentials;
using Runnel.Client.Producer;
using Runnel.Server;

namespace Runnel.Client.Tests.Producer;

/// <summary>
/// The producer against a server that enforces AWS's per-shard limits (1 MiB/s, 1,000 records/s): a burst to one hot
/// key is throttled by the server, retried and stored whole and in order, while the other shard's records go ahead.
/// </summary>
public sealed class HotShardTests
{
    [Fact(Timeout = 180_000)]
    public async Task A_burst_to_one_hot_key_is_retried_in_order_without_holding_back_the_other_shard()
    {
        await using var host = await RunnelHost.StartAsync(new RunnelOptions());
        using var client = host.Kinesis();
        string stream = await ProducerStreams.CreateAsync(client, "producer-hot", 2);
        var map = await ProducerStreams.MapAsync(client, stream);
        string hotKey = ProducerStreams.KeysOf(map, "shardId-000000000000", "hot", 1)[0];
        var coldKeys = ProducerStreams.KeysOf(map, "shardId-000000000001", "cold", 10);

        // The producer's own limiter is off, so that the server throttles and the producer retries.
        await using var producer = new KinesisProducer(client, new ProducerOptions
        {
            StreamName = stream,
            RateLimitEnabled = false,
            AggregationMaxBytes = 256 * 1024,
            MaxRetryDelay = TimeSpan.FromMilliseconds(500),
            RecordTtl = TimeSpan.FromMinutes(2),
        });
        int completions = 0;
        async Task<(int Order, PutResult Result)> Put(string key, int i, int size)
        {
            var data = new byte[size];
            Encoding.ASCII.GetBytes($"{i}").CopyTo(data, 0);
            var result = await producer.PutAsync(key, data);
            return (Interlocked.Increment(ref completions), result);
        }

        // 3 MiB to the hot key: three seconds of its shard's budget. Then the cold records, accepted after all of it.
        const int hotCount = 3 * 1024;
        var hot = Enumerable.Range(0, hotCount).Select(i => Put(hotKey, i, 1000)).ToList();
        var cold = Enumerable.Range(0, 200).Select(i => Put(coldKeys[i % coldKeys.Count], i, 100)).ToList();
        var hotDone = await Task.WhenAll(hot);
        var coldDone = await Task.WhenAll(cold);

        Assert.Contains(hotDone, h => h.Result.Attempts > 1); // the server did throttle the burst
        Assert.True(coldDone.Max(c => c.Order) < hotDone.Max(h => h.Order), "the other shard's records were done before the hot shard's");
        Assert.All(coldDone, c => Assert.Equal(1, c.Result.Attempts));

        // Read with a patient client: the server's read and control-plane limits are on too.
        using var reader = new KinesisClient(new KinesisClientOptions
        {
            Endpoint = host.Url,
            Region = "us-east-1",
            Credentials = new StaticCredentialsProvider("AKIDEXAMPLE", "secret"),
            Retry = new RetryOptions { MaxAttempts = 20, MaxDelay = TimeSpan.FromSeconds(1) },
        });
        var read = await ProducerStreams.ReadAllAsync(reader, stream);
        var hotRead = read.Where(r => r.Record.PartitionKey == hotKey).Select(r => int.Parse(Encoding.ASCII.GetString(r.Record.Data.Span).TrimEnd('\0'))).ToList();
        Assert.Equal(Enumerable.Range(0, hotCount), hotRead);
        Assert.Equal(200, read.Count(r => r.ShardId == "shardId-000000000001"));
    }
}
