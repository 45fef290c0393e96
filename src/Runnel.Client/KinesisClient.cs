using System.Net;
using System.Runtime.CompilerServices;
using Runnel.Client.Internal.Http;
using Runnel.Client.Internal.Kinesis;
using Runnel.Client.Internal.Wire;
using Runnel.Client.Models;

namespace Runnel.Client;

/// <summary>
/// A client of the Kinesis Data Streams API, of AWS or of Runnel: typed operations over JSON 1.1 or CBOR 1.1, signed
/// with SigV4, retried on throttling, 5xx and transport failures (<see cref="RetryOptions"/>). Failures are thrown as
/// <see cref="KinesisException"/>. Thread-safe: make one and share it (it holds a pool of connections); dispose it at
/// the end.
/// </summary>
public sealed class KinesisClient : IDisposable
{
    private const string TargetPrefix = "Kinesis_20131202.";

    private readonly AwsHttpSender _sender;

    /// <summary>A client with the given settings (default: AWS, with the region and credentials of the standard chain).</summary>
    /// <exception cref="InvalidOperationException">No region was given or found.</exception>
    public KinesisClient(KinesisClientOptions? options = null)
        : this(options ?? new KinesisClientOptions(), retry: null)
    {
    }

    /// <summary>A client whose retry policy is the test's (its random source and waits).</summary>
    internal KinesisClient(KinesisClientOptions options, RetryPolicy? retry)
    {
        Protocol = options.Protocol;
        Clock = options.TimeProvider;
        _sender = new AwsHttpSender(options, ServiceEndpoint.Resolve(options, "kinesis"), Error, retry);
    }

    /// <summary>The URL requests go to.</summary>
    public Uri Endpoint => _sender.Endpoint.Url;

    /// <summary>The region requests are signed for.</summary>
    public string Region => _sender.Endpoint.Region;

    /// <summary>The encoding of requests and answers.</summary>
    public KinesisProtocol Protocol { get; }

    /// <summary>The options' clock, which waits use.</summary>
    internal TimeProvider Clock { get; }

    /// <summary>Puts one record.</summary>
    public Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("PutRecord", request, KinesisRequests.PutRecord, KinesisAnswers.PutRecord, cancellationToken);

    /// <summary>Puts up to 500 records. Records that failed are reported in the answer, not thrown and not retried.</summary>
    public Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("PutRecords", request, KinesisRequests.PutRecords, KinesisAnswers.PutRecords, cancellationToken);

    /// <summary>An iterator of a shard, at the position the request names.</summary>
    public Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("GetShardIterator", request, KinesisRequests.GetShardIterator, KinesisAnswers.GetShardIterator, cancellationToken);

    /// <summary>Reads records at an iterator.</summary>
    public Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("GetRecords", request, KinesisRequests.GetRecords, KinesisAnswers.GetRecords, cancellationToken);

    /// <summary>One page of a stream's shards.</summary>
    public Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("ListShards", request, KinesisRequests.ListShards, KinesisAnswers.ListShards, cancellationToken);

