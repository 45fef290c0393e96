using Runnel.Client.Internal.Wire;
using Runnel.Client.Models;

namespace Runnel.Client.Internal.Kinesis;

/// <summary>Writes each Kinesis request with AWS's member names, in either encoding. Thread-safe (stateless).</summary>
internal static class KinesisRequests
{
    public static void PutRecord(WireWriter w, PutRecordRequest r)
    {
        w.StartObject();
        Stream(w, r.StreamName, r.StreamARN);
        w.Blob("Data", r.Data.Span);
        w.String("PartitionKey", r.PartitionKey);
        w.OptionalString("ExplicitHashKey", r.ExplicitHashKey);
        w.OptionalString("SequenceNumberForOrdering", r.SequenceNumberForOrdering);
        w.EndObject();
    }

    public static void PutRecords(WireWriter w, PutRecordsRequest r)
    {
        w.StartObject();
        Stream(w, r.StreamName, r.StreamARN);
        w.StartArray("Records");
        foreach (var entry in r.Records)
        {
            w.StartObject();
            w.Blob("Data", entry.Data.Span);
            w.String("PartitionKey", entry.PartitionKey);
            w.OptionalString("ExplicitHashKey", entry.ExplicitHashKey);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }

    public static void GetShardIterator(WireWriter w, GetShardIteratorRequest r)
    {
        w.StartObject();
        Stream(w, r.StreamName, r.StreamARN);
        w.String("ShardId", r.ShardId);
        w.String("ShardIteratorType", WireNames.Of(r.ShardIteratorType));
        w.OptionalString("StartingSequenceNumber", r.StartingSequenceNumber);
        w.OptionalTimestamp("Timestamp", r.Timestamp);
        w.EndObject();
    }

    public static void GetRecords(WireWriter w, GetRecordsRequest r)
    {
        w.StartObject();
        w.String("ShardIterator", r.ShardIterator);
        w.OptionalNumber("Limit", r.Limit);
        w.OptionalString("StreamARN", r.StreamARN);
        w.EndObject();
    }

    public static void ListShards(WireWriter w, ListShardsRequest r)
    {
        w.StartObject();
        Stream(w, r.StreamName, r.StreamARN);
        w.OptionalString("NextToken", r.NextToken);
        w.OptionalString("ExclusiveStartShardId", r.ExclusiveStartShardId);
        w.OptionalNumber("MaxResults", r.MaxResults);
        w.OptionalTimestamp("StreamCreationTimestamp", r.StreamCreationTimestamp);
        if (r.ShardFilter is { } filter)
        {
            w.StartObject("ShardFilter");
            w.String("Type", WireNames.Of(filter.Type));
            w.OptionalString("ShardId", filter.ShardId);
            w.OptionalTimestamp("Timestamp", filter.Timestamp);
            w.EndObject();
        }
        w.EndObject();
    }

    public static void CreateStream(WireWriter w, CreateStreamRequest r)
    {
        w.StartObject();
        w.String("StreamName", r.StreamName);
        w.OptionalNumber("ShardCount", r.ShardCount);
        if (r.StreamMode is { } mode)
        {
            w.StartObject("StreamModeDetails");
            w.String("StreamMode", WireNames.Of(mode));
            w.EndObject();
        }
        if (r.Tags is { } tags)
        {
            w.StartObject("Tags");
            foreach (var (key, value) in tags)
                w.String(key, value);
            w.EndObject();
        }
        w.EndObject();
    }

    public static void DeleteStream(WireWriter w, DeleteStreamRequest r)
    {
        w.StartObject();
        Stream(w, r.StreamName, r.StreamARN);
        if (r.EnforceConsumerDeletion is { } enforce)
            w.Boolean("EnforceConsumerDeletion", enforce);
        w.EndObject();
    }

    public static void DescribeStreamSummary(WireWriter w, DescribeStreamSummaryRequest r)
    {
        w.StartObject();
        Stream(w, r.StreamName, r.StreamARN);
        w.EndObject();
    }

    public static void RegisterStreamConsumer(WireWriter w, RegisterStreamConsumerRequest r)
    {
        w.StartObject();
        w.String("StreamARN", r.StreamARN);
        w.String("ConsumerName", r.ConsumerName);
        w.EndObject();
    }

    public static void StreamConsumer(WireWriter w, StreamConsumerRequest r)
    {
        w.StartObject();
        w.OptionalString("StreamARN", r.StreamARN);
        w.OptionalString("ConsumerName", r.ConsumerName);
        w.OptionalString("ConsumerARN", r.ConsumerARN);
        w.EndObject();
    }

    public static void ListStreamConsumers(WireWriter w, ListStreamConsumersRequest r)
    {
        w.StartObject();
        w.String("StreamARN", r.StreamARN);
        w.OptionalString("NextToken", r.NextToken);
        w.OptionalNumber("MaxResults", r.MaxResults);
        w.OptionalTimestamp("StreamCreationTimestamp", r.StreamCreationTimestamp);
        w.EndObject();
    }

    public static void SubscribeToShard(WireWriter w, SubscribeToShardRequest r)
    {
        w.StartObject();
        w.String("ConsumerARN", r.ConsumerARN);
        w.String("ShardId", r.ShardId);
        w.StartObject("StartingPosition");
        w.String("Type", WireNames.Of(r.StartingPosition.Type));
        w.OptionalString("SequenceNumber", r.StartingPosition.SequenceNumber);
        w.OptionalTimestamp("Timestamp", r.StartingPosition.Timestamp);
        w.EndObject();
        w.EndObject();
    }

    private static void Stream(WireWriter w, string? name, string? arn)
    {
        w.OptionalString("StreamName", name);
        w.OptionalString("StreamARN", arn);
    }
}
