using Runnel.Client.Aggregation;

namespace Runnel.Client.Tests.Aggregation;

public sealed class PutRecordsBatcherTests
{
    private static readonly Func<PutRecordsEntry, long> Bytes = e => e.RequestBytes;

    [Fact(Timeout = 10000)]
    public async Task The_limits_are_AWSs()
    {
        await Task.Yield();
        Assert.Equal((500, 5L << 20, 1L << 20), (PutRecordsLimits.Default.MaxRecords, PutRecordsLimits.Default.MaxRequestBytes, PutRecordsLimits.Default.MaxRecordBytes));
        Assert.Equal(PutRecordsLimits.Default, PutRecordsLimits.ForStream(1024));
        var large = PutRecordsLimits.ForStream(10240);
        Assert.Equal((500, 10L << 20, 10L << 20), (large.MaxRecords, large.MaxRequestBytes, large.MaxRecordBytes));
        Assert.Equal(2049L * 1024, PutRecordsLimits.ForStream(2049).MaxRecordBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => PutRecordsLimits.ForStream(1023));
        Assert.Throws<ArgumentOutOfRangeException>(() => PutRecordsLimits.ForStream(10241));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PutRecordsLimits(10, 100, 101));
    }

    [Fact(Timeout = 10000)]
    public async Task A_call_holds_at_most_500_records()
    {
        await Task.Yield();
        var entries = Enumerable.Range(0, 1201).Select(i => new PutRecordsEntry($"k{i}", null, new byte[10])).ToList();
        var calls = PutRecordsBatcher<PutRecordsEntry>.Pack(entries, PutRecordsLimits.Default, Bytes);
        Assert.Equal(new[] { 500, 500, 201 }, calls.Select(c => c.Count));
        Assert.Equal(entries, calls.SelectMany(c => c));

        var batcher = new PutRecordsBatcher<PutRecordsEntry>(PutRecordsLimits.Default, Bytes);
        foreach (var entry in entries.Take(500))
            Assert.True(batcher.TryAdd(entry));
        Assert.True(batcher.IsFull);
        Assert.False(batcher.TryAdd(entries[500]));
        Assert.Equal(500, batcher.Drain().Count);
        Assert.Equal(0, batcher.Count);
        Assert.Equal(0, batcher.RequestBytes);
    }

    [Fact(Timeout = 10000)]
    public async Task A_call_holds_at_most_5_MiB_counting_partition_keys()
    {
        await Task.Yield();
        // Five records of 1 MiB exactly (data and a key of 4 bytes) fill a call; a sixth of one byte does not fit.
        var full = Enumerable.Range(0, 5).Select(i => new PutRecordsEntry($"k{i:D3}", null, new byte[(1 << 20) - 4])).ToList();
        var batcher = new PutRecordsBatcher<PutRecordsEntry>(PutRecordsLimits.Default, Bytes);
        foreach (var entry in full)
            Assert.True(batcher.TryAdd(entry));
        Assert.Equal(5L << 20, batcher.RequestBytes);
        Assert.False(batcher.TryAdd(new PutRecordsEntry("k", null, Array.Empty<byte>())));
        Assert.Equal(5, batcher.Count);

        Assert.Throws<ArgumentException>(() => batcher.TryAdd(new PutRecordsEntry("é", null, new byte[(1 << 20) - 1]))); // 2 key bytes: 1 MiB + 1
        Assert.Throws<ArgumentException>(() => PutRecordsBatcher<PutRecordsEntry>.Pack([new PutRecordsEntry("k", null, new byte[1 << 20])], PutRecordsLimits.Default, Bytes));
    }

    [Fact(Timeout = 30000)]
    public async Task Packing_keeps_order_and_limits_and_starts_a_call_only_when_the_next_entry_does_not_fit()
    {
        await Task.Yield();
        var random = new Random(31);
        for (int round = 0; round < 100; round++)
        {
            var limits = new PutRecordsLimits(random.Next(1, 600), random.Next(1000, 20_000), random.Next(1, 1000));
            var sizes = Enumerable.Range(0, random.Next(0, 3000)).Select(_ => (long)random.Next(0, (int)limits.MaxRecordBytes + 1)).ToList();
            var calls = PutRecordsBatcher<long>.Pack(sizes, limits, s => s);
            Assert.Equal(sizes, calls.SelectMany(c => c));
            for (int i = 0; i < calls.Count; i++)
            {
                Assert.NotEmpty(calls[i]);
                Assert.True(calls[i].Count <= limits.MaxRecords);
                Assert.True(calls[i].Sum() <= limits.MaxRequestBytes);
                if (i + 1 < calls.Count)
                    Assert.True(calls[i].Count == limits.MaxRecords || calls[i].Sum() + calls[i + 1][0] > limits.MaxRequestBytes, $"round {round}: call {i} ended early");
            }
        }
    }
}
