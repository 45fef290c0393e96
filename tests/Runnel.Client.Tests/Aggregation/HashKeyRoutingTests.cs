using Runnel.Client.Aggregation;

namespace Runnel.Client.Tests.Aggregation;

public sealed class HashKeyRoutingTests
{
    [Fact(Timeout = 10000)]
    public async Task A_partition_keys_hash_key_is_its_MD5_read_big_endian()
    {
        await Task.Yield();
        Assert.Equal(HashKeys.Parse("318996840767547934070577442296912359277"), HashKeys.OfPartitionKey("pk-0"));
        Assert.Equal(HashKeys.Parse("16955237001963240173058271559858726497"), HashKeys.OfPartitionKey("a"));
        Assert.Equal(HashKeys.Parse("35219373899775254567328081922598139304"), HashKeys.OfPartitionKey("été-😀")); // UTF-8 bytes
        Assert.Equal(HashKeys.OfPartitionKey(new string('é', 2000)), HashKeys.OfPartitionKey(new string('é', 2000))); // the pooled buffer
        Assert.Equal((UInt128)12345, HashKeys.Effective("pk-x", "12345"));
        Assert.Equal(HashKeys.OfPartitionKey("pk-x"), HashKeys.Effective("pk-x", null));
    }

    [Fact(Timeout = 10000)]
    public async Task Explicit_hash_keys_parse_as_Kinesis_takes_them()
    {
        await Task.Yield();
        Assert.True(HashKeys.TryParse("0", out var zero));
        Assert.Equal(UInt128.Zero, zero);
        Assert.True(HashKeys.TryParse("340282366920938463463374607431768211455", out var max));
        Assert.Equal(UInt128.MaxValue, max);
        Assert.Equal("340282366920938463463374607431768211455", HashKeys.Format(max));
        foreach (string bad in new[] { "", "00", "01", "-0", "-1", "+1", " 1", "1 ", "1_0", "1.0", "0x10", "١٢", "340282366920938463463374607431768211456", "1000000000000000000000000000000000000000" })
            Assert.False(HashKeys.TryParse(bad, out _), bad);
        Assert.Throws<FormatException>(() => HashKeys.Parse("x"));
        var random = new Random(3);
        for (int i = 0; i < 10_000; i++)
        {
            var key = AggregationSamples.HashKey(random);
            Assert.True(HashKeys.TryParse(HashKeys.Format(key), out var back));
            Assert.Equal(key, back);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task The_shard_map_agrees_with_a_linear_scan()
    {
        await Task.Yield();
        var random = new Random(11);
        for (int round = 0; round < 200; round++)
        {
            // The hash-key space cut at random points, and sometimes a shard or two left out (a map read mid-reshard).
            int count = random.Next(1, 60);
            var cuts = new SortedSet<UInt128>();
            while (cuts.Count < count - 1)
                cuts.Add(AggregationSamples.HashKey(random) | UInt128.One);
            var starts = new List<UInt128> { UInt128.Zero };
            starts.AddRange(cuts);
            var shards = new List<(string, UInt128, UInt128)>();
            for (int i = 0; i < starts.Count; i++)
                shards.Add(($"shardId-{i:D12}", starts[i], i + 1 < starts.Count ? starts[i + 1] - UInt128.One : UInt128.MaxValue));
            bool gaps = round % 3 == 0 && shards.Count > 2;
            if (gaps)
                shards.RemoveAt(random.Next(shards.Count));
            var shuffled = shards.OrderBy(_ => random.Next()).ToList();
            var map = new ShardMap(shuffled);
            Assert.Equal(!gaps, map.IsComplete);

            var probes = new List<UInt128> { UInt128.Zero, UInt128.MaxValue };
            foreach (var (_, start, end) in shards)
                probes.AddRange([start, end, start - UInt128.One, end + UInt128.One]); // wrapping at the ends is fine: still hash keys
            for (int i = 0; i < 200; i++)
                probes.Add(AggregationSamples.HashKey(random));
            foreach (var probe in probes)
            {
                var expected = shards.Where(s => s.Item2 <= probe && probe <= s.Item3).Select(s => s.Item1).SingleOrDefault();
                bool found = map.TryFind(probe, out var shard);
                Assert.Equal(expected is not null, found);
                if (found)
                    Assert.Equal(expected, shard.ShardId);
            }
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_map_takes_ListShards_text_and_refuses_overlapping_shards()
    {
        await Task.Yield();
        var map = ShardMap.FromListShards(
        [
            ("shardId-000000000001", "170141183460469231731687303715884105728", "340282366920938463463374607431768211455"),
            ("shardId-000000000000", "0", "170141183460469231731687303715884105727"),
        ]);
        Assert.True(map.IsComplete);
        Assert.Equal("shardId-000000000000", map.Shards[0].ShardId);
        Assert.True(map.TryFind("pk-0", null, out var shard)); // MD5("pk-0") is above 2^127
        Assert.Equal("shardId-000000000001", shard.ShardId);
        Assert.True(map.TryFind("pk-0", "5", out shard));
        Assert.Equal("shardId-000000000000", shard.ShardId);

        Assert.Throws<ArgumentException>(() => new ShardMap([("parent", UInt128.Zero, UInt128.MaxValue), ("child", UInt128.Zero, (UInt128)100)]));
        Assert.Throws<ArgumentException>(() => new ShardMap([("backwards", (UInt128)5, (UInt128)4)]));
        Assert.Throws<FormatException>(() => ShardMap.FromListShards([("s", "0", "-1")]));
        var empty = new ShardMap([]);
        Assert.False(empty.IsComplete);
        Assert.False(empty.TryFind(UInt128.Zero, out _));
    }

    [Fact(Timeout = 30000)]
    public async Task Filtering_by_a_shards_range_drops_exactly_the_user_records_outside()
    {
        await Task.Yield();
        var random = new Random(23);
        for (int round = 0; round < 300; round++)
        {
            var records = AggregationSamples.Records(random, random.Next(2, 80), keyPool: random.Next(1, 40));
            byte[] aggregate = KplFormat.Encode(records);
            var (a, b) = (AggregationSamples.HashKey(random), AggregationSamples.HashKey(random));
            var range = round % 10 == 0 ? HashRange.All : new HashRange(UInt128.Min(a, b), UInt128.Max(a, b));

            var read = Deaggregator.Deaggregate(aggregate, "pk", "1", range);
            var expected = records.Select((r, i) => (Record: r, Index: i)).Where(x => range.Contains(x.Record.EffectiveHashKey())).ToList();
            Assert.Equal(expected.Count, read.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Index, read[i].SubSequenceNumber); // the place in the aggregate, not in the answer
                AggregationSamples.AssertSame(expected[i].Record, read[i].PartitionKey, read[i].ExplicitHashKey, read[i].Data, $"round {round}");
            }
            Assert.Equal(records.Count, Deaggregator.Deaggregate(aggregate, "pk", "1").Count);
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_record_that_is_not_an_aggregate_and_a_foreign_unparsable_hash_key_are_never_filtered_out()
    {
        await Task.Yield();
        var nothing = new HashRange(UInt128.Zero, UInt128.Zero); // holds no partition key's MD5 in practice
        Assert.Single(Deaggregator.Deaggregate("plain"u8.ToArray(), "pk", "1", nothing));

        // Kinesis checks an entry's explicit hash key, never those inside an aggregate: another producer may write anything.
        byte[] aggregate = KplFormat.Encode([new UserRecord("a", "not a number", "x"u8.ToArray()), new UserRecord("b", "0007", "y"u8.ToArray()), new UserRecord("c", "8", "z"u8.ToArray())]);
        var read = Deaggregator.Deaggregate(aggregate, "a", "1", new HashRange((UInt128)5, (UInt128)7));
        Assert.Equal(new[] { "not a number", "0007" }, read.Select(r => r.ExplicitHashKey));
        Assert.Equal(new[] { 0L, 1L }, read.Select(r => r.SubSequenceNumber));
    }

    [Fact(Timeout = 30000)]
    public async Task Sharded_aggregates_hold_records_of_one_shard_and_land_on_it()
    {
        await Task.Yield();
        var random = new Random(29);
        UInt128 quarter = UInt128.MaxValue / 4;
        var shards = Enumerable.Range(0, 4).Select(i => ($"shardId-{i:D12}", quarter * (UInt128)i + (UInt128)i, i == 3 ? UInt128.MaxValue : quarter * (UInt128)(i + 1) + (UInt128)i)).ToList();
        var map = new ShardMap(shards);
        Assert.True(map.IsComplete);
        var aggregator = new ShardedAggregator(map, 40_000);
        var records = AggregationSamples.Records(random, 3000, keyPool: 50);
        var entries = new List<AggregatedEntry>();
        foreach (var record in records)
            entries.AddRange(aggregator.Add(record));
        Assert.True(aggregator.PendingRecords > 0);
        entries.AddRange(aggregator.FlushAll());
        Assert.Equal(0, aggregator.PendingRecords);
        Assert.Null(aggregator.Flush("shardId-000000000000"));

        foreach (var entry in entries)
        {
            Assert.NotNull(entry.PredictedShardId);
            Assert.True(entry.Entry.RequestBytes <= 40_000);
            Assert.True(map.TryFind(entry.Entry.PartitionKey, entry.Entry.ExplicitHashKey, out var landing));
            Assert.Equal(entry.PredictedShardId, landing.ShardId);
            foreach (var user in entry.UserRecords)
                Assert.True(landing.Range.Contains(user.EffectiveHashKey()));
            var read = Deaggregator.Deaggregate(entry.Entry.Data, entry.Entry.PartitionKey, "1", landing.Range);
            Assert.Equal(entry.UserRecords.Count, read.Count);
        }
        // Every record once, and in order within its shard.
        Assert.Equal(records.Count, entries.Sum(e => e.UserRecords.Count));
        foreach (var group in entries.GroupBy(e => e.PredictedShardId))
        {
            var sent = group.SelectMany(e => e.UserRecords).ToList();
            var given = records.Where(r => map.TryFind(r.EffectiveHashKey(), out var s) && s.ShardId == group.Key).ToList();
            Assert.Equal(given, sent);
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_record_no_shard_holds_is_sent_alone_at_once()
    {
        await Task.Yield();
        var map = new ShardMap([("shardId-000000000000", UInt128.Zero, (UInt128)1000)]);
        var aggregator = new ShardedAggregator(map);
        Assert.Empty(aggregator.Add(new UserRecord("a", "10", "x"u8.ToArray())));
        var alone = Assert.Single(aggregator.Add(new UserRecord("a", "2000", "y"u8.ToArray())));
        Assert.Null(alone.PredictedShardId);
        Assert.Equal("2000", alone.Entry.ExplicitHashKey);
        Assert.Equal("y"u8.ToArray(), alone.Entry.Data.ToArray());
        Assert.Throws<ArgumentException>(() => aggregator.Add(new UserRecord("a", "x", "z"u8.ToArray())));
        Assert.Equal(1, aggregator.PendingRecords);
    }
}
