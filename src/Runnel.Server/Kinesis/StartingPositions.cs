using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>Where a reader starts in a shard, for GetShardIterator and SubscribeToShard, with AWS's errors.</summary>
internal static class StartingPositions
{
    private const string EitherOr = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber.";

    /// <summary>
    /// The offset of the first record to read for a starting position of <paramref name="type"/> (TRIM_HORIZON,
    /// LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP). Throws InvalidArgumentException when the
    /// sequence number or timestamp is missing, not this server's, of another shard or stream, or in the future.
    /// </summary>
    public static async ValueTask<ulong> OffsetAsync(string operation, string type, string? startingSequence, long? timestampMillis, StreamInfo stream, ShardInfo shard, Shard log, DateTimeOffset now, string account)
    {
        string shardId = shard.ShardId;
        if (startingSequence is not null && type is "TRIM_HORIZON" or "LATEST")
            throw KinesisErrors.InvalidArgument($"{EitherOr} Request specified {type} and also a StartingSequenceNumber.");
        switch (type)
        {
            case "TRIM_HORIZON":
                return 0;
            case "LATEST":
                return shard.EndOffset ?? log.NextOffset;
            case "AT_SEQUENCE_NUMBER" or "AFTER_SEQUENCE_NUMBER":
                if (startingSequence is null)
                    throw KinesisErrors.InvalidArgument($"{EitherOr} Request specified {type} and no StartingSequenceNumber.");
                var sequence = Decode(operation, startingSequence, stream, shard, now, account);
                return type == "AT_SEQUENCE_NUMBER" ? sequence.AtOffset : sequence.AfterOffset;
            default: // AT_TIMESTAMP
                if (timestampMillis is not { } timestamp)
                    throw KinesisErrors.InvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.");
                long nowMillis = now.ToUnixTimeMilliseconds();
                if (timestamp > nowMillis)
                    throw KinesisErrors.InvalidArgument($"The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {timestamp}, currentTimestampInMillis: {nowMillis}");
                return await log.FirstOffsetAtOrAfterAsync(timestamp);
        }
    }

    /// <summary>
    /// A StartingSequenceNumber checked as AWS checks it, in AWS's order: it must decode (a known version, fields
    /// in range, not from the future), encode <paramref name="shard"/>'s index, and come from this shard (the
    /// current layout and the shard's time). Former Runnel numbers pass on shards that issued them.
    /// </summary>
    private static DecodedSequenceNumber Decode(string operation, string text, StreamInfo stream, ShardInfo shard, DateTimeOffset now, string account)
    {
        string where = $"used in {operation} on shard {shard.ShardId} in stream {stream.PlainName} under account {account} is invalid";
        if (!DecodedSequenceNumber.TryDecode(text, now.ToUnixTimeSeconds(), out var sequence)
            || (sequence.Layout == SequenceLayout.RunnelLegacy && !shard.AcceptsLegacySequenceNumbers))
            throw KinesisErrors.InvalidArgument($"StartingSequenceNumber {text} {where}.");
        if (sequence.ShardIndex != shard.Index)
            throw KinesisErrors.InvalidArgument($"Invalid StartingSequenceNumber. It encodes {ShardId.Format(sequence.ShardIndex)}, while it was used in a call to a shard with {shard.ShardId}");
        bool ours = sequence.Layout switch
        {
            SequenceLayout.AwsVersion2 => sequence.ShardSeconds == shard.SequenceSeconds,
            SequenceLayout.RunnelLegacy => sequence.ShardSeconds == shard.CreatedSeconds,
            _ => false,
        };
        if (!ours)
            throw KinesisErrors.InvalidArgument($"StartingSequenceNumber {sequence.Text} {where} because it did not come from this stream.");
        return sequence;
    }
}
