using Runnel.Client.Internal.Wire;
using Runnel.Client.Models;

namespace Runnel.Client.Internal.Kinesis;

/// <summary>Reads each Kinesis answer from its parsed form, in either encoding. Thread-safe (stateless).</summary>
internal static class KinesisAnswers
{
    public static PutRecordResponse PutRecord(WireNode n) =>
        new(n.RequiredString("ShardId"), n.RequiredString("SequenceNumber"), n.String("EncryptionType"));

    public static PutRecordsResponse PutRecords(WireNode n) =>
        new((int)(n.Long("FailedRecordCount") ?? 0),
            n.List("Records", e => new PutRecordsResultEntry(e.String("SequenceNumber"), e.String("ShardId"), e.String("ErrorCode"), e.String("ErrorMessage"))),
            n.String("EncryptionType"));

    public static GetShardIteratorResponse GetShardIterator(WireNode n) => new(n.RequiredString("ShardIterator"));

    public static GetRecordsResponse GetRecords(WireNode n) =>
        new(n.List("Records", Record), n.String("NextShardIterator"), n.Long("MillisBehindLatest"), n.List("ChildShards", ChildShard));

    public static ListShardsResponse ListShards(WireNode n) => new(n.List("Shards", Shard), n.String("NextToken"));

    public static DescribeStreamSummaryResponse DescribeStreamSummary(WireNode n)
    {
        var s = n["StreamDescriptionSummary"];
        return new(new StreamDescriptionSummary(
            s.RequiredString("StreamName"),
            s.RequiredString("StreamARN"),
            s.RequiredString("StreamStatus"),
            s["StreamModeDetails"].String("StreamMode"),
            (int)(s.Long("RetentionPeriodHours") ?? 0),
            s.Timestamp("StreamCreationTimestamp"),
            s.String("EncryptionType"),
            s.String("KeyId"),
            (int)(s.Long("OpenShardCount") ?? 0),
            s.Long("ConsumerCount") is { } count ? (int)count : null));
    }

    public static Consumer Consumer(WireNode n) =>
        new(n.RequiredString("ConsumerName"), n.RequiredString("ConsumerARN"), n.RequiredString("ConsumerStatus"), n.Timestamp("ConsumerCreationTimestamp"), n.String("StreamARN"));

    public static ListStreamConsumersResponse ListStreamConsumers(WireNode n) => new(n.List("Consumers", Consumer), n.String("NextToken"));

    public static SubscribeToShardEvent SubscribeToShardEvent(WireNode n) =>
        new(n.List("Records", Record), n.String("ContinuationSequenceNumber"), n.Long("MillisBehindLatest") ?? 0, n.List("ChildShards", ChildShard));

    private static Record Record(WireNode n) =>
        new(n.RequiredString("SequenceNumber"), n.Timestamp("ApproximateArrivalTimestamp"), n.Blob("Data") ?? [], n.String("PartitionKey"), n.String("EncryptionType"));

    private static HashKeyRange HashKeyRange(WireNode n) => new(n.RequiredString("StartingHashKey"), n.RequiredString("EndingHashKey"));

    private static ChildShard ChildShard(WireNode n) => new(n.RequiredString("ShardId"), n.Strings("ParentShards"), HashKeyRange(n["HashKeyRange"]));

    private static Shard Shard(WireNode n) =>
        new(n.RequiredString("ShardId"), n.String("ParentShardId"), n.String("AdjacentParentShardId"), HashKeyRange(n["HashKeyRange"]),
            new SequenceNumberRange(n["SequenceNumberRange"].RequiredString("StartingSequenceNumber"), n["SequenceNumberRange"].String("EndingSequenceNumber")));
}