    /// <summary>
    /// Every shard the request selects, page after page: the first page with the request as given, the next ones with
    /// its <c>NextToken</c> alone (and <c>MaxResults</c>), as the API wants.
    /// </summary>
    public async IAsyncEnumerable<Shard> ListAllShardsAsync(ListShardsRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var page = await ListShardsAsync(request, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            foreach (var shard in page.Shards)
                yield return shard;
            if (page.NextToken is null)
                yield break;
            page = await ListShardsAsync(new ListShardsRequest { NextToken = page.NextToken, MaxResults = request.MaxResults }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A stream's description, without its shards.</summary>
    public Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("DescribeStreamSummary", request, KinesisRequests.DescribeStreamSummary, KinesisAnswers.DescribeStreamSummary, cancellationToken);

    /// <summary>Creates a stream; it is <c>CREATING</c> until DescribeStreamSummary says <c>ACTIVE</c>.</summary>
    public Task CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("CreateStream", request, KinesisRequests.CreateStream, static _ => true, cancellationToken);

    /// <summary>Deletes a stream and its records.</summary>
    public Task DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("DeleteStream", request, KinesisRequests.DeleteStream, static _ => true, cancellationToken);

    /// <summary>Registers an enhanced fan-out consumer; it is <c>CREATING</c> until DescribeStreamConsumer says <c>ACTIVE</c>.</summary>
    public Task<RegisterStreamConsumerResponse> RegisterStreamConsumerAsync(RegisterStreamConsumerRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("RegisterStreamConsumer", request, KinesisRequests.RegisterStreamConsumer, n => new RegisterStreamConsumerResponse(KinesisAnswers.Consumer(n["Consumer"])), cancellationToken);

    /// <summary>A registered consumer, by its ARN or by its stream's ARN and its name.</summary>
    public Task<DescribeStreamConsumerResponse> DescribeStreamConsumerAsync(StreamConsumerRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("DescribeStreamConsumer", request, KinesisRequests.StreamConsumer, n => new DescribeStreamConsumerResponse(KinesisAnswers.Consumer(n["ConsumerDescription"])), cancellationToken);

    /// <summary>Deregisters a consumer, by its ARN or by its stream's ARN and its name.</summary>
    public Task DeregisterStreamConsumerAsync(StreamConsumerRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("DeregisterStreamConsumer", request, KinesisRequests.StreamConsumer, static _ => true, cancellationToken);

    /// <summary>One page of a stream's registered consumers.</summary>
    public Task<ListStreamConsumersResponse> ListStreamConsumersAsync(ListStreamConsumersRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("ListStreamConsumers", request, KinesisRequests.ListStreamConsumers, KinesisAnswers.ListStreamConsumers, cancellationToken);

    /// <summary>
    /// Subscribes a registered consumer to a shard (enhanced fan-out). Completes once the service has accepted the
    /// subscription (its <c>initial-response</c> event came), so records put after this returns are pushed to it; the
    /// call is retried like any other until then, and a refusal (such as <c>ResourceNotFoundException</c>) is thrown here.
    /// Enumerate the returned <see cref="ShardSubscription"/> for its events, and dispose it to end it.
    /// </summary>
    public async Task<ShardSubscription> SubscribeToShardAsync(SubscribeToShardRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var writer = Encode(request, KinesisRequests.SubscribeToShard);
        var response = await _sender.SendStreamingAsync(TargetPrefix + "SubscribeToShard", writer.ContentType, writer.Body(), cancellationToken).ConfigureAwait(false);
        try
        {
            var subscription = new ShardSubscription(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Protocol);
            await subscription.ReadInitialResponseAsync(cancellationToken).ConfigureAwait(false);
            return subscription;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private async Task<T> CallAsync<TRequest, T>(string operation, TRequest request, Action<WireWriter, TRequest> write, Func<WireNode, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ServiceAnswer answer;
        using (var writer = Encode(request, write))
            answer = await _sender.SendAsync(TargetPrefix + operation, writer.ContentType, writer.Body(), cancellationToken).ConfigureAwait(false);
        WireNode node;
        try
        {
            node = Parse(answer.Body, answer.ContentType);
            return read(node);
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or System.Formats.Cbor.CborContentException or InvalidOperationException)
        {
            throw new KinesisException("MalformedAnswer", $"{operation}'s answer could not be read: {e.Message}", HttpStatusCode.OK, answer.RequestId, isRetryable: false, e);
        }
    }

    /// <summary>The request's body, written; the caller disposes the writer once the call is answered (its buffer is pooled).</summary>
    private WireWriter Encode<TRequest>(TRequest request, Action<WireWriter, TRequest> write)
    {
        var writer = WireWriter.For(Protocol);
        try
        {
            write(writer, request);
            return writer;
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    /// <summary>Parses an answer by its content type (CBOR, else JSON), falling back to the client's protocol.</summary>
    private WireNode Parse(byte[] body, string? contentType) => Parse(body, contentType, Protocol);

    /// <summary>Parses an answer by its content type (CBOR, else JSON), falling back to <paramref name="protocol"/>.</summary>
    internal static WireNode Parse(ReadOnlyMemory<byte> body, string? contentType, KinesisProtocol protocol)
    {
        bool cbor = contentType is null ? protocol == KinesisProtocol.Cbor : contentType == CborRequestWriter.MediaType;
        return cbor ? CborAnswerReader.Parse(body) : JsonAnswerReader.Parse(body);
    }

    private static KinesisException Error(string code, string message, HttpStatusCode status, string? requestId, bool retryable, Exception? inner) =>
        new(code, message, status, requestId, retryable, inner);

    /// <summary>Closes the client's connections.</summary>
    public void Dispose() => _sender.Dispose();
}
