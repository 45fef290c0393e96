using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Runnel.Storage.CrashHelper;
using Runnel.Storage.Log;
using Xunit.Abstractions;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// The promise the README makes: a crash of the Runnel process never loses an acknowledged record. A
/// helper process (tests/Runnel.Storage.CrashHelper) appends from several writers at once and prints
/// each acknowledgement; the test kills it with SIGKILL at a random moment (some while it is still
/// recovering the previous cycle's crash, most while it writes), then opens a copy of what it left and
/// checks every record acknowledged in every cycle so far. The next cycle's helper recovers the
/// crashed original itself, so recovery gets killed too; after ten crashes a fresh log starts.
/// <para>Cycles per test: <c>RUNNEL_CRASH_CYCLES</c> (default 3; docs/storage-tests.md gives the figure for
/// a run by hand).</para>
/// </summary>
[Trait("Category", "CrashConsistency")]
public class KillDuringWritesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CycleLimit = TimeSpan.FromSeconds(60);

    /// <summary>Crashes one log goes through (each helper recovering the last one's) before a fresh one starts.</summary>
    private const int ChainLength = 10;

    private static int Cycles =>
        int.TryParse(Environment.GetEnvironmentVariable("RUNNEL_CRASH_CYCLES"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? Math.Min(n, 10_000)
            : 3;

    [Theory(Timeout = 600_000)]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Interval)]
    [InlineData(FsyncPolicy.Never)]
    public async Task Kill_9_during_appends_to_a_shard_log_loses_no_acknowledged_record(FsyncPolicy fsync) =>
        await RunCyclesAsync("shard", fsync, shards: 1);

    [Fact(Timeout = 600_000)]
    public async Task Kill_9_during_appends_to_many_shards_of_a_log_store_loses_no_acknowledged_record() =>
        await RunCyclesAsync("store", FsyncPolicy.Interval, shards: 4);

    private async Task RunCyclesAsync(string mode, FsyncPolicy fsync, int shards)
    {
        using var dir = new TempDirectory();
        string data = "";
        var acknowledged = new List<CrashWorkload.Ack>();
        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"kill points drawn with seed {seed}");
        int cycles = Cycles, total = 0;
        for (int generation = 0; generation < cycles; generation++)
        {
            if (generation % ChainLength == 0)
            {
                // A fresh log every ChainLength crashes, so a long run by hand does not read and copy an
                // ever larger log each cycle.
                if (data.Length > 0)
                    Directory.Delete(data, recursive: true);
                data = dir.Sub($"data-{generation / ChainLength}");
                total += acknowledged.Count;
                acknowledged.Clear();
            }
            // One cycle in three kills early: during start-up or the helper's recovery of the last crash.
            bool early = generation % 3 == 2;
            int killAfterAcks = early ? 0 : random.Next(1, 400);
            int killAfterMillis = early ? random.Next(0, 400) : 0;
            var acks = await RunHelperUntilKilledAsync(mode, data, fsync, generation, killAfterAcks, killAfterMillis);
            acknowledged.AddRange(acks);
            output.WriteLine($"cycle {generation}: fsync={fsync} mode={mode} killed after {acks.Count} acks (target {(early ? $"{killAfterMillis} ms" : $"{killAfterAcks} acks")}), {acknowledged.Sum(a => a.Count)} records acknowledged so far");

            string copy = dir.Sub($"verify-{generation}");
            CopyTree(data, copy);
            var repairs = VerifyAcknowledgedRecords(mode, copy, shards, acknowledged);
            foreach (string repair in repairs)
                output.WriteLine("  recovery: " + repair);
            Directory.Delete(copy, recursive: true);
        }
        Assert.True(total + acknowledged.Count > 0, "no cycle acknowledged anything: the helper never got to write");
    }

    /// <summary>Starts the helper, kills it with SIGKILL at the chosen point, and returns every whole
    /// acknowledgement line it printed before it died.</summary>
    private static async Task<List<CrashWorkload.Ack>> RunHelperUntilKilledAsync(
        string mode, string directory, FsyncPolicy fsync, int generation, int killAfterAcks, int killAfterMillis)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { HelperDll(), mode, directory, fsync.ToString().ToLowerInvariant(), generation.ToString(CultureInfo.InvariantCulture), CycleLimit.TotalSeconds.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(arg);

        var errors = new ConcurrentQueue<string>();
        var acks = new List<CrashWorkload.Ack>();
        bool ready = false, ackBeforeReady = false;
        var targetReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) errors.Enqueue(e.Data); };
        Assert.True(process.Start(), "the crash helper did not start");
        process.BeginErrorReadLine();
        try
        {
            using var deadline = new CancellationTokenSource(CycleLimit);

            // Drains the helper's output all along, so that it never waits on a full pipe: it must be
            // killed while it appends, not while it prints. A line cut by the kill lacks its "end" and is
            // ignored (that append was acknowledged to no one).
            var reader = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
                {
                    lock (acks)
                    {
                        if (line.StartsWith("ready ", StringComparison.Ordinal))
                        {
                            Assert.Contains($"fsync={fsync.ToString().ToLowerInvariant()}", line, StringComparison.Ordinal);
                            ready = true;
                        }
                        else if (CrashWorkload.Ack.TryParse(line, out var ack))
                        {
                            ackBeforeReady |= !ready;
                            acks.Add(ack);
                            if (killAfterAcks > 0 && acks.Count >= killAfterAcks)
                                targetReached.TrySetResult();
                        }
                    }
                }
                targetReached.TrySetResult(); // the helper is gone (by itself, if no kill came first)
            });

            if (killAfterAcks == 0)
                await Task.Delay(killAfterMillis, deadline.Token);
            else
                await targetReached.Task.WaitAsync(deadline.Token);
            if (process.HasExited)
                Assert.Fail($"the crash helper exited by itself (code {process.ExitCode}): {string.Join(Environment.NewLine, errors)}");

            process.Kill(entireProcessTree: true); // SIGKILL: no finally blocks, no flush, no clean close
            await process.WaitForExitAsync(deadline.Token);
            await reader; // the rest of what it printed before it died is still in the pipe

            Assert.False(errors.Any(e => e.Contains("Exception", StringComparison.Ordinal)), "the crash helper failed: " + string.Join(Environment.NewLine, errors));
            Assert.False(ackBeforeReady, "acknowledgements came before the helper said it was ready");
            lock (acks)
                return [.. acks];
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
    }

    /// <summary>
    /// Opens the crashed log (a copy, so that the next helper recovers the original) and checks: every
    /// acknowledged record is there, at its acknowledged offset, intact; every record that is there,
    /// acknowledged or not, is whole and in order; each writer's records form an unbroken run from its
    /// first, so nothing was duplicated or lost from the middle. Returns the warnings of the recovery.
    /// </summary>
    private static List<string> VerifyAcknowledgedRecords(string mode, string directory, int shards, List<CrashWorkload.Ack> acknowledged)
    {
        var warnings = new List<string>();
        var options = CrashWorkload.Options(FsyncPolicy.Never);
        using var store = mode == "store" ? new LogStore(directory, options, warnings.Add) : null;
        using var single = mode == "store" ? null : ShardLog.Open(directory, options, warnings.Add);
        IShardLog[] logs = store is null ? [single!] : Enumerable.Range(0, shards).Select(s => store.Open(CrashWorkload.StreamId, s)).ToArray();
        {

            for (int shard = 0; shard < shards; shard++)
            {
                var records = ReadAll(logs[shard], pageRecords: 500);
                // Offsets strictly increase; a crash may leave a hole where offsets were reserved and never
                // used (the next offset jumps to the high-water mark), never a second record at an offset.
                AssertInOrder(records, contiguous: false);
                Assert.True(logs[shard].NextOffset >= (records.Count == 0 ? 0 : records[^1].Offset + 1));
                ulong highestAcked = acknowledged.Where(a => a.Shard == shard).Select(a => a.FirstOffset + (ulong)a.Count).DefaultIfEmpty(0UL).Max();
                Assert.True(logs[shard].NextOffset >= highestAcked, $"shard {shard}: next offset {logs[shard].NextOffset} is below the acknowledged {highestAcked}");
                var byOffset = records.ToDictionary(r => r.Offset);

                var seqsByWriter = new Dictionary<(int Generation, int Writer), long>();
                foreach (var r in records)
                {
                    Assert.True(CrashWorkload.TryParsePartitionKey(r.PartitionKey, out int g, out int w, out long seq), $"record {r.Offset} has a foreign partition key '{r.PartitionKey}'");
                    Assert.True(CrashWorkload.Data(g, w, seq).AsSpan().SequenceEqual(r.Data), $"record {r.Offset} ({r.PartitionKey}) is damaged");
                    long expectedSeq = seqsByWriter.GetValueOrDefault((g, w));
                    Assert.True(seq == expectedSeq, $"record {r.Offset}: writer g{g}-w{w} has seq {seq} where {expectedSeq} was next (duplicated or lost)");
                    seqsByWriter[(g, w)] = seq + 1;
                }

                foreach (var ack in acknowledged.Where(a => a.Shard == shard))
                {
                    for (int i = 0; i < ack.Count; i++)
                    {
                        ulong offset = ack.FirstOffset + (ulong)i;
                        Assert.True(byOffset.TryGetValue(offset, out var record), $"acknowledged offset {offset} of shard {shard} is gone; warnings: {string.Join(" | ", warnings)}");
                        Assert.Equal(CrashWorkload.PartitionKey(ack.Generation, ack.Writer, ack.FirstSeq + i), record.PartitionKey);
                    }
                }
            }
        }
        return warnings;
    }

    private static void CopyTree(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        if (!Directory.Exists(source))
            return; // killed before it created the log: an empty log
        foreach (var sub in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, sub)));
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
    }

    /// <summary>The dotnet host running this test, so the helper runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
            return host;
        if (Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet")
            return path;
        return "dotnet";
    }

    /// <summary>The helper's dll, built beside this project's output: tests/Runnel.Storage.CrashHelper/bin/{configuration}/{framework}/.</summary>
    private static string HelperDll()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        string tests = configuration.Parent!.Parent!.Parent!.FullName;
        string dll = Path.Combine(tests, "Runnel.Storage.CrashHelper", "bin", configuration.Name, framework.Name, "Runnel.Storage.CrashHelper.dll");
        Assert.True(File.Exists(dll), $"the crash helper is not built at {dll}; build tests/Runnel.Storage.Tests (it builds the helper)");
        return dll;
    }
}
