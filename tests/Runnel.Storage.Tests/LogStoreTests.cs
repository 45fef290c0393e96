using Runnel.Storage.Records;
using Runnel.Storage.Log;
using Xunit.Abstractions;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests;

/// <summary>All shard logs of a data directory: lazy opening, idle handle closing, stream deletion.</summary>
public class LogStoreTests
{
    [Fact(Timeout = 30000)]
    public async Task Shards_are_kept_per_stream_and_found_again_after_a_reopen()
    {
        using var root = new TempDirectory();
        var options = new LogOptions { Fsync = FsyncPolicy.Interval, FsyncInterval = TimeSpan.FromMilliseconds(10) };
        using (var store = new LogStore(root.Path, options))
        {
            for (int stream = 1; stream <= 2; stream++)
                for (int shard = 0; shard < 3; shard++)
                    await AppendAsync(store.Open(stream, shard), $"s{stream}-{shard}-a", $"s{stream}-{shard}-b");
            Assert.Same(store.Open(1, 0), store.Open(1, 0));
        }
        using (var store = new LogStore(root.Path, options))
            for (int stream = 1; stream <= 2; stream++)
                for (int shard = 0; shard < 3; shard++)
                    Assert.Equal([$"s{stream}-{shard}-a", $"s{stream}-{shard}-b"], ReadAllText(store.Open(stream, shard)));
    }

    [Fact(Timeout = 30000)]
    public async Task OpenIfPresent_makes_no_log_for_a_shard_never_written()
    {
        using var root = new TempDirectory();
        var options = new LogOptions { Fsync = FsyncPolicy.Never };
        using (var store = new LogStore(root.Path, options))
        {
            Assert.Null(store.OpenIfPresent(3, 0));
            Assert.False(Directory.Exists(Path.Combine(root.Path, "streams", "3")), "asking made a directory");
            await AppendAsync(store.Open(3, 1), "written");
            Assert.Same(store.Open(3, 1), store.OpenIfPresent(3, 1));
            Assert.Null(store.OpenIfPresent(3, 0));
        }
        using (var store = new LogStore(root.Path, options))
            Assert.Equal(["written"], ReadAllText(store.OpenIfPresent(3, 1)!)); // found on disk after a reopen
    }

    [Fact(Timeout = 30000)]
    public async Task DeleteStream_removes_its_files_and_leaves_other_streams_alone()
    {
        using var root = new TempDirectory();
        using var store = new LogStore(root.Path, new LogOptions { Fsync = FsyncPolicy.Never, SegmentBytes = 1024 });
        for (int shard = 0; shard < 4; shard++)
        {
            for (int i = 0; i < 50; i++)
                await AppendAsync(store.Open(7, shard), $"seven-{shard}-{i}-" + new string('d', 30));
            await AppendAsync(store.Open(8, shard), $"eight-{shard}");
        }
        string streamDirectory = Path.Combine(root.Path, "streams", "7");
        Assert.True(Directory.GetFiles(streamDirectory, "*.seg", SearchOption.AllDirectories).Length > 4);

        var held = store.Open(7, 0);
        store.DeleteStream(7);

        Assert.False(Directory.Exists(streamDirectory));
        Assert.Throws<ObjectDisposedException>(() => { held.AppendAsync(new RecordBatch()).AsTask().GetAwaiter().GetResult(); });
        for (int shard = 0; shard < 4; shard++)
            Assert.Equal([$"eight-{shard}"], ReadAllText(store.Open(8, shard)));
        // Stream ids are never reused: a request that found the stream before its deletion opens nothing again.
        Assert.Throws<ObjectDisposedException>(() => store.Open(7, 0));
        Assert.Throws<ObjectDisposedException>(() => store.Open(7, 3));
        Assert.Null(store.OpenIfPresent(7, 1));
        Assert.False(Directory.Exists(streamDirectory));
        Assert.Empty(store.OrphanedStreams(new HashSet<long> { 8 }));
    }

