using Runnel.Core.Errors;

namespace Runnel.Firehose.Channels;

/// <summary>
/// The errors of the channel operations. AWS has published none of their texts (docs/adr/0002-firehose-channels.md,
/// open question 1): the types are those its model lists for each case, the texts Runnel's own, in the style of
/// Kinesis's captured ones, and listed in docs/compatibility.md.
/// </summary>
public static class ChannelErrors
{
    public static KinesisException NotFound(string arn) => KinesisErrors.ResourceNotFound($"Channel {arn} not found.");

    public static KinesisException AlreadyExists(string name, string account) =>
        KinesisErrors.ResourceInUse($"Channel {name} under account {account} already exists.");

    public static KinesisException NotActive(Channel channel, string account) =>
        KinesisErrors.ResourceInUse($"Channel {channel.Name} under account {account} not ACTIVE, instead in state {channel.Status}");

    public static KinesisException Invalid(string message) => KinesisErrors.InvalidArgument(message);

    /// <summary>A provisioned source stream: ValidationException is Kinesis's error for an operation the stream's
    /// capacity mode does not allow.</summary>
    public static KinesisException NotOnDemand(string stream, string account) =>
        KinesisErrors.Validation($"Stream {stream} under account {account} is in the PROVISIONED capacity mode; channels read only streams in the ON_DEMAND capacity mode.");

    public static KinesisException OneOfEachType(string stream, string type) =>
        KinesisErrors.LimitExceeded($"Stream {stream} already has a channel with destination type {type}; a stream can have one channel of each destination type.");

    public static KinesisException TooMany(int limit) =>
        KinesisErrors.LimitExceeded($"This account already has {limit} channels, the most it may have.");

    /// <summary>DeleteStream of a stream that channels read.</summary>
    public static KinesisException StreamHasChannels(string stream, string account) =>
        KinesisErrors.ResourceInUse($"DeleteStream can\u2019t delete {account}:{stream} because channels read this data stream. Delete its channels first (ListChannels with a StreamFilter names them).");
}
