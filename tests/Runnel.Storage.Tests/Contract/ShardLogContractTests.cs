using Runnel.Storage.Records;
using System.Text;
using Runnel.Storage.Log;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.Contract;

/// <summary>
/// What every <see cref="IShardLog"/> must do, written once against the interface: append, read, order,
/// offsets, read limits, time lookup, retention and concurrency. Each implementation runs it through a
/// one-line subclass in <c>Implementations.cs</c>. Nothing here looks at files or asserts timings.
/// </summary>
public abstract class ShardLogContractTests(IShardLogFactory factory)
{
    /// <summary>Small segments and a dense index, so that a few hundred records cross many segment boundaries.</summary>
    protected static readonly LogOptions Small = new() { SegmentBytes = 4096, IndexIntervalBytes = 256, Fsync = FsyncPolicy.Never };

    protected IShardLogFactory Factory { get; } = factory;

    protected IShardLog Open(TempDirectory dir, LogOptions? options = null) => Factory.Open(dir.Path, options ?? Small);

    [Fact(Timeout = 30000)]
    public async Task Appends_get_consecutive_offsets_and_read_back_in_order()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        Assert.Equal(0UL, log.NextOffset);
        Assert.Equal(0L, log.LastArrivalMillis);
        var first = await AppendAsync(log, "a", "b", "c");
        var second = await AppendAsync(log, "d");
        Assert.Equal(0UL, first.FirstOffset);
        Assert.Equal(3UL, second.FirstOffset);
        Assert.Equal(4UL, log.NextOffset);
        Assert.True(second.ArrivalMillis >= first.ArrivalMillis);
        Assert.Equal(second.ArrivalMillis, log.LastArrivalMillis);
        Assert.Equal(["a", "b", "c", "d"], ReadAllText(log));
        Assert.Equal(["c", "d"], ReadAllText(log, from: 2));
        Assert.Equal(["b"], ReadOnce(log, 1, maxRecords: 1).Records.Select(r => r.Text));
        Assert.Empty(ReadAllText(log, from: 4));
    }

    [Fact(Timeout = 30000)]
    public async Task Closing_returns_the_end_and_refuses_later_appends_but_keeps_reads()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        await AppendAsync(log, "a", "b");
        Assert.False(log.IsClosed);
        Assert.Equal(2UL, log.Close());
        Assert.True(log.IsClosed);
        Assert.Equal(2UL, log.Close()); // idempotent
        await Assert.ThrowsAsync<ShardClosedException>(async () => await AppendAsync(log, "c"));
        Assert.Equal(["a", "b"], ReadAllText(log));
        Assert.Equal(2UL, log.NextOffset);
    }

    [Fact(Timeout = 30000)]
    public async Task Appends_racing_a_close_are_either_written_before_the_end_or_refused()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        var appends = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            try { return (ulong?)(await AppendAsync(log, $"r{i}")).FirstOffset; }
            catch (ShardClosedException) { return null; }
        })).ToList();
        ulong end = await Task.Run(() => { Thread.Sleep(1); return log.Close(); });
        var results = await Task.WhenAll(appends);
        var acknowledged = results.Where(r => r is not null).Select(r => r!.Value).ToList();
        Assert.All(acknowledged, offset => Assert.True(offset < end, $"acknowledged offset {offset} is before the end {end}"));
        Assert.Equal((int)end, acknowledged.Count);
        Assert.Equal((int)end, ReadAll(log).Count);
    }

    [Fact(Timeout = 30000)]
    public async Task Every_record_of_a_batch_shares_its_arrival_time_and_keeps_its_keys()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        using var batch = new RecordBatch();
        batch.Add("p\u00e9-unicode", null, "one"u8);
        batch.Add("k2", "340282366920938463463374607431768211455", "two"u8);
        batch.Add("", null, ReadOnlySpan<byte>.Empty);
        var appended = await log.AppendAsync(batch);
        var records = ReadAll(log);
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal(appended.ArrivalMillis, r.ArrivalMillis));
        Assert.Equal("p\u00e9-unicode", records[0].PartitionKey);
        Assert.Equal("", records[0].ExplicitHashKey);
        Assert.Equal("340282366920938463463374607431768211455", records[1].ExplicitHashKey);
        Assert.Equal("two", records[1].Text);
        Assert.Equal("", records[2].PartitionKey);
        Assert.Empty(records[2].Data);
    }

    [Fact(Timeout = 30000)]
    public async Task An_empty_batch_appends_nothing_and_takes_no_offset()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        using (var empty = new RecordBatch())
        {
            var nothing = await log.AppendAsync(empty);
            Assert.Equal(0UL, nothing.FirstOffset);
        }
        Assert.Equal(0UL, log.NextOffset);
        await AppendAsync(log, "a", "b");
        using (var empty = new RecordBatch())
        {
            var nothing = await log.AppendAsync(empty);
            Assert.Equal(2UL, nothing.FirstOffset);
            Assert.Equal(log.LastArrivalMillis, nothing.ArrivalMillis);
        }
        Assert.Equal(2UL, log.NextOffset);
        Assert.Equal(2UL, (await AppendAsync(log, "c")).FirstOffset);
        Assert.Equal(["a", "b", "c"], ReadAllText(log));
    }

    [Fact(Timeout = 30000)]
    public async Task Reads_cross_segment_boundaries_and_find_any_offset()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        var expected = new List<string>();
        for (int i = 0; i < 500; i++)
        {
            string v = $"record-{i:D4}-" + new string('x', i % 50);
            expected.Add(v);
            await AppendAsync(log, v);
        }
        Assert.Equal(expected, ReadAllText(log));
        for (int from = 0; from < 500; from += 37)
        {
            var (records, next) = ReadOnce(log, (ulong)from, 10);
            Assert.Equal(expected.Skip(from).Take(10), records.Select(r => r.Text));
            Assert.Equal((ulong)Math.Min(from + 10, 500), next);
            AssertInOrder(records);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Reading_at_or_past_the_end_returns_nothing_and_the_end_offset()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        var (none, nextOnEmpty) = ReadOnce(log, 0);
        Assert.Empty(none);
        Assert.Equal(0UL, nextOnEmpty);
        await AppendAsync(log, "a", "b", "c");
        foreach (ulong from in new ulong[] { 3, 4, 1000, ulong.MaxValue })
        {
            var (records, next) = ReadOnce(log, from);
            Assert.Empty(records);
            Assert.Equal(3UL, next);
        }
        var (zero, nextAfterZero) = ReadOnce(log, 1, maxRecords: 0);
        Assert.Empty(zero);
        Assert.Equal(1UL, nextAfterZero);
    }

    [Fact(Timeout = 30000)]
    public async Task Reads_stop_at_maxRecords()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        for (int i = 0; i < 300; i++)
            await AppendAsync(log, $"r{i}");
        foreach (int max in new[] { 1, 2, 7, 100, 299, 300, 301 })
        {
            foreach (ulong from in new ulong[] { 0, 5, 150, 299 })
            {
                var (records, next) = ReadOnce(log, from, max);
                int expected = (int)Math.Min(max, 300 - (int)from);
                Assert.Equal(expected, records.Count);
                Assert.Equal(from, records[0].Offset);
                Assert.Equal(from + (ulong)expected, next);
                AssertInOrder(records);
            }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Reads_stop_before_exceeding_maxBytes_but_return_at_least_one_record()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        var random = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            var data = new byte[random.Next(0, 700)];
            random.NextBytes(data);
            await AppendBytesAsync(log, data, partitionKey: $"pk{i}");
        }
        var all = ReadAll(log);
        Assert.Equal(200, all.Count);
        static long Payload(StoredRecord r) => r.Data.Length + Encoding.UTF8.GetByteCount(r.PartitionKey);

        foreach (long maxBytes in new long[] { 0, 1, 50, 300, 1000, 5000, 100_000 })
        {
            foreach (int from in new[] { 0, 3, 100, 199 })
            {
                using var result = await log.ReadAsync((ulong)from, 1000, maxBytes, 0);
                var records = Copy(result);
                Assert.NotEmpty(records); // at least one, even when it alone is larger than maxBytes
                Assert.Equal((ulong)from, records[0].Offset);
                AssertInOrder(records);
                Assert.Equal(records.Sum(Payload), result.PayloadBytes);
                if (records.Count > 1)
                    Assert.True(result.PayloadBytes <= maxBytes, $"{result.PayloadBytes} bytes returned for maxBytes {maxBytes}");
                int after = from + records.Count;
                if (after < all.Count)
                    Assert.True(result.PayloadBytes + Payload(all[after]) > maxBytes, "the read stopped although the next record fit");
                Assert.Equal((ulong)after, result.NextOffset);
                for (int i = 0; i < records.Count; i++)
                    Assert.Equal(all[from + i].Data, records[i].Data);
            }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Reads_skip_records_that_arrived_before_minArrival()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        var arrivals = new List<long>();
        for (int i = 0; i < 6; i++)
        {
            arrivals.Add((await AppendAsync(log, Enumerable.Range(0, 20).Select(j => $"b{i}-{j}-" + new string('z', 60)).ToArray())).ArrivalMillis);
            await WaitForNextMillisecondAsync(arrivals[^1]);
        }
        var all = ReadAll(log);
        foreach (long minArrival in arrivals.Concat([0, arrivals[2] - 1, arrivals[2] + 1]))
        {
            var expected = all.Where(r => r.ArrivalMillis >= minArrival).ToList();
            var (records, next) = ReadOnce(log, 0, minArrival: minArrival);
            Assert.Equal(expected.Select(r => r.Offset), records.Select(r => r.Offset));
            Assert.Equal(log.NextOffset, next);
            Assert.Equal(expected.Select(r => r.Offset), ReadAll(log, minArrival: minArrival, pageRecords: 7).Select(r => r.Offset));
        }

        // Everything older: nothing returned, and the reader is moved to the end rather than left behind.
        var (none, end) = ReadOnce(log, 0, minArrival: arrivals[^1] + 1);
        Assert.Empty(none);
        Assert.Equal(log.NextOffset, end);

        // The skipped records do not count against maxRecords.
        var (one, afterOne) = ReadOnce(log, 0, maxRecords: 1, minArrival: arrivals[3]);
        Assert.Equal(all.First(r => r.ArrivalMillis >= arrivals[3]).Offset, Assert.Single(one).Offset);
        Assert.Equal(one[0].Offset + 1, afterOne);
    }

    [Fact(Timeout = 30000)]
    public async Task FirstOffsetAtOrAfter_on_an_empty_log_is_zero()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        Assert.Equal(0UL, await log.FirstOffsetAtOrAfterAsync(0));
        Assert.Equal(0UL, await log.FirstOffsetAtOrAfterAsync(long.MinValue));
        Assert.Equal(0UL, await log.FirstOffsetAtOrAfterAsync(long.MaxValue));
        await Task.CompletedTask;
    }

    [Fact(Timeout = 30000)]
    public async Task FirstOffsetAtOrAfter_is_the_first_record_at_or_after_any_time_before_between_exact_and_after()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        for (int i = 0; i < 12; i++)
        {
            var appended = await AppendAsync(log, Enumerable.Range(0, 1 + i % 4).Select(j => $"t{i}-{j}-" + new string('q', 100)).ToArray());
            if (i % 3 != 2)
                await WaitForNextMillisecondAsync(appended.ArrivalMillis); // some batches share a millisecond, most do not
        }
        var all = ReadAll(log);
        ulong Expected(long t) => all.FirstOrDefault(r => r.ArrivalMillis >= t)?.Offset ?? log.NextOffset;

        var times = all.Select(r => r.ArrivalMillis).Distinct().SelectMany(t => new[] { t - 1, t, t + 1 })
            .Concat([long.MinValue, 0, all[0].ArrivalMillis - 100_000, all[^1].ArrivalMillis + 100_000, long.MaxValue]);
        foreach (long t in times)
            Assert.True(Expected(t) == await log.FirstOffsetAtOrAfterAsync(t), $"FirstOffsetAtOrAfter({t}) = {await log.FirstOffsetAtOrAfterAsync(t)}, expected {Expected(t)}");

        Assert.Equal(0UL, await log.FirstOffsetAtOrAfterAsync(all[0].ArrivalMillis)); // exact first
        Assert.Equal(log.NextOffset, await log.FirstOffsetAtOrAfterAsync(all[^1].ArrivalMillis + 1)); // after all
        Assert.Equal(all.First(r => r.ArrivalMillis == all[^1].ArrivalMillis).Offset, await log.FirstOffsetAtOrAfterAsync(all[^1].ArrivalMillis)); // exact last
    }

    [Theory(Timeout = 60000)]
    [InlineData(1 << 20)]
    [InlineData(10 << 20)]
    public async Task Large_records_are_stored_and_read_back_intact(int size)
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        var big = new byte[size];
        new Random(size).NextBytes(big);
        await AppendAsync(log, "before");
        Assert.Equal(1UL, (await AppendBytesAsync(log, big)).FirstOffset);
        await AppendAsync(log, "after");

        var (one, next) = ReadOnce(log, 1, maxRecords: 10, maxBytes: 1);
        Assert.Equal(big, Assert.Single(one).Data); // larger than maxBytes, returned alone
        Assert.Equal(2UL, next);
        var (both, _) = ReadOnce(log, 0, maxRecords: 10, maxBytes: size + 100);
        Assert.Equal(3, both.Count);
        Assert.Equal(big, both[1].Data);
        Assert.Equal("after", both[2].Text);
        var (stopped, afterStop) = ReadOnce(log, 0, maxRecords: 10, maxBytes: size - 1);
        Assert.Equal("before", Assert.Single(stopped).Text); // the big one would exceed maxBytes
        Assert.Equal(1UL, afterStop);
    }

    [Fact(Timeout = 60000)]
    public async Task Concurrent_appends_are_all_stored_once_in_offset_order()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir, Small with { Fsync = FsyncPolicy.Always });
        var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(() => AppendAsync(log, $"c{i}", $"c{i}-second"))).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(200, results.Select(r => r.FirstOffset).Distinct().Count());
        var stored = ReadAllText(log);
        Assert.Equal(400, stored.Count);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"c{i}", stored[(int)results[i].FirstOffset]); // a batch stays together
            Assert.Equal($"c{i}-second", stored[(int)results[i].FirstOffset + 1]);
        }
    }

    /// <summary>
    /// Readers tail the log while writers append to it. Every read must be a consistent piece of the log
    /// (consecutive offsets from where it was asked, nothing past what is committed, never nothing when
    /// something is there), and every reader ends up with exactly what the writers were acknowledged,
    /// while the writers finish with readers reading all along: a reader that blocked a writer would hang
    /// this test into its timeout.
    /// </summary>
    [Fact(Timeout = 60000)]
    public async Task Readers_never_block_writers_and_always_see_a_consistent_prefix()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        const int Writers = 3, BatchesPerWriter = 300;
        using var writersDone = new CancellationTokenSource();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<ulong, string>();

        async Task Write(int writer)
        {
            ulong previous = 0;
            for (int b = 0; b < BatchesPerWriter; b++)
            {
                var values = Enumerable.Range(0, 1 + b % 3).Select(j => $"w{writer}-b{b}-r{j}-" + new string('v', (b * 7 + j) % 90)).ToArray();
                var result = await Task.Run(() => AppendAsync(log, values));
                Assert.True(b == 0 || result.FirstOffset > previous, "one writer's batches keep their order");
                previous = result.FirstOffset;
                for (int j = 0; j < values.Length; j++)
                    Assert.True(acknowledged.TryAdd(result.FirstOffset + (ulong)j, values[j]), "an offset was given twice");
            }
        }

        async Task<(List<StoredRecord> Seen, int Reads)> Tail(int pageRecords, long pageBytes)
        {
            var seen = new List<StoredRecord>();
            ulong cursor = 0;
            int reads = 0;
            await Task.Yield();
            while (reads < 1_000_000)
            {
                bool finished = writersDone.IsCancellationRequested; // read before the log, so the last pass sees everything
                ulong before = log.NextOffset;
                var (records, next) = ReadOnce(log, cursor, pageRecords, pageBytes);
                reads++;
                if (records.Count > 0)
                {
                    Assert.Equal(cursor, records[0].Offset);
                    AssertInOrder(records);
                    Assert.Equal(records[^1].Offset + 1, next);
                }
                Assert.True(next >= cursor, "a read went backwards");
                Assert.True(next <= log.NextOffset, "a read returned offsets that are not committed");
                Assert.True(records.Count > 0 || cursor >= before, "a read returned nothing although committed records were there");
                seen.AddRange(records);
                cursor = next;
                if (finished && cursor == log.NextOffset)
                    break;
                if (records.Count == 0)
                    await Task.Yield();
            }
            return (seen, reads);
        }

        var readers = new[] { Task.Run(() => Tail(50, 4096)), Task.Run(() => Tail(1, long.MaxValue)), Task.Run(() => Tail(1000, 1)) };
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => Write(w))));
        await writersDone.CancelAsync();
        var tails = await Task.WhenAll(readers);

        int total = acknowledged.Count;
        Assert.Equal((ulong)total, log.NextOffset);
        foreach (var (seen, _) in tails)
        {
            Assert.Equal(total, seen.Count);
            for (int i = 0; i < seen.Count; i++)
            {
                Assert.Equal((ulong)i, seen[i].Offset);
                Assert.Equal(acknowledged[(ulong)i], seen[i].Text);
            }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Retention_removes_only_a_prefix_and_offsets_keep_growing()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        var arrivals = new List<long>();
        for (int i = 0; i < 8; i++)
        {
            arrivals.Add((await AppendAsync(log, Enumerable.Range(0, 25).Select(j => $"old-{i}-{j}-" + new string('y', 40)).ToArray())).ArrivalMillis);
            await WaitForNextMillisecondAsync(arrivals[^1]);
        }
        var before = ReadAll(log);
        Assert.Equal(200, before.Count);

        log.EnforceRetention(arrivals[4]);
        var kept = ReadAll(log);
        Assert.Equal(200UL, log.NextOffset);
        Assert.NotEmpty(kept);
        Assert.Equal(199UL, kept[^1].Offset);
        AssertInOrder(kept); // a suffix of the log: no holes
        Assert.All(before.Where(r => r.ArrivalMillis >= arrivals[4]), r => Assert.Contains(kept, k => k.Offset == r.Offset && k.Text == r.Text));
        Assert.Equal(kept[0].Offset, await log.FirstOffsetAtOrAfterAsync(0));

        log.EnforceRetention(arrivals[^1] + 1);
        Assert.Empty(ReadAll(log));
        Assert.Equal(200UL, log.NextOffset);
        Assert.Equal(200UL, await log.FirstOffsetAtOrAfterAsync(0));
        Assert.Equal(200UL, (await AppendAsync(log, "new")).FirstOffset);
        Assert.Equal(["new"], ReadAllText(log));
        Assert.Equal(["new"], ReadAllText(log, from: 0));
    }

    /// <summary>
    /// An append that arrives while retention runs must still complete: retention holds the writer for a
    /// moment, and whoever holds it must write what was queued meanwhile. Each round has a single append,
    /// so nothing else would ever pick up a stranded one.
    /// </summary>
    [Fact(Timeout = 60000)]
    public async Task An_append_racing_retention_is_never_stranded()
    {
        using var dir = new TempDirectory();
        using var log = Open(dir);
        for (int round = 0; round < 300; round++)
        {
            using var start = new Barrier(2);
            var retention = Task.Run(() =>
            {
                start.SignalAndWait();
                log.EnforceRetention(long.MaxValue);
            });
            var append = Task.Run(async () =>
            {
                start.SignalAndWait();
                return await AppendAsync(log, $"round-{round}");
            });
            await retention;
            var appended = await append.WaitAsync(TimeSpan.FromSeconds(10)); // hang detector, not a timing
            Assert.Equal((ulong)round, appended.FirstOffset);
        }
        Assert.Equal(300UL, log.NextOffset);
    }

    /// <summary>Returns once the wall clock has moved past <paramref name="millis"/>, so the next append
    /// gets a later arrival time.</summary>
    protected static async Task WaitForNextMillisecondAsync(long millis)
    {
        for (int i = 0; i < 1000 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() <= millis; i++)
            await Task.Delay(1);
    }
}
