using System.Buffers;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runnel.Client.Internal.Http;
using Runnel.Client.Internal.Wire;

namespace Runnel.Client;

/// <summary>
/// A small client of the DynamoDB API (JSON 1.0, <c>X-Amz-Target: DynamoDB_20120810.&lt;Operation&gt;</c>, signed for
/// the service <c>dynamodb</c>), enough for a lease table: the request and answer are DynamoDB's JSON as
/// <see cref="JsonNode"/>s (items in its attribute-value form, <c>{"S":"…"}</c>, <c>{"N":"…"}</c>). Runnel serves
/// DynamoDB on the same port as Kinesis. Retries as <see cref="KinesisClient"/> does (and when an answer fails its
/// <c>x-amz-crc32</c> check); errors are thrown as
/// <see cref="DynamoDbException"/> (<c>ConditionalCheckFailedException</c>, <c>ResourceNotFoundException</c>, …).
/// Thread-safe: make one and share it.
/// </summary>
public sealed class DynamoDbClient : IDisposable
{
    private const string TargetPrefix = "DynamoDB_20120810.";

    private readonly AwsHttpSender _sender;

    /// <summary>A client with the given settings (default: AWS, with the region and credentials of the standard chain).</summary>
    /// <exception cref="InvalidOperationException">No region was given or found.</exception>
    public DynamoDbClient(DynamoDbClientOptions? options = null)
        : this(options ?? new DynamoDbClientOptions(), retry: null)
    {
    }

    internal DynamoDbClient(DynamoDbClientOptions options, RetryPolicy? retry) =>
        _sender = new AwsHttpSender(options, ServiceEndpoint.Resolve(options, "dynamodb"), Error, retry);

    /// <summary>The URL requests go to.</summary>
    public Uri Endpoint => _sender.Endpoint.Url;

    /// <summary>
    /// Calls <paramref name="operation"/> (such as <c>PutItem</c>) with <paramref name="request"/>, DynamoDB's JSON, and
    /// returns its answer (an empty object when the operation answers nothing).
    /// </summary>
    public async Task<JsonObject> SendAsync(string operation, JsonObject request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
            request.WriteTo(writer);
        byte[] answer = await SendAsync(operation, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        try
        {
            return answer.Length == 0 ? new JsonObject() : JsonNode.Parse(answer)?.AsObject() ?? new JsonObject();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new DynamoDbException("MalformedAnswer", $"{operation}'s answer is not a JSON object: {e.Message}", HttpStatusCode.OK, null, isRetryable: false, e);
        }
    }

    /// <summary>Calls <paramref name="operation"/> with a request already in UTF-8 JSON and returns the answer's bytes.</summary>
    public async Task<byte[]> SendAsync(string operation, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(operation);
        var answer = await _sender.SendAsync(TargetPrefix + operation, JsonRequestWriter.Json10, utf8Json, cancellationToken).ConfigureAwait(false);
        return answer.Body;
    }

    private static DynamoDbException Error(string code, string message, HttpStatusCode status, string? requestId, bool retryable, Exception? inner) =>
        new(code, message, status, requestId, retryable, inner);

    /// <summary>Closes the client's connections.</summary>
    public void Dispose() => _sender.Dispose();
}
