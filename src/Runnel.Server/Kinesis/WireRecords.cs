using Runnel.Core.Model;
using Runnel.Protocol;
using Runnel.Storage.Records;

namespace Runnel.Server.Kinesis;

/// <summary>Records and child shards as GetRecords and SubscribeToShard events write them.</summary>
internal static class WireRecords
{
    /// <summary>Writes the records of <paramref name="result"/> below <paramref name="end"/> as Record objects
    /// (into an open array); returns the arrival time of the last one written, 0 when none was.</summary>
    public static long Write(IWireWriter w, ReadResult result, ulong end, ShardInfo shard) =>
        Write(w, result, end, shard, 0, result.Count, out _);

    /// <summary>
    /// As <see cref="Write(IWireWriter, ReadResult, ulong, ShardInfo)"/>, into a streamed answer: flushed every
    /// <see cref="StreamedChunk"/> records, so that the first go out while the rest are written.
    /// </summary>
    public static async ValueTask<long> WriteStreamedAsync(StreamedAnswer answer, ReadResult result, ulong end, ShardInfo shard)
    {
        long lastArrival = 0;
        for (int from = 0; from < result.Count; from += StreamedChunk)
        {
            long last = Write(answer.Writer, result, end, shard, from, Math.Min(StreamedChunk, result.Count - from), out bool ended);
            if (last != 0)
                lastArrival = last;
            if (ended)
                break;
            await answer.FlushAsync();
        }
        return lastArrival;
    }

    /// <summary>Records written between flushes of a streamed answer: about 300 KiB of 100-byte records in JSON.</summary>
    public const int StreamedChunk = 1024;

    private static long Write(IWireWriter w, ReadResult result, ulong end, ShardInfo shard, int from, int count, out bool ended)
    {
        long lastArrival = 0;
        ended = false;
        Span<byte> sequence = stackalloc byte[SequenceNumber.Length];
        SequenceNumber previous = default;
        foreach (ref readonly var record in result.Records.Slice(from, count))
        {
            if (record.Offset >= end)
            {
                ended = true;
                break;
            }
            var number = shard.SequenceOf(record.Offset, record.ArrivalMillis);
            number.FormatUtf8After(previous, sequence);
            previous = number;
            // An empty partition key is a record put without one on an AUTO stream (a given key is never empty): no member.
            w.Record(sequence, record.ArrivalMillis, result.Data(record), result.PartitionKey(record), record.WasEncrypted);
            lastArrival = record.ArrivalMillis;
        }
        return lastArrival;
    }

    /// <summary>
    /// About the bytes <paramref name="result"/>'s records take in an answer, in either encoding: base64 makes data
    /// 4/3 as long in JSON, and each record's member names, sequence number and timestamp take about 128 bytes.
    /// </summary>
    public static int EstimatedBytes(ReadResult result) =>
        (int)Math.Min(Array.MaxLength / 2, result.PayloadBytes * 4 / 3 + result.Count * 128L + 512);

    /// <summary>Writes a ChildShards member: each child's id, parents and hash key range.</summary>
    public static void ChildShards(IWireWriter w, IEnumerable<ShardInfo> children)
    {
        w.StartArray("ChildShards");
        foreach (var child in children)
        {
            w.StartObject();
            w.String("ShardId", child.ShardId);
            w.StartArray("ParentShards");
            if (child.ParentIndex is { } p)
                w.String(ShardId.Format(p));
            if (child.AdjacentParentIndex is { } a)
                w.String(ShardId.Format(a));
            w.EndArray();
            w.StartObject("HashKeyRange");
            w.String("StartingHashKey", child.HashKeyRange.StartingHashKey);
            w.String("EndingHashKey", child.HashKeyRange.EndingHashKey);
            w.EndObject();
            w.EndObject();
        }
        w.EndArray();
    }
}
