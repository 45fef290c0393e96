using Runnel.Client.Aggregation;
using Runnel.Client.Producer;

namespace Runnel.Client.Tests.Producer;

/// <summary>The producer's pure parts: lingers, the shard rate limiter, the in-order retry queue and the bounded buffer.</summary>
public sealed class ProducerPartsTests
{
    /// <summary>A clock of timestamps moved by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void An_aggregate_is_due_when_its_oldest_record_has_waited_the_linger()
    {
        var clock = new ManualClock();
        var linger = new LingerSchedule(clock, TimeSpan.FromMilliseconds(100));
        Assert.Null(linger.NextDue());

        linger.Started("s1", clock.GetTimestamp());
        clock.Advance(TimeSpan.FromMilliseconds(40));
        linger.Started("s2", clock.GetTimestamp());
        Assert.Empty(linger.Due());
        Assert.Equal(TimeSpan.FromMilliseconds(60), linger.NextDue());

        clock.Advance(TimeSpan.FromMilliseconds(60));
        Assert.Equal(["s1"], linger.Due());
        Assert.Equal(TimeSpan.Zero, linger.NextDue());

        linger.Sent("s1");
        Assert.False(linger.IsOpen("s1"));
        Assert.Empty(linger.Due());
        Assert.Equal(TimeSpan.FromMilliseconds(40), linger.NextDue());
        clock.Advance(TimeSpan.FromMilliseconds(40));
        Assert.Equal(["s2"], linger.Due());
    }

