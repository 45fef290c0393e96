using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Tests;

/// <summary>
/// Firehose's buffering: a buffer per partition, delivered when full or when it has been filling for the interval,
/// whichever comes first; and the position a delivery stream may record, which never passes a record that is still
/// buffered or being delivered.
/// </summary>
public class DeliveryBuffersTests
{
    private const long T0 = 1_800_000_000_000;

    private static DeliveryBuffers Buffers(int sizeMiB = 1, int intervalSeconds = 60) => new(new BufferingHints(sizeMiB, intervalSeconds));

    private static DeliveryBatch? Add(DeliveryBuffers buffers, string partition, int source, ulong position, byte[] data, long now = T0, long arrival = T0 - 5_000) =>
        buffers.Add(partition, new SourceRecord(source, position, arrival, data), now);

    [Fact]
    public void A_buffer_is_delivered_with_the_record_that_fills_it_to_the_size_hint_and_its_records_in_order()
    {
        var buffers = Buffers(sizeMiB: 1);
        var random = new Random(1);
        var written = new List<byte[]>();
        DeliveryBatch? full = null;
        for (ulong position = 0; full is null; position++)
        {
            var data = new byte[random.Next(1, 50_000)];
            random.NextBytes(data);
            written.Add(data);
            full = Add(buffers, "p/", 0, position, data);
            if (full is null)
                Assert.True(written.Sum(d => (long)d.Length) < 1 << 20, "not delivered before it was full");
        }
        Assert.True(full.Bytes >= 1 << 20);
        Assert.Equal(written.Sum(d => (long)d.Length), full.Bytes);
        Assert.Equal(written.Count, full.Count);
        Assert.Equal(written.SelectMany(d => d), full.Payload.ToArray());
        for (int i = 0; i < written.Count; i++)
            Assert.Equal(written[i], full.Record(i).ToArray());
        Assert.Equal("p/", full.Partition);
        Assert.Empty(buffers.TakeAll()); // the full buffer was taken out; nothing else is filling
    }

    [Fact]
    public void A_record_larger_than_the_size_hint_is_delivered_alone_at_once()
    {
        var buffers = Buffers(sizeMiB: 1);
        var batch = Add(buffers, "", 0, 7, new byte[(1 << 20) + 1]);
        Assert.NotNull(batch);
        Assert.Equal(1, batch.Count);
    }

    [Fact]
    public void A_buffer_is_due_once_it_has_been_filling_for_the_interval_counted_from_its_first_record()
    {
        var buffers = Buffers(intervalSeconds: 60);
        Add(buffers, "a/", 0, 0, [1], now: T0);
        Add(buffers, "a/", 0, 1, [2], now: T0 + 59_000); // later records do not restart the interval
        Assert.Equal(T0 + 60_000, buffers.NextDueMillis);
        Assert.Empty(buffers.TakeDue(T0 + 59_999));
        var due = Assert.Single(buffers.TakeDue(T0 + 60_000));
        Assert.Equal([1, 2], due.Payload.ToArray());
        Assert.Null(buffers.NextDueMillis);
        Assert.Empty(buffers.TakeDue(T0 + 120_000));
    }

    [Fact]
    public void With_an_interval_of_zero_anything_buffered_is_due_at_once()
    {
        var buffers = Buffers(intervalSeconds: 0);
        Assert.Empty(buffers.TakeDue(T0));
        Add(buffers, "", 0, 0, [1], now: T0);
        Assert.Equal(T0, buffers.NextDueMillis);
        Assert.Single(buffers.TakeDue(T0));
    }

    [Fact]
    public void Each_partition_has_its_own_buffer_and_its_own_interval()
    {
        var buffers = Buffers(intervalSeconds: 10);
        Add(buffers, "year=2026/", 0, 0, [1], now: T0);
        Add(buffers, "year=2027/", 0, 1, [2], now: T0 + 5_000);
        Add(buffers, "year=2026/", 0, 2, [3], now: T0 + 6_000);
        Assert.Equal(3, buffers.BufferedRecords);
        Assert.Equal(T0 + 10_000, buffers.NextDueMillis);
        var first = Assert.Single(buffers.TakeDue(T0 + 10_000));
        Assert.Equal("year=2026/", first.Partition);
        Assert.Equal([1, 3], first.Payload.ToArray());
        Assert.Equal(T0 + 15_000, buffers.NextDueMillis);
        var second = Assert.Single(buffers.TakeDue(T0 + 15_000));
        Assert.Equal("year=2027/", second.Partition);
        Assert.Equal([2], second.Payload.ToArray());
    }

    [Fact]
    public void The_position_never_passes_a_record_still_buffered_or_being_delivered()
    {
        var buffers = Buffers(intervalSeconds: 10);
        Assert.Empty(buffers.HeldFrom());
        // Two sources (a stream's shards), records of two prefixes interleaved.
        Add(buffers, "a/", 0, 100, [1], now: T0);
        Add(buffers, "b/", 0, 101, [2], now: T0 + 1_000);
        Add(buffers, "a/", 1, 50, [3], now: T0 + 2_000);
        Add(buffers, "b/", 1, 51, [4], now: T0 + 3_000);
        Assert.Equal(new Dictionary<int, ulong> { [0] = 100, [1] = 50 }, buffers.HeldFrom());

        var a = Assert.Single(buffers.TakeDue(T0 + 10_000)); // "a/" is taken out: being delivered, it still holds
        Assert.Equal("a/", a.Partition);
        Assert.Equal(new Dictionary<int, ulong> { [0] = 100, [1] = 50 }, buffers.HeldFrom());
        buffers.Done(a); // delivered: now "b/" holds each source back
        Assert.Equal(new Dictionary<int, ulong> { [0] = 101, [1] = 51 }, buffers.HeldFrom());

        Add(buffers, "a/", 0, 102, [5], now: T0 + 12_000);
        var b = Assert.Single(buffers.TakeDue(T0 + 11_000));
        buffers.Done(b);
        Assert.Equal(new Dictionary<int, ulong> { [0] = 102 }, buffers.HeldFrom()); // source 1 holds nothing back any more
        buffers.Done(Assert.Single(buffers.TakeAll()));
        Assert.Empty(buffers.HeldFrom());
    }

    [Fact]
    public void A_batch_knows_the_arrival_of_its_oldest_record_whatever_the_order_they_came_in()
    {
        var buffers = Buffers(intervalSeconds: 0);
        Add(buffers, "", 0, 0, [1], arrival: T0 - 1_000);
        Add(buffers, "", 1, 0, [2], arrival: T0 - 9_000); // another shard, further behind
        Add(buffers, "", 0, 1, [3], arrival: T0 - 500);
        Assert.Equal(T0 - 9_000, Assert.Single(buffers.TakeDue(T0)).OldestArrivalMillis);
    }

    [Fact]
    public void A_batch_is_done_once_and_only_after_it_was_taken_out()
    {
        var buffers = Buffers(intervalSeconds: 0);
        Add(buffers, "", 0, 0, [1]);
        var batch = Assert.Single(buffers.TakeDue(T0));
        buffers.Done(batch);
        Assert.Throws<InvalidOperationException>(() => buffers.Done(batch));
    }
}
