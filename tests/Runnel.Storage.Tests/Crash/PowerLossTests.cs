using System.Globalization;
using Runnel.Storage.Log;
using Xunit.Abstractions;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// The promise of <c>--fsync always</c>: a power loss keeps every acknowledged record. Three writers append to a shard
/// log (small segments, so that segments roll, indexes are written and the offset mark is raised) through a
/// <see cref="PowerLossDisk"/>; after a random number of acknowledgements the power goes: the disk keeps what was
/// fsynced and a prefix, cut at a random byte, of each file's unsynced tail, and loses every name whose directory was
/// not fsynced. The log recovers from that image and must hold every record acknowledged in every cycle so far, at its
/// offset, intact; nothing twice; nothing that was never written; offsets above every acknowledged one. The next cycle
/// writes on the recovered log, so recoveries build on recoveries (25 of them, then a fresh log).
/// <para>Cycles: <c>RUNNEL_POWER_CYCLES</c> (default 20 in CI; docs/reliability.md gives the figures of a run by hand).</para>
/// </summary>
[Trait("Category", "CrashConsistency")]
public class PowerLossTests(ITestOutputHelper output)
{
    private static int Cycles =>
        int.TryParse(Environment.GetEnvironmentVariable("RUNNEL_POWER_CYCLES"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? Math.Min(n, 100_000)
            : 20;

    /// <summary>Power losses one log goes through, each recovery building on the last, before a fresh log starts.</summary>
    private const int ChainLength = 25;

    [Fact(Timeout = 3_600_000)]
    public async Task With_fsync_always_a_power_loss_at_any_moment_keeps_every_acknowledged_record()
    {
        using var root = new TempDirectory();
        int seed = Environment.TickCount;
        var random = new Random(seed);
        string dir = Path.Combine(root.Path, "cycle-0");
        Directory.CreateDirectory(dir);
        var acknowledged = new Dictionary<ulong, string>();
        var attempted = new HashSet<string>(StringComparer.Ordinal);
        long dropped = 0, fsyncs = 0;
        long totalAcknowledged = 0, totalUnacknowledged = 0;
        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            if (cycle > 0 && cycle % ChainLength == 0)
            {
                // A fresh log every ChainLength power losses: each cycle re-reads its log whole, so the run stays linear.
                totalAcknowledged += acknowledged.Count;
                totalUnacknowledged += attempted.Count - acknowledged.Count;
                acknowledged.Clear();
                attempted.Clear();
                Directory.Delete(dir, recursive: true);
                Directory.CreateDirectory(dir);
            }
            var disk = new PowerLossDisk(dir);
            string image = Path.Combine(root.Path, $"cycle-{cycle + 1}");
            using (var log = ShardLog.Open(dir, new LogOptions { Fsync = FsyncPolicy.Always, SegmentBytes = 4096, IndexIntervalBytes = 256, Io = disk }))
            {
                Verify(log, acknowledged, attempted, $"seed {seed}, after power loss {cycle}");
                dropped += await WriteUntilPowerLossAsync(log, disk, cycle, random.Next(1, 200), random.Next(), image, acknowledged, attempted);
                fsyncs += disk.Fsyncs;
            } // what the log does after the power went (its clean close) happens on the old disk, which is dropped
            Directory.Delete(dir, recursive: true);
            dir = image;
        }
        using (var last = ShardLog.Open(dir, new LogOptions { Fsync = FsyncPolicy.Always, SegmentBytes = 4096, IndexIntervalBytes = 256 }))
            Verify(last, acknowledged, attempted, $"seed {seed}, after the last power loss");
        totalAcknowledged += acknowledged.Count;
        totalUnacknowledged += attempted.Count - acknowledged.Count;
        output.WriteLine($"seed {seed}: {Cycles} power losses, {totalAcknowledged} records acknowledged, all recovered, none twice; " +
            $"{totalUnacknowledged} written unacknowledged, {dropped} unsynced bytes dropped, {fsyncs} fsyncs");
    }

    /// <summary>Appends from three writers until the power goes, after <paramref name="crashAfter"/> changes to the files
    /// (the moment may fall between a write and its fsync); acknowledgements that arrive after it do not count.</summary>
    private static async Task<long> WriteUntilPowerLossAsync(ShardLog log, PowerLossDisk disk, int cycle, int crashAfter, int seed, string image,
        Dictionary<ulong, string> acknowledged, HashSet<string> attempted)
    {
        var gate = new Lock();
        disk.ScheduleCrash(crashAfter, image, new Random(seed));
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w + 1);
            for (int n = 0; n < 10_000 && !disk.PowerLost; n++)
            {
                var payloads = Enumerable.Range(0, random.Next(1, 4))
                    .Select(i => $"c{cycle}-w{w}-{n}-{i}-" + new string((char)('a' + random.Next(26)), random.Next(0, 300))).ToArray();
                lock (gate)
                    attempted.UnionWith(payloads);
                var appended = await AppendAsync(log, payloads);
                lock (gate)
                {
                    if (disk.PowerLost)
                        return; // acknowledged after the power went: the client never heard of it
                    for (int i = 0; i < payloads.Length; i++)
                        acknowledged[appended.FirstOffset + (ulong)i] = payloads[i];
                }
            }
        })).ToArray();
        await Task.WhenAll(writers);
        Assert.True(disk.PowerLost, "the writers stopped before the power loss");
        return disk.Dropped;
    }

    private static void Verify(ShardLog log, Dictionary<ulong, string> acknowledged, HashSet<string> attempted, string when)
    {
        var records = ReadAll(log);
        AssertInOrder(records, contiguous: false); // a crash leaves a hole where reserved offsets went unused
        var byOffset = records.ToDictionary(r => r.Offset, r => r.Text);
        foreach (var (offset, payload) in acknowledged)
        {
            Assert.True(byOffset.TryGetValue(offset, out string? found), $"{when}: the record acknowledged at offset {offset} is lost");
            Assert.True(found == payload, $"{when}: offset {offset} holds '{found}', acknowledged as '{payload}'");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            Assert.True(attempted.Contains(record.Text), $"{when}: offset {record.Offset} holds '{record.Text}', which was never written");
            Assert.True(seen.Add(record.Text), $"{when}: '{record.Text}' is stored twice");
            Assert.Equal("pk-" + record.Text, record.PartitionKey);
        }
        if (acknowledged.Count > 0)
            Assert.True(log.NextOffset > acknowledged.Keys.Max(), $"{when}: the next offset {log.NextOffset} would reuse an acknowledged one");
    }
}
