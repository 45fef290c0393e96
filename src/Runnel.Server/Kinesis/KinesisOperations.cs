using Runnel.Protocol.Kinesis;
using Runnel.Protocol.Validation;

namespace Runnel.Server.Kinesis;

/// <summary>One operation: its request shape and its handler.</summary>
public sealed record Operation(string Name, Shape Shape, Func<KinesisRequest, ValueTask> Handler);

/// <summary>The table of Kinesis operations this server answers. Thread-safe: immutable after construction.</summary>
public sealed class KinesisOperations
{
    private readonly Dictionary<string, Operation> _operations = new(StringComparer.Ordinal);

    public KinesisOperations()
    {
        Add("CreateStream", KinesisShapes.CreateStream, StreamOperations.CreateStream);
        Add("DeleteStream", KinesisShapes.DeleteStream, StreamOperations.DeleteStream);
        Add("DescribeStream", KinesisShapes.DescribeStream, StreamOperations.DescribeStream);
        Add("DescribeStreamSummary", KinesisShapes.DescribeStreamSummary, StreamOperations.DescribeStreamSummary);
        Add("ListStreams", KinesisShapes.ListStreams, StreamOperations.ListStreams);
        Add("ListShards", KinesisShapes.ListShards, ShardListing.ListShards);
        Add("IncreaseStreamRetentionPeriod", KinesisShapes.ChangeRetention, StreamOperations.IncreaseRetention);
        Add("DecreaseStreamRetentionPeriod", KinesisShapes.ChangeRetention, StreamOperations.DecreaseRetention);
        Add("DescribeLimits", KinesisShapes.DescribeLimits, StreamOperations.DescribeLimits);
        Add("EnableEnhancedMonitoring", KinesisShapes.EnhancedMonitoring, r => StreamOperations.ChangeMonitoring(r, enable: true));
        Add("DisableEnhancedMonitoring", KinesisShapes.EnhancedMonitoring, r => StreamOperations.ChangeMonitoring(r, enable: false));
        Add("AddTagsToStream", KinesisShapes.AddTagsToStream, TagOperations.AddTagsToStream);
        Add("RemoveTagsFromStream", KinesisShapes.RemoveTagsFromStream, TagOperations.RemoveTagsFromStream);
        Add("ListTagsForStream", KinesisShapes.ListTagsForStream, TagOperations.ListTagsForStream);
        Add("TagResource", KinesisShapes.TagResource, TagOperations.TagResource);
        Add("UntagResource", KinesisShapes.UntagResource, TagOperations.UntagResource);
        Add("ListTagsForResource", KinesisShapes.ListTagsForResource, TagOperations.ListTagsForResource);
        Add("PutRecord", KinesisShapes.PutRecord, RecordOperations.PutRecord);
        Add("PutRecords", KinesisShapes.PutRecords, RecordOperations.PutRecords);
        Add("GetShardIterator", KinesisShapes.GetShardIterator, RecordOperations.GetShardIterator);
        Add("GetRecords", KinesisShapes.GetRecords, RecordOperations.GetRecords);
        Add("SplitShard", KinesisShapes.SplitShard, ReshardOperations.SplitShard);
        Add("MergeShards", KinesisShapes.MergeShards, ReshardOperations.MergeShards);
        Add("UpdateShardCount", KinesisShapes.UpdateShardCount, ReshardOperations.UpdateShardCount);
        Add("UpdateStreamMode", KinesisShapes.UpdateStreamMode, ReshardOperations.UpdateStreamMode);
    }

    public bool Has(string name) => _operations.ContainsKey(name);

    public Operation Get(string name) => _operations[name];

    private void Add(string name, Shape shape, Func<KinesisRequest, ValueTask> handler) =>
        _operations[name] = new Operation(name, shape, handler);
}
