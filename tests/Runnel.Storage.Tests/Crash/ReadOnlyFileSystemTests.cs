using Runnel.Storage.Log;
using Xunit.Abstractions;
using static Runnel.Storage.Tests.Crash.CrashTestLog;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// The data directory's file system goes read-only (the kernel remounts it after I/O errors, an operator
/// does): shards keep answering reads, appends fail with a message that says what to do, nothing on disk
/// is touched, and the log writes again once the file system is writable. Runs on a real tmpfs remounted
/// read-only; where this process may not mount, each test prints why and passes without running.
/// </summary>
[Trait("Category", "CrashConsistency")]
public class ReadOnlyFileSystemTests(ITestOutputHelper output)
{
    private const long TmpfsBytes = 16L * 1024 * 1024;

    private TmpfsMount? Mount(TempDirectory dir)
    {
        var mount = TmpfsMount.TryMount(dir.Sub("mnt"), TmpfsBytes, out string reason);
        if (mount is null)
            output.WriteLine("SKIPPED (not run): " + reason);
        return mount;
    }

    /// <summary>A shard not opened since start-up is opened after the remount: recovery has damage to
    /// repair (a crash left no index and a torn tail) but may not write, so it repairs in memory only.</summary>
    [Fact(Timeout = 60000)]
    public async Task Shard_log_first_opened_on_a_read_only_file_system_reads_its_records_and_changes_nothing()
    {
        using var dir = new TempDirectory();
        using var mount = Mount(dir);
        if (mount is null)
            return;
        string shard = Path.Combine(mount.Path, "shard");
        await WriteCrashedAsync(dir.Sub("live"), shard, 100);
        string last = Segments(shard)[^1];
        await File.AppendAllTextAsync(last, "torn tail");
        var before = Directory.GetFiles(shard).Order(StringComparer.Ordinal).Select(f => (f, File.ReadAllBytes(f))).ToList();
        mount.RemountReadOnly();

        var warnings = new List<string>();
        using (var log = ShardLog.Open(shard, Options, warnings.Add))
        {
            Assert.True(log.IsReadOnly);
            var records = ReadAll(log);
            Assert.Equal(Range(0, 100), records.Select(r => r.Offset));
            Assert.All(records, r => Assert.Equal(Payload(r.Offset), r.Text));
            Assert.True(log.NextOffset >= 100);
            var refused = await Assert.ThrowsAsync<ReadOnlyStorageException>(async () => await AppendRangeAsyncAt(log));
            Assert.Contains("data directory is read-only", refused.Message, StringComparison.Ordinal);
            Assert.Contains("remount it read-write", refused.Message, StringComparison.Ordinal);
        }
        Assert.Single(warnings, w => w.Contains("open read-only", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("not cut", StringComparison.Ordinal));
        var after = Directory.GetFiles(shard).Order(StringComparer.Ordinal).Select(f => (f, File.ReadAllBytes(f))).ToList();
        Assert.Equal(before.Select(b => b.f), after.Select(a => a.f));
        for (int i = 0; i < before.Count; i++)
            Assert.True(before[i].Item2.AsSpan().SequenceEqual(after[i].Item2), $"{before[i].f} was changed");

        // Writable again: a log opened now repairs for real and appends above every offset handed out.
        mount.RemountReadWrite();
        using (var log = ShardLog.Open(shard, Options))
        {
            Assert.False(log.IsReadOnly);
            var appended = await AppendAsync(log, "after");
            Assert.True(appended.FirstOffset >= 100);
            Assert.Equal(101, ReadAll(log).Count);
        }
    }

    /// <summary>A shard whose directory was never created (no record yet) opens as an empty read-only log
    /// instead of failing on the directory it cannot create; LogStore.Open, which the server calls, too.</summary>
    [Fact(Timeout = 60000)]
    public async Task Shard_directory_missing_on_a_read_only_file_system_opens_as_an_empty_log()
    {
        using var dir = new TempDirectory();
        using var mount = Mount(dir);
        if (mount is null)
            return;
        mount.RemountReadOnly();
        var warnings = new List<string>();
        using (var log = ShardLog.Open(Path.Combine(mount.Path, "never-written"), Options, warnings.Add))
        {
            Assert.True(log.IsReadOnly);
            Assert.Equal(0UL, log.NextOffset);
            Assert.Empty(ReadOnce(log, 0).Records);
            await Assert.ThrowsAsync<ReadOnlyStorageException>(async () => await AppendRangeAsyncAt(log));
        }
        Assert.Single(warnings);
        using var store = new LogStore(mount.Path, Options);
        var shard = store.Open(7, 0);
        Assert.Empty(ReadOnce(shard, 0).Records);
        Assert.False(Directory.Exists(Path.Combine(mount.Path, "streams", "7")));
    }

    /// <summary>The file system goes read-only under an open log: the append fails with the read-only
    /// message (nothing acknowledged), and what was stored stays readable.</summary>
    [Fact(Timeout = 60000)]
    public async Task File_system_going_read_only_under_an_open_log_fails_appends_and_keeps_reads()
    {
        using var dir = new TempDirectory();
        using var mount = Mount(dir);
        if (mount is null)
            return;
        string shard = Path.Combine(mount.Path, "shard");
        using (var log = ShardLog.Open(shard, Options with { IdleHandleTimeout = TimeSpan.Zero }))
        {
            await AppendRangeAsync(log, 20, batchSize: 1);
            log.Maintain(); // closes the idle file handle: Linux refuses to remount with a file open for writing
            mount.RemountReadOnly();
            var refused = await Assert.ThrowsAsync<ReadOnlyStorageException>(async () => await AppendRangeAsyncAt(log));
            Assert.Contains("data directory is read-only", refused.Message, StringComparison.Ordinal);
            Assert.Equal(Range(0, 20), ReadAll(log).Select(r => r.Offset));
        }
        mount.RemountReadWrite();
    }

    private static async Task AppendRangeAsyncAt(IShardLog log) => await AppendAsync(log, "refused");
}
