using Runnel.Storage.Records;
using System.Text;
using Runnel.Storage.Log;

namespace Runnel.Storage.Tests;

/// <summary>One record as a test sees it after reading it back, copied out of the pooled read buffer.</summary>
public sealed record StoredRecord(ulong Offset, long ArrivalMillis, string PartitionKey, string ExplicitHashKey, byte[] Data)
{
    public string Text => Encoding.UTF8.GetString(Data);
}

/// <summary>Appends and reads for tests, through <see cref="IShardLog"/> only.</summary>
public static class LogContents
{
    /// <summary>Appends one batch with one record per value (partition key "pk-" + value, data = value).</summary>
    public static async Task<AppendResult> AppendAsync(IShardLog log, params string[] values)
    {
        using var batch = new RecordBatch();
        foreach (string v in values)
            batch.Add("pk-" + v, null, Encoding.UTF8.GetBytes(v));
        return await log.AppendAsync(batch);
    }

    /// <summary>Appends one batch holding one record with the given data.</summary>
    public static async Task<AppendResult> AppendBytesAsync(IShardLog log, byte[] data, string partitionKey = "k")
    {
        using var batch = new RecordBatch(data.Length + 256);
        batch.Add(partitionKey, null, data);
        return await log.AppendAsync(batch);
    }

    /// <summary>One read, copied out.</summary>
    public static (List<StoredRecord> Records, ulong NextOffset) ReadOnce(IShardLog log, ulong from, int maxRecords = int.MaxValue, long maxBytes = long.MaxValue, long minArrival = 0)
    {
        using var result = Wait(log.ReadAsync(from, maxRecords, maxBytes, minArrival));
        return (Copy(result), result.NextOffset);
    }

    /// <summary>The result of a log call the test waits for (the embedded log completes at once; a networked one may not).</summary>
    public static T Wait<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    public static List<StoredRecord> Copy(ReadResult result)
    {
        var records = new List<StoredRecord>(result.Count);
        foreach (var r in result.Records)
            records.Add(new StoredRecord(
                r.Offset,
                r.ArrivalMillis,
                Encoding.UTF8.GetString(result.PartitionKey(r)),
                Encoding.ASCII.GetString(result.ExplicitHashKey(r)),
                result.Data(r).ToArray()));
        return records;
    }

    /// <summary>
    /// Every record from <paramref name="from"/> to the log's end, read page by page the way a consumer
    /// does (following <see cref="ReadResult.NextOffset"/>). Fails if the reader stops making progress.
    /// </summary>
    public static List<StoredRecord> ReadAll(IShardLog log, ulong from = 0, long minArrival = 0, int pageRecords = 1000)
    {
        var all = new List<StoredRecord>();
        ulong cursor = from, end = log.NextOffset;
        for (int page = 0; cursor < end; page++)
        {
            Assert.True(page < 1_000_000, "ReadAll: too many pages");
            var (records, next) = ReadOnce(log, cursor, pageRecords, 64L * 1024 * 1024, minArrival);
            all.AddRange(records);
            Assert.True(next > cursor || records.Count > 0, $"the reader is stuck at offset {cursor} of {end}");
            if (next <= cursor)
                break;
            cursor = next;
        }
        return all;
    }

    public static List<string> ReadAllText(IShardLog log, ulong from = 0, long minArrival = 0) =>
        ReadAll(log, from, minArrival).Select(r => r.Text).ToList();

    /// <summary>Asserts offsets strictly increase (no duplicates, in order), and consecutive when <paramref name="contiguous"/>.</summary>
    public static void AssertInOrder(IReadOnlyList<StoredRecord> records, bool contiguous = true)
    {
        for (int i = 1; i < records.Count; i++)
        {
            Assert.True(records[i].Offset > records[i - 1].Offset, $"offset {records[i].Offset} follows {records[i - 1].Offset}");
            if (contiguous)
                Assert.Equal(records[i - 1].Offset + 1, records[i].Offset);
        }
    }
}
