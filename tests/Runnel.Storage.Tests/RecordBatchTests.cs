using Runnel.Storage.Records;
using System.Text;
using Runnel.Storage.Log;
using static Runnel.Storage.Tests.LogContents;

namespace Runnel.Storage.Tests;

/// <summary>The batch is where a record becomes a frame: it must refuse what the frame format cannot hold,
/// because a frame the log cannot read back would be acknowledged and then lost with everything after it.</summary>
public class RecordBatchTests
{
    [Fact(Timeout = 30000)]
    public async Task A_record_larger_than_the_frame_limit_is_refused_and_the_log_stays_readable()
    {
        using var dir = new TempDirectory();
        using var log = ShardLog.Open(dir.Path, new LogOptions { Fsync = FsyncPolicy.Never });
        await AppendAsync(log, "before");
        var tooBig = new byte[RecordFrame.MaxDataBytes(1, 0) + 1];
        using (var batch = new RecordBatch())
        {
            batch.Add("k", null, "fits"u8);
            Assert.Throws<ArgumentOutOfRangeException>(() => batch.Add("k", null, tooBig));
            Assert.Equal(1, batch.Count); // the batch is unchanged by the refused record
            await log.AppendAsync(batch);
        }
        await AppendAsync(log, "after");
        Assert.Equal(["before", "fits", "after"], ReadAllText(log));
    }

    [Fact(Timeout = 30000)]
    public async Task The_largest_record_the_frame_can_hold_is_stored_and_survives_recovery()
    {
        using var dir = new TempDirectory();
        var data = new byte[RecordFrame.MaxDataBytes(partitionKeyBytes: 1, explicitHashKeyBytes: 0)];
        new Random(3).NextBytes(data);
        using (var log = ShardLog.Open(dir.Path, new LogOptions { Fsync = FsyncPolicy.Never }))
            await AppendBytesAsync(log, data, "k");
        foreach (var index in Directory.GetFiles(dir.Path, "*.idx"))
            File.Delete(index); // recovery must scan the frame, not trust an index
        using (var log = ShardLog.Open(dir.Path, new LogOptions()))
        {
            Assert.Equal(1UL, log.NextOffset);
            Assert.Equal(data, Assert.Single(ReadAll(log)).Data);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Keys_longer_than_their_length_fields_are_refused()
    {
        await Task.Yield();
        using var batch = new RecordBatch();
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Add(new byte[ushort.MaxValue + 1], [], "d"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Add(new string('p', 70_000), null, "d"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Add("k", new string('1', 256), "d"u8));
        Assert.Equal(0, batch.Count);
        batch.Add(new string('p', ushort.MaxValue), new string('1', 255), "d"u8);
        batch.Add(Encoding.UTF8.GetBytes(new string('\u00e9', 200)), [], "d"u8);
        Assert.Equal(2, batch.Count);
    }
}
