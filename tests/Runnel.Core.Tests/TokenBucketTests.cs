using Runnel.Core.Throughput;

namespace Runnel.Core.Tests;

public class TokenBucketTests
{
    [Fact]
    public void Starts_full_and_refills_at_its_rate_up_to_its_capacity()
    {
        var bucket = new TokenBucket(rate: 1000, capacity: 1000, nowMillis: 0);
        Assert.True(bucket.TryTake(1000, 0));
        Assert.False(bucket.TryTake(1, 0));
        Assert.True(bucket.TryTake(250, 250));
        Assert.False(bucket.TryTake(1, 250));
        Assert.Equal(1000, bucket.Available(60_000)); // capped
    }

    [Fact]
    public void A_refused_take_takes_nothing()
    {
        var bucket = new TokenBucket(10, 10, 0);
        Assert.False(bucket.TryTake(11, 0));
        Assert.Equal(10, bucket.Available(0));
    }

    [Fact]
    public void Time_going_backwards_adds_nothing()
    {
        var bucket = new TokenBucket(10, 10, 1000);
        Assert.True(bucket.TryTake(10, 1000));
        Assert.False(bucket.TryTake(1, 500));
        Assert.Equal(0, bucket.Available(1000));
    }

    [Fact]
    public void A_charge_puts_the_bucket_in_debt_until_repaid()
    {
        // The read budget: 2 MiB/s, nothing saved up; a 10 MiB answer blocks reads for 5 seconds.
        var bytes = new TokenBucket(2 * 1024 * 1024, 0, 0);
        Assert.True(bytes.HasCredit(0));
        bytes.Charge(10 * 1024 * 1024, 0);
        Assert.False(bytes.HasCredit(4_999));
        Assert.True(bytes.HasCredit(5_000));
    }

    [Fact]
    public void Taking_from_two_buckets_is_all_or_nothing()
    {
        var records = new TokenBucket(1000, 1000, 0);
        var bytes = new TokenBucket(1024, 1024, 0);
        Assert.True(TokenBucket.TryTakeBoth(records, 1, bytes, 1000, 0));
        Assert.False(TokenBucket.TryTakeBoth(records, 1, bytes, 100, 0)); // bytes short
        Assert.Equal(999, records.Available(0));
    }

    [Fact]
    public void A_record_larger_than_the_bucket_passes_when_it_is_full_and_leaves_debt()
    {
        var records = new TokenBucket(1000, 1000, 0);
        var bytes = new TokenBucket(1024 * 1024, 1024 * 1024, 0);
        Assert.True(TokenBucket.TryTakeBoth(records, 1, bytes, 10 * 1024 * 1024, 0));
        Assert.False(TokenBucket.TryTakeBoth(records, 1, bytes, 1, 8_999)); // 9 MiB of debt at 1 MiB/s
        Assert.True(TokenBucket.TryTakeBoth(records, 1, bytes, 1, 9_001));
    }

    [Fact]
    public void Shard_throughput_counts_what_it_admits_and_refuses()
    {
        var shard = new ShardThroughput(new ThroughputLimits(), 0);
        for (int i = 0; i < 1000; i++)
            Assert.True(shard.TryWrite(10, 0));
        Assert.False(shard.TryWrite(10, 0));
        var counters = shard.Counters;
        Assert.Equal(1000, counters.RecordsIn);
        Assert.Equal(1001, counters.AttemptedRecordsIn);
        Assert.Equal(1, counters.WriteThrottles);
        var unlimited = new ShardThroughput(ThroughputLimits.Off, 0);
        for (int i = 0; i < 5000; i++)
            Assert.True(unlimited.TryWrite(1000, 0));
    }
}
