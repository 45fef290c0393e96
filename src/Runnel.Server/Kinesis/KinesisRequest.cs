using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Protocol;
using Runnel.Protocol.Requests;
using Runnel.Protocol.Validation;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>
/// One validated request: typed access to its members, the response writer, and the services. Members
/// were type-checked by <see cref="RequestValidator"/> first, so the accessors do not re-check types.
/// </summary>
public sealed class KinesisRequest(RequestValue body, IWireWriter response, StreamService streams, RecordWriter writer, StorageHealth health)
{
    /// <summary>Told of every write that fails for a disk condition and of writes that succeed.</summary>
    public StorageHealth Health { get; } = health;

    public RequestValue Body { get; } = body;

    /// <summary>Where the answer is written: a buffer, or once <see cref="TryStreamAsync"/> started one, the response's pipe.</summary>
    public IWireWriter Response { get; private set; } = response;

    /// <summary>Set by the endpoint where an answer may go out while it is written (<see cref="StreamedAnswer.Allowed"/>).</summary>
    internal Func<ValueTask<StreamedAnswer>>? Streaming { get; init; }

    /// <summary>The answer a handler started streaming, if one did: the endpoint finishes it.</summary>
    internal StreamedAnswer? Streamed { get; private set; }

    /// <summary>
    /// Starts a successful answer that goes out as it is written (HTTP/2); <see cref="Response"/> is then its writer,
    /// and the handler flushes through <see cref="Streamed"/>. False where the answer must be buffered (HTTP/1.1, whose
    /// Content-Length comes first): the handler writes to <see cref="Response"/> as always. Call it only once nothing
    /// can fail any more: the status has been sent.
    /// </summary>
    internal async ValueTask<bool> TryStreamAsync()
    {
        if (Streaming is null || Streamed is not null)
            return Streamed is not null;
        Streamed = await Streaming();
        Response = Streamed.Writer;
        return true;
    }

    public StreamService Streams { get; } = streams;

    /// <summary>The account's Kinesis channels (Firehose's delivery engine delivers them).</summary>
    public required Runnel.Firehose.Channels.ChannelService Channels { get; init; }

    /// <summary>Routes, frames and appends the records of a put.</summary>
    public RecordWriter Writer { get; } = writer;

    /// <summary>The HTTP request this came in (for who sent it); null in tests that call handlers directly.</summary>
    internal Microsoft.AspNetCore.Http.HttpRequest? Http { get; init; }

    private Runnel.Core.Metrics.ClientId? _client;

    /// <summary>Who sent the request: its signature's access key and its User-Agent (read once, when asked).</summary>
    public Runnel.Core.Metrics.ClientId Client => _client ??= ClientIdentity.From(Http);

    /// <summary>Set by SubscribeToShard: the subscription the endpoint streams as the response.</summary>
    public ShardSubscription? Subscription { get; set; }

    /// <summary>True when the operation produced no output (AWS sends an empty body).</summary>
    public bool EmptyResponse { get; set; }

    public string? String(string name) => Body.StringMember(name);

    public long? Integer(string name) => Body.IntegerMember(name);

    public bool? Boolean(string name) => Body.BooleanMember(name);

    /// <summary>A timestamp member (epoch seconds, fraction allowed) in Unix milliseconds.</summary>
    public long? TimestampMillis(string name) => TimestampMillis(Member(name));

    /// <summary>A timestamp value (epoch seconds, fraction allowed) in Unix milliseconds; null when absent or not a number.</summary>
    public static long? TimestampMillis(RequestValue? value) =>
        value is { Kind: RequestKind.Number } v ? v.GetTimestampMillis() : null;

    /// <summary>
    /// Ends a data-plane call that has passed every check when the request says DryRun: AWS then answers
    /// DryRunOperationException and does nothing. Called just before the call would change or read anything.
    /// </summary>
    public void StopIfDryRun()
    {
        if (Boolean("DryRun") == true)
            throw KinesisErrors.DryRun();
    }

    public RequestValue? Member(string name) => Body.Member(name);

    /// <summary>The account the caller belongs to (its key's <c>account_id</c>; the server's own without one, or
    /// without <c>--auth</c>): a stream it names by name is one of this account's.</summary>
    public string Account { get; init; } = streams.AccountId;

    /// <summary>The account of the stream held under <paramref name="stream"/> (a name <see cref="StreamName"/> gave).</summary>
    public string AccountOf(string stream) => Streams.AccountOf(stream);

    /// <summary>A stream's own name, as the client knows it (<see cref="StreamNames"/>).</summary>
    public static string Plain(string stream) => StreamNames.Plain(stream);

    /// <summary>A stream's own name and its account, as messages show them.</summary>
    public (string Name, string Account) Shown(string stream) => StreamNames.Split(stream, Streams.AccountId);

    /// <summary>
    /// The stream the request names, by StreamName or StreamARN, as the catalog holds it (<see cref="StreamNames"/>): by
    /// name, one of the caller's account; by ARN, one of the ARN's account (access control has let it through: the
    /// caller's own, or another's whose resource policy allows it). With both, they must agree; with an ARN of
    /// another region the stream is not here, as on AWS.
    /// </summary>
    public string StreamName()
    {
        string? name = String("StreamName");
        string? arn = String("StreamARN");
        if (arn is null)
            return Streams.KeyOf(Account, name ?? throw KinesisErrors.Validation("Either StreamName or StreamARN should be provided."));
        if (!StreamArn.TryParse(arn, out string region, out string account, out string arnName))
            throw KinesisErrors.InvalidArgument($"Invalid StreamARN: {arn}");
        if (name is not null && name != arnName)
            throw KinesisErrors.InvalidArgument("StreamARN and StreamName do not refer to the same stream.");
        if (region != Streams.Options.Region)
            throw KinesisErrors.ResourceNotFound($"Stream {arnName} under account {account} not found.");
        return Streams.KeyOf(account, arnName);
    }
}

