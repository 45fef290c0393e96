using Runnel.Core.Model;
using Runnel.Protocol;

namespace Runnel.Server.Kinesis;

/// <summary>Writes the response structures several operations share (Shard, StreamModeDetails, ...).</summary>
internal static class Describe
{
    public static void Shard(IWireWriter w, StreamInfo stream, ShardInfo shard)
    {
        w.StartObject();
        w.String("ShardId", shard.ShardId);
        if (shard.ParentIndex is { } parent)
            w.String("ParentShardId", ShardId.Format(parent));
        if (shard.AdjacentParentIndex is { } adjacent)
            w.String("AdjacentParentShardId", ShardId.Format(adjacent));
        w.StartObject("HashKeyRange");
        w.String("StartingHashKey", shard.HashKeyRange.StartingHashKey);
        w.String("EndingHashKey", shard.HashKeyRange.EndingHashKey);
        w.EndObject();
        w.StartObject("SequenceNumberRange");
        w.String("StartingSequenceNumber", shard.StartingSequenceNumber.ToString());
        if (shard.EndingSequenceNumber is { } ending)
            w.String("EndingSequenceNumber", ending.ToString());
        w.EndObject();
        w.EndObject();
    }

    /// <summary>The members DescribeStream and DescribeStreamSummary share.</summary>
    public static void StreamFields(IWireWriter w, StreamInfo stream, string arn)
    {
        w.String("StreamName", stream.PlainName);
        w.String("StreamARN", arn);
        w.String("StreamStatus", stream.Status.ToWire());
        ModeDetails(w, stream);
        w.Number("RetentionPeriodHours", stream.RetentionHours);
        CreationTimestamp(w, stream);
        EnhancedMonitoring(w, stream);
        if (stream.Encryption?.KmsKeyId is { } keyId)
        {
            w.String("EncryptionType", "KMS");
            w.String("KeyId", keyId);
        }
        else
        {
            w.String("EncryptionType", "NONE");
        }
    }

    public static void ModeDetails(IWireWriter w, StreamInfo stream)
    {
        w.StartObject("StreamModeDetails");
        w.String("StreamMode", stream.Mode.ToWire());
        w.EndObject();
    }

    public static void EnhancedMonitoring(IWireWriter w, StreamInfo stream)
    {
        w.StartArray("EnhancedMonitoring");
        w.StartObject();
        w.StartArray("ShardLevelMetrics");
        foreach (string metric in stream.EnhancedMetrics)
            w.String(metric);
        w.EndArray();
        w.EndObject();
        w.EndArray();
    }

    public static void CreationTimestamp(IWireWriter w, StreamInfo stream) =>
        w.Timestamp("StreamCreationTimestamp", stream.CreatedAt.ToUnixTimeSeconds() * 1000);
}
