using Runnel.Core.Model;
using Runnel.Protocol;
using Runnel.Storage.Records;

namespace Runnel.Server.Kinesis;

/// <summary>Records and child shards as GetRecords and SubscribeToShard events write them.</summary>
internal static class WireRecords
{
    /// <summary>Writes the records of <paramref name="result"/> below <paramref name="end"/> as Record objects
    /// (into an open array); returns the arrival time of the last one written, 0 when none was.</summary>
    public static long Write(IWireWriter w, ReadResult result, ulong end, ShardInfo shard)
    {
        long lastArrival = 0;
        Span<byte> sequence = stackalloc byte[SequenceNumber.Length];
        SequenceNumber previous = default;
        foreach (ref readonly var record in result.Records)
        {
            if (record.Offset >= end)
                break;
            var number = shard.SequenceOf(record.Offset, record.ArrivalMillis);
            number.FormatUtf8After(previous, sequence);
            previous = number;
            // An empty partition key is a record put without one on an AUTO stream (a given key is never empty): no member.
            w.Record(sequence, record.ArrivalMillis, result.Data(record), result.PartitionKey(record));
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
