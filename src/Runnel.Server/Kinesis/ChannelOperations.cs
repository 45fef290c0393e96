using System.Text.Json.Nodes;
using Runnel.Firehose.Api;
using Runnel.Firehose.Channels;
using Runnel.Protocol;
using Runnel.Protocol.Kinesis;
using Runnel.Protocol.Requests;

namespace Runnel.Server.Kinesis;

/// <summary>
/// The channel operations on the Kinesis target: each request read as the model reads it, handed to the
/// <see cref="ChannelService"/> that decides, and answered with AWS's ChannelDescription and ChannelSummary shapes.
/// </summary>
internal static class ChannelOperations
{
    private const int PageSize = 100;

    public static ValueTask CreateChannel(KinesisRequest r)
    {
        var channel = r.Channels.Create(ShapedJson.From(r.Body, KinesisShapes.CreateChannel));
        Describe(r.Response, channel);
        return ValueTask.CompletedTask;
    }

    public static ValueTask DescribeChannel(KinesisRequest r)
    {
        Describe(r.Response, r.Channels.Get(r.String("ChannelARN")!));
        return ValueTask.CompletedTask;
    }

    public static ValueTask UpdateChannel(KinesisRequest r)
    {
        var channel = r.Channels.Update(r.String("ChannelARN")!, ShapedJson.From(r.Body, KinesisShapes.UpdateChannel));
        Describe(r.Response, channel);
        return ValueTask.CompletedTask;
    }

    public static ValueTask DeleteChannel(KinesisRequest r)
    {
        r.Channels.Delete(r.String("ChannelARN")!);
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask ListChannels(KinesisRequest r)
    {
        var filters = r.Member("StreamFilter") is { } given
            ? given.EnumerateArray().Select(f => (f.StringMember("StreamARN")!, KinesisRequest.TimestampMillis(f.Member("StreamCreationTimestamp")))).ToList()
            : null;
        int limit = (int)Math.Min(r.Integer("MaxResults") ?? PageSize, PageSize);
        string? after = r.String("NextToken") is { } token ? PageToken.DecodeChannels(token, r.Streams.Clock.GetUtcNow()) : null;
        // Channels belong to the server's own account (docs/compatibility.md): another account has none.
        var listed = r.Account != r.Streams.AccountId ? []
            : r.Channels.List(filters).Where(c => after is null || string.CompareOrdinal(c.Name, after) > 0).ToList();
        var w = r.Response;
        w.StartObject();
        w.StartArray("ChannelSummaries");
        foreach (var channel in listed.Take(limit))
        {
            w.StartObject();
            Identity(w, channel);
            w.String("ChannelDestinationType", channel.DestinationType);
            w.StartArray("Streams");
            w.StartObject();
            w.String("StreamARN", channel.StreamArn);
            StreamCreated(w, channel);
            w.EndObject();
            w.EndArray();
            w.EndObject();
        }
        w.EndArray();
        if (listed.Count > limit)
            w.String("NextToken", PageToken.EncodeChannels(listed[limit - 1].Name, r.Streams.Clock.GetUtcNow()));
        w.EndObject();
        return ValueTask.CompletedTask;
    }

    /// <summary>{ChannelDescription: …}: what the channel was given, defaults filled, and its state.</summary>
    private static void Describe(IWireWriter w, Channel channel)
    {
        w.StartObject();
        w.StartObject("ChannelDescription");
        Identity(w, channel);
        w.String("ServiceExecutionRoleARN", channel.RoleArn);
        w.StartArray("StreamConfigurationList");
        w.StartObject();
        w.String("StreamARN", channel.StreamArn);
        ShapedJson.Write(w, "RecordConfiguration", channel.RecordConfiguration);
        StreamCreated(w, channel);
        w.EndObject();
        w.EndArray();
        ShapedJson.Write(w, "LoggingConfiguration", channel.Logging);
        ShapedJson.Write(w, channel.DestinationType == ChannelStatus.S3 ? "S3DestinationConfiguration" : "S3TablesDestinationConfiguration", channel.Destination);
        if (channel.Encryption is JsonObject encryption)
            ShapedJson.Write(w, "EncryptionConfiguration", encryption);
        w.EndObject();
        w.EndObject();
    }

    /// <summary>The members ChannelDescription and ChannelSummary share.</summary>
    private static void Identity(IWireWriter w, Channel channel)
    {
        w.String("ChannelName", channel.Name);
        w.String("ChannelARN", channel.Arn);
        w.String("ChannelId", channel.Id);
        w.String("ChannelStatus", channel.Status);
        if (channel.StatusReason is { } reason && channel.Status == ChannelStatus.Failed)
            w.String("ChannelStatusReason", reason);
        w.Timestamp("ChannelCreationTimestamp", channel.CreatedMillis);
    }

    /// <summary>StreamCreationTimestamp as DescribeStream shows it (whole seconds).</summary>
    private static void StreamCreated(IWireWriter w, Channel channel) =>
        w.Timestamp("StreamCreationTimestamp", channel.StreamCreatedMillis / 1000 * 1000);
}
