using Runnel.Storage.Records;
using Runnel.Storage.Log;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.Contract;

/// <summary>
/// The contract of a log that keeps its records across <see cref="IDisposable.Dispose"/> and a new
/// <see cref="IShardLogFactory.Open"/> of the same directory: everything in
/// <see cref="ShardLogContractTests"/>, plus reopening under every fsync policy.
/// </summary>
public abstract class DurableShardLogContractTests(IShardLogFactory factory) : ShardLogContractTests(factory)
{
    [Fact(Timeout = 30000)]
    public async Task Reopening_keeps_every_record_and_continues_the_offsets()
    {
        using var dir = new TempDirectory();
        List<StoredRecord> written;
        long lastArrival;
        using (var log = Open(dir))
        {
            for (int i = 0; i < 300; i++)
                await AppendAsync(log, $"v{i}-" + new string('r', i % 64));
            written = ReadAll(log);
            lastArrival = log.LastArrivalMillis;
        }
        using (var log = Open(dir))
        {
            Assert.Equal(300UL, log.NextOffset);
            Assert.Equal(lastArrival, log.LastArrivalMillis);
            Assert.Equal(written, ReadAll(log), StoredRecordComparer.Instance);
            for (long t = written[0].ArrivalMillis - 1; t <= written[^1].ArrivalMillis + 1; t++)
                Assert.Equal(written.FirstOrDefault(r => r.ArrivalMillis >= t)?.Offset ?? 300UL, await log.FirstOffsetAtOrAfterAsync(t));
            var next = await AppendAsync(log, "after");
            Assert.Equal(300UL, next.FirstOffset);
            Assert.True(next.ArrivalMillis >= lastArrival, "arrival times never go back, even across a reopen");
        }
        using (var log = Open(dir))
        {
            Assert.Equal(301UL, log.NextOffset);
            Assert.Equal("after", ReadAll(log)[^1].Text);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Reopening_an_empty_log_keeps_it_empty()
    {
        using var dir = new TempDirectory();
        using (Open(dir)) { }
        using (var log = Open(dir))
        {
            Assert.Equal(0UL, log.NextOffset);
            Assert.Equal(0L, log.LastArrivalMillis);
            Assert.Empty(ReadAll(log));
            Assert.Equal(0UL, (await AppendAsync(log, "first")).FirstOffset);
        }
    }

    [Theory(Timeout = 30000)]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Interval)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Every_fsync_policy_stores_and_reopens_the_same_records(FsyncPolicy policy)
    {
        using var dir = new TempDirectory();
        var options = Small with { Fsync = policy, FsyncInterval = TimeSpan.FromMilliseconds(5) };
        var expected = ExpectedWorkload();
        using (var log = Open(dir, options))
        {
            await WriteWorkloadAsync(log);
            log.Flush();
            Assert.Equal(expected, ReadAll(log).Select(Logical));
        }
        using (var log = Open(dir, options))
            Assert.Equal(expected, ReadAll(log).Select(Logical));
        // A log written under one policy opens under any other: the policy changes when, not what, is written.
        using (var log = Open(dir, options with { Fsync = policy == FsyncPolicy.Never ? FsyncPolicy.Always : FsyncPolicy.Never }))
        {
            Assert.Equal(expected, ReadAll(log).Select(Logical));
            Assert.Equal((ulong)expected.Count, (await AppendAsync(log, "more")).FirstOffset);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Retention_survives_a_reopen()
    {
        using var dir = new TempDirectory();
        using (var log = Open(dir))
        {
            for (int i = 0; i < 200; i++)
                await AppendAsync(log, $"old-{i}-" + new string('y', 40));
            log.EnforceRetention(log.LastArrivalMillis + 1);
            Assert.Empty(ReadAll(log));
        }
        using (var log = Open(dir))
        {
            Assert.Equal(200UL, log.NextOffset);
            Assert.Empty(ReadAll(log));
            Assert.Equal(200UL, (await AppendAsync(log, "new")).FirstOffset);
            Assert.Equal(["new"], ReadAllText(log));
        }
        using (var log = Open(dir))
            Assert.Equal(["new"], ReadAllText(log));
    }

    [Fact(Timeout = 60000)]
    public async Task Large_records_survive_a_reopen()
    {
        using var dir = new TempDirectory();
        var sizes = new[] { 1 << 20, 10 << 20, 3, 1 << 20 };
        var data = sizes.Select((s, i) => { var b = new byte[s]; new Random(i).NextBytes(b); return b; }).ToList();
        using (var log = Open(dir, Small with { SegmentBytes = 32L << 20 }))
            foreach (var d in data)
                await AppendBytesAsync(log, d);
        using (var log = Open(dir, Small with { SegmentBytes = 32L << 20 }))
        {
            var records = ReadAll(log);
            Assert.Equal(data.Count, records.Count);
            for (int i = 0; i < data.Count; i++)
                Assert.Equal(data[i], records[i].Data);
        }
    }

    private static List<(ulong, string, string, string)> ExpectedWorkload() =>
        Enumerable.Range(0, 240).Select(i => ((ulong)i, $"pk-{i % 7}", i % 5 == 0 ? $"{i}" : "", $"value-{i}-" + new string('f', i % 97))).ToList();

    private static async Task WriteWorkloadAsync(IShardLog log)
    {
        var workload = ExpectedWorkload();
        for (int i = 0; i < workload.Count; i += 1 + i % 4)
        {
            using var batch = new RecordBatch();
            for (int j = i; j < Math.Min(i + 1 + i % 4, workload.Count); j++)
            {
                var (_, pk, ehk, data) = workload[j];
                batch.Add(pk, ehk.Length == 0 ? null : ehk, System.Text.Encoding.UTF8.GetBytes(data));
            }
            await log.AppendAsync(batch);
        }
    }

    private static (ulong, string, string, string) Logical(StoredRecord r) => (r.Offset, r.PartitionKey, r.ExplicitHashKey, r.Text);
}

/// <summary>Compares stored records by value (the data arrays by content).</summary>
public sealed class StoredRecordComparer : IEqualityComparer<StoredRecord>
{
    public static readonly StoredRecordComparer Instance = new();

    public bool Equals(StoredRecord? x, StoredRecord? y) =>
        x is not null && y is not null && x.Offset == y.Offset && x.ArrivalMillis == y.ArrivalMillis
        && x.PartitionKey == y.PartitionKey && x.ExplicitHashKey == y.ExplicitHashKey && x.Data.AsSpan().SequenceEqual(y.Data);

    public int GetHashCode(StoredRecord obj) => HashCode.Combine(obj.Offset, obj.ArrivalMillis);
}
