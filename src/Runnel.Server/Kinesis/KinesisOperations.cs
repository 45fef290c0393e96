using Runnel.Protocol.Kinesis;
using Runnel.Protocol.Validation;

namespace Runnel.Server.Kinesis;

/// <summary>
/// One operation: its request shape, its handler, and its rate limit in calls per second, AWS's quota either
/// per account or per stream (both null for the data plane, which is limited per shard).
/// </summary>
public sealed record Operation(string Name, Shape Shape, Func<KinesisRequest, ValueTask> Handler, double? AccountRate, double? StreamRate = null)
{
    /// <summary>PutRecord and PutRecords, whose partition keys a stream with the AUTO record distribution strategy does without.</summary>
    public bool PutsRecords { get; } = Name is "PutRecord" or "PutRecords";

    /// <summary>An operation of the control plane (AWS limits its calls per second): on a cluster it first waits for the
    /// changes other nodes made before it, so a client reads what it wrote through any node.</summary>
    public bool ControlPlane { get; } = AccountRate is not null || StreamRate is not null;
}

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
        Add("UpdateMaxRecordSize", KinesisShapes.UpdateMaxRecordSize, StreamOperations.UpdateMaxRecordSize);
        Add("StartStreamEncryption", KinesisShapes.StreamEncryption, EncryptionOperations.Start);
        Add("StopStreamEncryption", KinesisShapes.StreamEncryption, EncryptionOperations.Stop);
        Add("SubscribeToShard", KinesisShapes.SubscribeToShard, FanOutOperations.SubscribeToShard);
        Add("RegisterStreamConsumer", KinesisShapes.RegisterStreamConsumer, ConsumerOperations.RegisterStreamConsumer);
        Add("DescribeStreamConsumer", KinesisShapes.ConsumerReference, ConsumerOperations.DescribeStreamConsumer);
        Add("ListStreamConsumers", KinesisShapes.ListStreamConsumers, ConsumerOperations.ListStreamConsumers);
        Add("DeregisterStreamConsumer", KinesisShapes.ConsumerReference, ConsumerOperations.DeregisterStreamConsumer);
        Add("PutResourcePolicy", KinesisShapes.PutResourcePolicy, ResourcePolicyOperations.PutResourcePolicy);
        Add("GetResourcePolicy", KinesisShapes.ResourcePolicyReference, ResourcePolicyOperations.GetResourcePolicy);
        Add("DeleteResourcePolicy", KinesisShapes.ResourcePolicyReference, ResourcePolicyOperations.DeleteResourcePolicy);
        Add("UpdateStreamWarmThroughput", KinesisShapes.UpdateStreamWarmThroughput, CapacityOperations.UpdateStreamWarmThroughput);
        Add("UpdateStreamRecordDistributionStrategy", KinesisShapes.UpdateStreamRecordDistributionStrategy, CapacityOperations.UpdateStreamRecordDistributionStrategy);
        Add("CreateChannel", KinesisShapes.CreateChannel, ChannelOperations.CreateChannel);
        Add("DescribeChannel", KinesisShapes.ChannelReference, ChannelOperations.DescribeChannel);
        Add("ListChannels", KinesisShapes.ListChannels, ChannelOperations.ListChannels);
        Add("UpdateChannel", KinesisShapes.UpdateChannel, ChannelOperations.UpdateChannel);
        Add("DeleteChannel", KinesisShapes.ChannelReference, ChannelOperations.DeleteChannel);
        Add("DescribeAccountSettings", KinesisShapes.DescribeAccountSettings, AccountOperations.DescribeAccountSettings);
        Add("UpdateAccountSettings", KinesisShapes.UpdateAccountSettings, AccountOperations.UpdateAccountSettings);
    }

    public bool Has(string name) => _operations.ContainsKey(name);

    public Operation Get(string name) => _operations[name];

    private void Add(string name, Shape shape, Func<KinesisRequest, ValueTask> handler) =>
        _operations[name] = new Operation(name, shape, handler, AccountRates.GetValueOrDefault(name), StreamRates.GetValueOrDefault(name));

    /// <summary>AWS's control-plane quotas, calls per second per account.</summary>
    private static readonly Dictionary<string, double?> AccountRates = new(StringComparer.Ordinal)
    {
        ["CreateStream"] = 5,
        ["DeleteStream"] = 5,
        ["DescribeStream"] = 10,
        ["DescribeStreamSummary"] = 20,
        ["ListStreams"] = 5,
        ["ListShards"] = 1000,
        ["IncreaseStreamRetentionPeriod"] = 5,
        ["DecreaseStreamRetentionPeriod"] = 5,
        ["AddTagsToStream"] = 5,
        ["RemoveTagsFromStream"] = 5,
        ["ListTagsForStream"] = 5,
        ["TagResource"] = 5,
        ["UntagResource"] = 5,
        ["ListTagsForResource"] = 5,
        ["DescribeLimits"] = 1,
        ["EnableEnhancedMonitoring"] = 5,
        ["DisableEnhancedMonitoring"] = 5,
        ["SplitShard"] = 5,
        ["MergeShards"] = 5,
        ["UpdateShardCount"] = 5,
        ["UpdateStreamMode"] = 5,
        ["UpdateMaxRecordSize"] = 5,
        ["RegisterStreamConsumer"] = 5,
        ["DescribeAccountSettings"] = 5,
        ["UpdateAccountSettings"] = 5,
        ["UpdateStreamWarmThroughput"] = 5,
        // Not published by AWS: the control plane's usual 5.
        ["StartStreamEncryption"] = 5,
        ["StopStreamEncryption"] = 5,
        ["PutResourcePolicy"] = 5,
        ["GetResourcePolicy"] = 5,
        ["DeleteResourcePolicy"] = 5,
        ["UpdateStreamRecordDistributionStrategy"] = 5,
        // The channel operations: 5 per account (AWS's channel quotas).
        ["CreateChannel"] = 5,
        ["DescribeChannel"] = 5,
        ["ListChannels"] = 5,
        ["UpdateChannel"] = 5,
        ["DeleteChannel"] = 5,
    };

    /// <summary>AWS's quotas that apply per stream, calls per second (API reference of each operation).</summary>
    private static readonly Dictionary<string, double?> StreamRates = new(StringComparer.Ordinal)
    {
        ["DescribeStreamConsumer"] = 20,
        ["ListStreamConsumers"] = 5,
        ["DeregisterStreamConsumer"] = 5,
    };
}