    /// <summary>
    /// Appenders that found the stream before its deletion open its shards while it is deleted: each append is
    /// stored or refused as deleted, one log per shard at any time, and nothing of the stream is left on disk. Two logs
    /// once wrote one shard's directory here (a second one opened after the delete had closed the first), and the
    /// delete failed on the index file the other had renamed.
    /// </summary>
    [Fact(Timeout = 60000)]
    public async Task Shards_opened_while_their_stream_is_deleted_are_one_log_each_and_leave_nothing()
    {
        using var root = new TempDirectory();
        var warnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var store = new LogStore(root.Path, new LogOptions { Fsync = FsyncPolicy.Never }, warnings.Enqueue);
        for (long stream = 1; stream <= 40; stream++)
        {
            using var start = new Barrier(5);
            var appenders = Enumerable.Range(0, 4).Select(a => Task.Run(async () =>
            {
                start.SignalAndWait();
                for (int i = 0; i < 200; i++)
                {
                    try
                    {
                        await AppendAsync(store.Open(stream, i % 2), $"{a}-{i}");
                    }
                    catch (ObjectDisposedException)
                    {
                        return; // deleted: every later open refuses too
                    }
                }
            })).ToList();
            start.SignalAndWait();
            await Task.Delay((int)(stream % 4));
            store.DeleteStream(stream);
            await Task.WhenAll(appenders);
            Assert.Throws<ObjectDisposedException>(() => store.Open(stream, 0));
            Assert.False(Directory.Exists(Path.Combine(root.Path, "streams", stream.ToString(System.Globalization.CultureInfo.InvariantCulture))), $"stream {stream} left files");
        }
        Assert.Empty(warnings);
    }
}

/// <summary>File handles of many shards through <see cref="LogStore"/>; counts the process's descriptors, so it runs alone.</summary>
[Collection(ProcessWideCollection.Name)]
public class LogStoreHandleTests(ITestOutputHelper output)
{
    /// <summary>
    /// Two thousand shards, each written once, each holding its segment open while it is busy: once they
    /// go idle the maintenance pass must close their handles, so the process's descriptors return to where
    /// they were however many shards there are. Nothing is opened before a shard is first used.
    /// </summary>
    [Fact(Timeout = 120000)]
    public async Task Thousands_of_shards_open_lazily_and_idle_ones_give_back_their_file_handles()
    {
        if (!OperatingSystem.IsLinux())
            return; // counts /proc/self/fd
        const int Shards = 2000;
        const int Slack = 64; // descriptors the runtime itself may open meanwhile (thread pool, timers)
        using var root = new TempDirectory();
        int baseline = OpenDescriptors();
        var options = new LogOptions { Fsync = FsyncPolicy.Never, IdleHandleTimeout = TimeSpan.FromMilliseconds(100) };
        using var store = new LogStore(root.Path, options);
        Assert.Empty(Directory.GetDirectories(Path.Combine(root.Path, "streams"))); // lazy: nothing opened yet
        Assert.InRange(OpenDescriptors(), 0, baseline + Slack);

        int peak = 0;
        for (int shard = 0; shard < Shards; shard++)
        {
            await AppendAsync(store.Open(1, shard), $"first-{shard}");
            if (shard % 250 == 0)
                peak = Math.Max(peak, OpenDescriptors());
        }
        output.WriteLine($"descriptors: baseline {baseline}, peak seen while writing {peak}");

        int settled = await DescriptorsOnceIdleAsync(baseline + Slack);
        output.WriteLine($"descriptors after the idle timeout: {settled}");
        Assert.InRange(settled, 0, baseline + Slack);

        // Closed handles reopen on the next append; reads open and close their own.
        for (int shard = 0; shard < Shards; shard += 7)
            Assert.Equal(1UL, (await AppendAsync(store.Open(1, shard), $"second-{shard}")).FirstOffset);
        for (int shard = 0; shard < Shards; shard++)
        {
            var expected = shard % 7 == 0 ? new[] { $"first-{shard}", $"second-{shard}" } : [$"first-{shard}"];
            Assert.Equal(expected, ReadAllText(store.Open(1, shard)));
        }
        settled = await DescriptorsOnceIdleAsync(baseline + Slack);
        Assert.InRange(settled, 0, baseline + Slack);
    }

    private static int OpenDescriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>Polls until the count is at most <paramref name="bound"/> (bounded: 300 polls of 50 ms).</summary>
    private static async Task<int> DescriptorsOnceIdleAsync(int bound)
    {
        int count = OpenDescriptors();
        for (int i = 0; i < 300 && count > bound; i++)
        {
            await Task.Delay(50);
            count = OpenDescriptors();
        }
        return count;
    }
}
