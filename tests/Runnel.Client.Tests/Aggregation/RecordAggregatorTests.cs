using System.Text;
using Runnel.Client.Aggregation;

namespace Runnel.Client.Tests.Aggregation;

public sealed class RecordAggregatorTests
{
    [Fact(Timeout = 60000)]
    public async Task Predicted_sizes_are_the_encoded_sizes_and_every_aggregate_deaggregates_into_its_records()
    {
        await Task.Yield();
        var random = new Random(7);
        for (int round = 0; round < 300; round++)
        {
            int max = random.Next(3) switch
            {
                0 => random.Next(KplFormat.Overhead + 300, 4_000),
                1 => random.Next(20_000, 200_000),
                _ => RecordAggregator.DefaultMaxRecordBytes,
            };
            var aggregator = new RecordAggregator(max);
            var records = AggregationSamples.Records(random, random.Next(1, 400), keyPool: random.Next(1, 300));
            int taken = 0;
            foreach (var record in records)
            {
                long alone = record.Data.Length + Encoding.UTF8.GetByteCount(record.PartitionKey);
                if (alone > max)
                {
                    Assert.Throws<ArgumentException>(() => aggregator.TryAdd(record));
                    continue;
                }
                long predicted = aggregator.RequestBytesWith(record);
                bool added = aggregator.TryAdd(record);
                Assert.Equal(predicted <= max, added);
                if (!added)
                    break;
                taken++;
                Assert.Equal(predicted, aggregator.RequestBytes);
                if (taken <= 10 || taken % 40 == 0) // every step of a large aggregate would be quadratic
                    AssertEntryMatches(aggregator, $"round {round}, {taken} records");
            }
            if (aggregator.Count > 0)
                AssertEntryMatches(aggregator, $"round {round}, all {aggregator.Count} records");
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Table_indexes_and_lengths_across_varint_boundaries_are_sized_exactly()
    {
        // 130 distinct keys make two-byte indexes; data of 127/128 and 16383/16384 bytes make one-, two- and
        // three-byte lengths, and 2^21 - 1/2^21 three- and four-byte ones (a stream of 10 MiB records), for the data
        // and for the Record around them.
        await Task.Yield();
        var aggregator = new RecordAggregator(10 * 1024 * 1024);
        for (int i = 0; i < 130; i++)
            Assert.True(aggregator.TryAdd(new UserRecord($"key-{i}", i % 3 == 0 ? HashKeys.Format((UInt128)i * 1_000_003u) : null, new byte[i])));
        foreach (int length in new[] { 0, 124, 125, 126, 127, 128, 129, 16_380, 16_381, 16_382, 16_383, 16_384, 16_385, 2_097_140, 2_097_141, 2_097_142, 2_097_150, 2_097_151, 2_097_152 })
        {
            var record = new UserRecord("key-129", "340282366920938463463374607431768211455", new byte[length]);
            if (aggregator.RequestBytesWith(record) > aggregator.MaxRecordBytes)
                continue;
            Assert.True(aggregator.TryAdd(record));
            AssertEntryMatches(aggregator, $"data of {length} bytes");
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_lone_record_is_sent_as_it_is()
    {
        await Task.Yield();
        var aggregator = new RecordAggregator();
        byte[] data = "just one"u8.ToArray();
        Assert.True(aggregator.TryAdd(new UserRecord("only", "99", data)));
        var entry = aggregator.ToEntry();
        Assert.Equal("only", entry.PartitionKey);
        Assert.Equal("99", entry.ExplicitHashKey);
        Assert.Equal(data, entry.Data.ToArray());
        Assert.Equal(data.Length + 4, aggregator.RequestBytes);

        aggregator.Clear();
        Assert.True(aggregator.TryAdd(new UserRecord("only", data)));
        Assert.Null(aggregator.ToEntry().ExplicitHashKey);
        var read = Assert.Single(Deaggregator.Deaggregate(aggregator.ToEntry().Data, "only", "5"));
        Assert.False(read.IsAggregated);
    }

    [Fact(Timeout = 10000)]
    public async Task An_aggregate_is_routed_by_its_first_records_hash_key()
    {
        await Task.Yield();
        var aggregator = new RecordAggregator();
        Assert.True(aggregator.TryAdd(new UserRecord("a", "b"u8.ToArray())));
        Assert.True(aggregator.TryAdd(new UserRecord("c", "12", "d"u8.ToArray())));
        var entry = aggregator.ToEntry();
        Assert.Equal("a", entry.PartitionKey);
        Assert.Equal("16955237001963240173058271559858726497", entry.ExplicitHashKey); // MD5("a") as a big-endian integer

        aggregator.Clear();
        Assert.True(aggregator.TryAdd(new UserRecord("c", "12", "d"u8.ToArray())));
        Assert.True(aggregator.TryAdd(new UserRecord("a", "b"u8.ToArray())));
        Assert.Equal("12", aggregator.ToEntry().ExplicitHashKey);
        Assert.Equal(HashKeys.OfPartitionKey("été-😀"), HashKeys.Parse("35219373899775254567328081922598139304"));
    }

    [Fact(Timeout = 10000)]
    public async Task The_limit_counts_data_and_partition_key_and_a_full_aggregator_refuses_without_change()
    {
        await Task.Yield();
        const int max = 1000;
        var aggregator = new RecordAggregator(max);
        string key = new('k', 100);
        Assert.True(aggregator.TryAdd(new UserRecord(key, new byte[max - 100]))); // exactly the limit, alone
        Assert.Equal(max, aggregator.RequestBytes);
        Assert.False(aggregator.TryAdd(new UserRecord("x", Array.Empty<byte>())));
        Assert.Equal(1, aggregator.Count);
        Assert.Equal(max, aggregator.RequestBytes);
        Assert.Throws<ArgumentException>(() => new RecordAggregator(max).TryAdd(new UserRecord(key, new byte[max - 99])));

        aggregator.Clear();
        Assert.Equal(0, aggregator.RequestBytes);
        Assert.Throws<InvalidOperationException>(() => aggregator.ToEntry());
        var filler = new UserRecord("f", new byte[100]);
        while (aggregator.TryAdd(filler))
        {
        }
        Assert.True(aggregator.RequestBytes <= max);
        Assert.True(aggregator.RequestBytesWith(filler) > max);
        AssertEntryMatches(aggregator, "full");
    }

    [Fact(Timeout = 10000)]
    public async Task Records_Kinesis_would_refuse_are_refused()
    {
        await Task.Yield();
        var aggregator = new RecordAggregator();
        Assert.Throws<ArgumentException>(() => aggregator.TryAdd(new UserRecord("", "x"u8.ToArray())));
        Assert.Throws<ArgumentException>(() => aggregator.TryAdd(new UserRecord(new string('k', 257), "x"u8.ToArray())));
        foreach (string bad in new[] { "", "01", "-1", "+1", " 1", "1 ", "1e5", "340282366920938463463374607431768211456", "abc" })
            Assert.Throws<ArgumentException>(() => aggregator.TryAdd(new UserRecord("k", bad, "x"u8.ToArray())));
        Assert.True(aggregator.TryAdd(new UserRecord(new string('k', 256), "0", "x"u8.ToArray())));
        Assert.Equal(1, aggregator.Count);
    }

    /// <summary>The entry's sizes are those predicted, and it reads back as the records added, in order.</summary>
    private static void AssertEntryMatches(RecordAggregator aggregator, string context)
    {
        var entry = aggregator.ToEntry();
        Assert.True(entry.Data.Length == aggregator.DataBytes, $"{context}: data of {entry.Data.Length} bytes, {aggregator.DataBytes} predicted");
        Assert.True(entry.RequestBytes == aggregator.RequestBytes, $"{context}: {entry.RequestBytes} request bytes, {aggregator.RequestBytes} predicted");
        Assert.True(entry.RequestBytes <= aggregator.MaxRecordBytes, $"{context}: over the limit");
        var expected = Enumerable.Range(0, aggregator.Count).Select(i => aggregator[i]).ToList();
        Assert.Equal(expected[0].PartitionKey, entry.PartitionKey);
        var read = Deaggregator.Deaggregate(entry.Data, entry.PartitionKey, "1");
        Assert.Equal(expected.Count, read.Count);
        if (expected.Count == 1)
        {
            Assert.False(read[0].IsAggregated);
            Assert.Equal(expected[0].ExplicitHashKey, entry.ExplicitHashKey);
            Assert.True(expected[0].Data.Span.SequenceEqual(read[0].Data.Span));
            return;
        }
        Assert.Equal(HashKeys.Format(expected[0].EffectiveHashKey()), entry.ExplicitHashKey);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(read[i].IsAggregated);
            Assert.Equal(i, read[i].SubSequenceNumber);
            AggregationSamples.AssertSame(expected[i], read[i].PartitionKey, read[i].ExplicitHashKey, read[i].Data, $"{context}, record {i}");
        }
        Assert.Equal(KplFormat.EncodedLength(expected), entry.Data.Length);
    }
}
