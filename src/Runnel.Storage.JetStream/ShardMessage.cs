using System.Globalization;
using NATS.Client.Core;

namespace Runnel.Storage.JetStream;

/// <summary>
/// One JetStream message of a shard's stream, as read back: one append's record frames (the segment frame
/// format, docs/formats/segment.md) and the headers that place them (docs/adr/0001-kinesis-on-jetstream.md).
/// A message with no records is a marker: the shard's end (closed by a reshard), or the log's tip left
/// behind when retention removed every record, so that offsets go on from where they were.
/// </summary>
internal sealed record ShardMessage(ulong Sequence, ulong Offset, int Count, long ArrivalMillis, bool Closed, byte[] Frames)
{
    public const string OffsetHeader = "Runnel-Offset";
    public const string CountHeader = "Runnel-Count";
    public const string ArrivalHeader = "Runnel-Arrival";
    public const string ClosedHeader = "Runnel-Closed";

    /// <summary>Set by JetStream on a direct get's answer: the message's stream sequence.</summary>
    public const string SequenceHeaderName = "Nats-Sequence";

    /// <summary>The offset one past this message's records.</summary>
    public ulong NextOffset => Offset + (ulong)Count;

    /// <summary>The headers a message of <paramref name="count"/> records from <paramref name="offset"/> carries.</summary>
    public static NatsHeaders Headers(ulong offset, int count, long arrivalMillis, bool closed = false)
    {
        var headers = new NatsHeaders
        {
            [OffsetHeader] = offset.ToString(CultureInfo.InvariantCulture),
            [CountHeader] = count.ToString(CultureInfo.InvariantCulture),
            [ArrivalHeader] = arrivalMillis.ToString(CultureInfo.InvariantCulture),
        };
        if (closed)
            headers[ClosedHeader] = "true";
        return headers;
    }

    /// <summary>Reads a direct get's answer; null when JetStream has no such message (404).</summary>
    public static ShardMessage? From(NatsMsg<byte[]> message, string stream)
    {
        var headers = message.Headers;
        if (headers is null || headers.Code == 404)
            return null;
        if (headers.Code >= 400)
            throw new IOException($"JetStream answered {headers.Code} {headers.MessageText} reading stream {stream}.");
        return FromHeaders(headers, stream, message.Data ?? []);
    }

    /// <summary>A message known by its headers (with <see cref="SequenceHeaderName"/>) and frames.</summary>
    public static ShardMessage FromHeaders(NatsHeaders headers, string stream, byte[] frames) =>
        new(Number(headers, SequenceHeaderName, stream),
            Number(headers, OffsetHeader, stream),
            (int)Number(headers, CountHeader, stream),
            (long)Number(headers, ArrivalHeader, stream),
            headers.TryGetLastValue(ClosedHeader, out string? closed) && closed == "true",
            frames);

    private static ulong Number(NatsHeaders headers, string name, string stream) =>
        headers.TryGetLastValue(name, out string? text) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)
            ? value
            : throw new InvalidDataException($"A message of JetStream stream {stream} has no valid {name} header: it was not written by Runnel.");
}