    [Fact]
    public void The_rate_limiter_spends_a_seconds_budget_and_refills_with_time()
    {
        var clock = new ManualClock();
        var limiter = new ShardRateLimiter(1024 * 1024, 1000, clock);

        Assert.Equal(TimeSpan.Zero, limiter.WaitFor(1024 * 1024, 1));
        limiter.Take(1024 * 1024, 1);
        Assert.Equal(TimeSpan.FromSeconds(0.5), limiter.WaitFor(512 * 1024, 1));

        clock.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(TimeSpan.Zero, limiter.WaitFor(512 * 1024, 1));
        limiter.Take(512 * 1024, 1);

        // The record budget binds too: a second's 1,000 records, then a millisecond per record.
        clock.Advance(TimeSpan.FromSeconds(10));
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(TimeSpan.Zero, limiter.WaitFor(1, 1));
            limiter.Take(1, 1);
        }
        Assert.Equal(TimeSpan.FromMilliseconds(1), limiter.WaitFor(1, 1));
    }

    [Fact]
    public void An_entry_larger_than_the_bucket_goes_when_it_is_full_and_leaves_a_debt()
    {
        var clock = new ManualClock();
        var limiter = new ShardRateLimiter(1000, 1000, clock);
        Assert.Equal(TimeSpan.Zero, limiter.WaitFor(5000, 1));
        limiter.Take(5000, 1);
        Assert.Equal(TimeSpan.FromSeconds(5), limiter.WaitFor(1000, 1));
    }

    private static ProducerEntry Entry(string lane, params string[] keys)
    {
        var records = keys.Select(k => new PendingRecord(k, null, new byte[] { 1 }, null, 0, 2, null)).ToArray();
        return new ProducerEntry(lane, new PutRecordsEntry(keys[0], null, new byte[] { 1 }), records);
    }

    [Fact]
    public void Failed_entries_go_back_ahead_of_newer_ones_in_their_order()
    {
        var lane = new ShardLane("s", null);
        var (e1, e2, e3, e4) = (Entry("s", "a"), Entry("s", "b"), Entry("s", "c"), Entry("s", "d"));
        foreach (var e in new[] { e1, e2, e3 })
            lane.Enqueue(e);

        var sent = lane.TakeForRequest(_ => true);
        Assert.Equal([e1, e2, e3], sent);
        lane.Enqueue(e4); // newer, accepted while the call was in flight
        lane.RequeueFront([e1, e3]); // e2 was stored; e1 and e3 were throttled

        Assert.Equal([e1, e3, e4], lane.Waiting);
        Assert.Equal([e1, e3, e4], lane.TakeForRequest(_ => true));
    }

    [Fact]
    public void One_request_never_carries_two_entries_sharing_a_partition_key()
    {
        var lane = new ShardLane("s", null);
        var (e1, e2, e3, e4) = (Entry("s", "a", "b"), Entry("s", "c"), Entry("s", "b", "d"), Entry("s", "e"));
        foreach (var e in new[] { e1, e2, e3, e4 })
            lane.Enqueue(e);

        // e3 shares "b" with e1: the request stops there, and e4 does not skip ahead of it.
        Assert.Equal([e1, e2], lane.TakeForRequest(_ => true));
        Assert.Equal([e3, e4], lane.TakeForRequest(_ => true));
    }

    [Fact]
    public void A_lane_stops_at_the_first_entry_not_admitted()
    {
        var lane = new ShardLane("s", null);
        var (e1, e2, e3) = (Entry("s", "a"), Entry("s", "b"), Entry("s", "c"));
        foreach (var e in new[] { e1, e2, e3 })
            lane.Enqueue(e);
        Assert.Equal([e1], lane.TakeForRequest(e => e == e1 || e == e3));
        Assert.Equal([e2, e3], lane.Waiting);
    }

    [Fact(Timeout = 10_000)]
    public async Task The_buffer_makes_callers_wait_in_order_until_room_is_given_back()
    {
        var gate = new BufferGate(maxRecords: 2, maxBytes: 100);
        Assert.True(gate.TryEnter(60));
        Assert.False(gate.TryEnter(60)); // bytes
        Assert.True(gate.TryEnter(40));
        Assert.False(gate.TryEnter(1)); // records

        var first = gate.EnterAsync(50, CancellationToken.None).AsTask();
        var second = gate.EnterAsync(10, CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted);
        Assert.False(gate.TryEnter(1)); // someone waits: no cutting in

        gate.Exit(1, 60);
        await first;
        Assert.False(second.IsCompleted);
        gate.Exit(1, 40);
        await second;
        Assert.Equal((2, 60L), (gate.Records, gate.Bytes));

        using var cancel = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(1, cancel.Token).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        gate.Exit(1, 50);
        Assert.Equal((1, 10L), (gate.Records, gate.Bytes));
        // An empty buffer takes any record, however large.
        gate.Exit(1, 10);
        Assert.True(gate.TryEnter(1000));
    }
    [Fact]
    public void Data_slabs_pack_small_records_together_and_give_a_large_one_an_array_of_its_own()
    {
        using var slabs = new DataSlabs();
        var first = slabs.Copy([1, 2, 3], out var slabOfFirst);
        var second = slabs.Copy([4, 5], out var slabOfSecond);
        var large = slabs.Copy(new byte[DataSlabs.MaxPackedBytes + 1], out var slabOfLarge);

        Assert.Equal(new byte[] { 1, 2, 3 }, first.ToArray());
        Assert.Equal(new byte[] { 4, 5 }, second.ToArray());
        Assert.Same(slabOfFirst, slabOfSecond);
        Assert.Null(slabOfLarge);
        Assert.Equal(DataSlabs.MaxPackedBytes + 1, large.Length);

        // A full slab makes way for a new one; the old one stays until its records let it go.
        var filler = slabs.Copy(new byte[DataSlabs.MaxPackedBytes], out var slabOfFiller);
        while (slabOfFiller == slabOfFirst)
            filler = slabs.Copy(new byte[DataSlabs.MaxPackedBytes], out slabOfFiller);
        Assert.Equal(new byte[] { 1, 2, 3 }, first.ToArray());
        Assert.NotSame(slabOfFirst, slabOfFiller);
    }

    [Fact]
    public void A_slab_released_more_often_than_it_was_referenced_says_so()
    {
        var slab = new DataSlabs.Slab(new byte[16]);
        slab.Reserve(4);
        slab.Reserve(4);
        slab.Release(); // before the seal: the array stays
        slab.Seal();
        slab.Release(); // the last reference: the array goes back to the pool
        Assert.Throws<InvalidOperationException>(() => slab.Release());
    }
}
