using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Firehose.Api;
using Runnel.Protocol;
using Runnel.Protocol.Cbor;
using Runnel.Protocol.Requests;
using Runnel.Protocol.Json;
using Runnel.Protocol.Validation;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>
/// The HTTP front of the AWS JSON APIs: any POST whose X-Amz-Target names a Kinesis_20131202 operation, or a
/// Firehose_20150804 one (handed to <see cref="FirehoseApi"/> once the envelope is checked: the two services share
/// AWS's framework and so its envelope, docs/adr/0002-firehose.md). It applies AWS's checks in AWS's order (size, method, content type, target, body, authentication,
/// types, constraints; docs/compatibility.md) and turns every failure into the AWS error a client
/// expects, never a 500 with a stack trace.
/// </summary>
public sealed class KinesisEndpoint(StreamService streams, KinesisOperations operations, FirehoseApi firehose, StorageHealth health, ILogger<KinesisEndpoint> log) : IDisposable
{
    private readonly ControlPlaneLimits rateLimits = new(streams);
    private readonly RecordWriter writer = new(streams.Catalog, streams.Shards, health, () => streams.PreciseNowMillis,
        stream => streams.Keyring?.SealingKey(stream.Id, stream.Encryption));
    /// <summary>How records are written to streams (stateless): also the on-failure destinations' of Lambda's mappings.</summary>
    public RecordWriter Writer => writer;

    private readonly IdleMemoryRelease idleMemory = new(streams.Clock); // gives memory back to the OS when requests stop

    public const string TargetPrefix = "Kinesis_20131202";

    /// <summary>Verifies signatures (<c>--auth sigv4</c>); null: any well-formed signature is taken, as in local development.</summary>
    public Auth.SigV4Verifier? Verifier { get; set; }

    /// <summary>Decides what a verified key may do (its IAM policy and the resource's); set with <see cref="Verifier"/>.</summary>
    public Auth.AccessControl? Access { get; set; }
    private const string JsonMediaType = JsonWireWriter.MediaType;
    private const string CborMediaType = CborWireWriter.MediaType;
    private const string PlainJsonMediaType = "application/json";

    public void Dispose() => idleMemory.Dispose();

    /// <summary>AccessDeniedException unless the key may perform the action on the resource.</summary>
    private void Authorize(Auth.Credential credential, string action, string resource)
    {
        if (Access?.Denial(credential, action, resource) is { } denial)
            throw KinesisErrors.AccessDenied(denial);
    }

    public async Task HandleAsync(HttpContext context)
    {
        idleMemory.NoteRequest();
        var http = context.Response;
        http.Headers["x-amzn-RequestId"] = RequestId.Next(streams.Now);
        http.Headers["x-amz-id-2"] = ExtendedRequestId();
        var request = context.Request;
        if (request.Headers.Origin.Count > 0)
        {
            http.Headers.AccessControlAllowOrigin = "*";
            if (HttpMethods.IsOptions(request.Method))
            {
                http.Headers.Remove("x-amz-id-2");
                if (request.Headers.AccessControlRequestHeaders.Count > 0)
                    http.Headers.AccessControlAllowHeaders = request.Headers.AccessControlRequestHeaders;
                if (request.Headers.AccessControlRequestMethod.Count > 0)
                    http.Headers.AccessControlAllowMethods = request.Headers.AccessControlRequestMethod;
                http.Headers.AccessControlMaxAge = "172800";
                http.ContentLength = 0;
                return;
            }
            http.Headers.AccessControlExposeHeaders = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date";
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            await WriteXmlError(http, 403, "AccessDeniedException", "Unable to determine service/operation name to be authorized");
            return;
        }

        long limit = streams.Options.MaxRequestBytes;
        using var body = request.ContentLength > limit ? null : await ReadBodyAsync(request, limit, context.RequestAborted);
        if (body is null)
        {
            // Read (and drop) what the client is still sending, within reason, so that it sees the 413
            // instead of a reset connection.
            await DiscardBodyAsync(request, 4 * limit, context.RequestAborted);
            http.StatusCode = 413;
            http.Headers.Connection = "close";
            return;
        }

        string mediaType = MediaType(request.ContentType);
        string target = request.Headers["X-Amz-Target"].ToString();
        int dot = target.IndexOf('.', StringComparison.Ordinal);
        string service = dot < 0 ? target : target[..dot];
        string operation = dot < 0 ? "" : target[(dot + 1)..];
        int secondDot = operation.IndexOf('.', StringComparison.Ordinal);
        if (secondDot >= 0)
            operation = operation[..secondDot];
        bool firehoseTarget = service == FirehoseApi.TargetPrefix && firehose.Has(operation);
        bool knownTarget = firehoseTarget || (service == TargetPrefix && operations.Has(operation));
        bool validMediaType = mediaType is JsonMediaType or CborMediaType or PlainJsonMediaType;

        if (body.WrittenCount == 0)
        {
            using var writer = mediaType == JsonMediaType ? (IWireWriter)new JsonWireWriter() : new CborWireWriter();
            await WriteError(http, writer, knownTarget ? KinesisErrors.MalformedBody() : KinesisErrors.UnknownOperation());
            return;
        }
        if (!validMediaType)
        {
            if (service.Length == 0 || operation.Length == 0)
                await WriteXmlError(http, 403, "AccessDeniedException", "Unable to determine service/operation name to be authorized");
            else
                await WriteBareXml(http, 404, "UnknownOperationException");
            return;
        }

        using IWireWriter response = mediaType == CborMediaType ? new CborWireWriter() : new JsonWireWriter();
        RequestDocument? document = null;
        KinesisRequest? call = null; // its handler may have started a streamed answer
        try
        {
            document = Parse(body.WrittenMemory, cbor: mediaType == CborMediaType);
            if (mediaType == PlainJsonMediaType)
            {
                // AWS answers plain JSON in the Coral envelope: 400 when it does not parse, 404 otherwise.
                bool parsed = document?.Root.Kind is RequestKind.Object or RequestKind.Array;
                await WritePlainJson(http, parsed ? 404 : 400, parsed ? "UnknownOperationException" : "SerializationException");
                return;
            }
            if (document is null || document.Root.Kind is not (RequestKind.Object or RequestKind.Array))
                throw KinesisErrors.MalformedBody();
            if (!knownTarget)
                throw KinesisErrors.UnknownOperation();
            Authentication.Check(request);
            var credential = Verifier?.Verify(request, body.WrittenMemory.Span);
            if (firehoseTarget)
            {
                if (credential is not null)
                    Authorize(credential, "firehose:" + operation, AccessResources.OfFirehose(document.Root, streams.Options.Region, streams.AccountId));
                await streams.CatchUpAsync(); // read-your-writes behind a load balancer, as for Kinesis's control plane
                await firehose.HandleAsync(operation, document.Root, response);
                await WriteAnswer(http, response, context.RequestAborted);
                return;
            }
            var op = operations.Get(operation);
            string account = credential?.AccountId ?? streams.AccountId; // the caller's: a stream named by name is one of its
            if (!op.ControlPlane && streams.SharesMetadata && NamesUnknown(document.Root, account))
                await streams.CatchUpAsync(); // created through another node a moment ago? (before SpreadsRecords looks)
            RequestValidator.Validate(document.Root, op.Shape, waive: op.PutsRecords && SpreadsRecords(document.Root, account));
            if (credential is not null)
                Authorize(credential, "kinesis:" + operation, AccessResources.OfKinesis(operation, document.Root, streams, account));
            bool cbor = mediaType == CborMediaType;
            call = new KinesisRequest(document.Root, response, streams, writer, health)
            {
                Account = account,
                Channels = firehose.Service.Channels,
                Http = request,
                Streaming = StreamedAnswer.Allowed(request) ? () => StreamedAnswer.StartAsync(http, cbor) : null,
            };
            rateLimits.Check(op, call);
            if (op.ControlPlane)
                await streams.CatchUpAsync(); // read-your-writes behind a load balancer; nothing to wait for on one node
            await op.Handler(call);
            if (call.Streamed is { } answer)
            {
                await answer.FlushAsync();
                return;
            }
            if (call.Subscription is { } subscription)
            {
                document.Dispose(); // the subscription took what it needs; it may last minutes
                document = null;
                await SubscriptionResponse.StreamAsync(context, subscription, mediaType == CborMediaType, log);
                return;
            }
            if (call.EmptyResponse)
            {
                http.StatusCode = 200;
                http.ContentType = response.ContentType;
                http.ContentLength = 0;
                return;
            }
            await WriteAnswer(http, response, context.RequestAborted);
        }
        catch (Exception e) when (http.HasStarted && call?.Streamed is not null && e is not OperationCanceledException)
        {
            // The 200 went out with the first records: nothing can be said in the answer any more. Ending the stream
            // abruptly makes the client see a broken answer (and retry), not a short one it would take for whole.
            log.LogError(e, "{Operation} failed after its answer started; the connection's stream was reset. This is a Runnel bug: please report it with this log.", operation);
            context.Abort();
        }
        catch (KinesisException e)
        {
            if (mediaType == PlainJsonMediaType)
            {
                await WritePlainJson(http, 400, "SerializationException");
            }
            else
            {
                using var error = mediaType == CborMediaType ? (IWireWriter)new CborWireWriter() : new JsonWireWriter();
                await WriteError(http, error, e);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            // A full or read-only disk is the operator's to fix, not a bug: StorageHealth logs it with the remedy.
            var fault = health.Failed(operation, e);
            if (fault is null)
                log.LogError(e, "{Operation} failed unexpectedly; answered InternalFailure. This is a Runnel bug: please report it with this log.", operation);
            if (!http.HasStarted)
            {
                using var error = mediaType == CborMediaType ? (IWireWriter)new CborWireWriter() : new JsonWireWriter();
                await WriteError(http, error, KinesisErrors.InternalFailure(fault is { } kind ? Runnel.Storage.StorageFault.ClientDetail(kind) : null));
            }
        }
        finally
        {
            call?.Streamed?.Dispose();
            document?.Dispose();
        }
    }

    private static async Task WriteAnswer(HttpResponse http, IWireWriter response, CancellationToken cancel)
    {
        http.StatusCode = 200;
        http.ContentType = response.ContentType;
        var bytes = response.Complete();
        http.ContentLength = bytes.Length;
        await http.Body.WriteAsync(bytes, cancel);
    }

    /// <summary>The media type without parameters; the usual ones without allocating.</summary>
    private static string MediaType(string? contentType)
    {
        if (contentType is null)
            return "";
        if (contentType == JsonMediaType)
            return JsonMediaType;
        if (contentType == CborMediaType)
            return CborMediaType;
        int semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
    }

    /// <summary>The opaque x-amz-id-2 AWS sends: 72 random bytes in base64 (not secret, so not from the crypto RNG).</summary>
    private static string ExtendedRequestId()
    {
        Span<byte> bytes = stackalloc byte[72];
        Random.Shared.NextBytes(bytes);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>Reads a JSON or CBOR body into the request model, in place (the body outlives the document); null when it does not parse.</summary>
    private RequestDocument? Parse(ReadOnlyMemory<byte> body, bool cbor)
    {
        int depth = streams.Options.MaxNestingDepth;
        try
        {
            return cbor ? RequestDocument.ParseCbor(body, depth) : RequestDocument.ParseJson(body, depth);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads the body into a pooled buffer, consuming Kestrel's pipe as the bytes arrive. Leaving them in
    /// the pipe until the end (and copying them out with ToArray) held a whole body in Kestrel's 4 KiB
    /// pinned blocks per connection, which its pool then kept (40+ MiB at 16 PutRecords in flight), and
    /// allocated a fresh large-object array per request: the growth measured in docs/benchmarks.md.
    /// Null when the body is over <paramref name="limit"/>; otherwise the caller disposes it.
    /// </summary>
    internal static async Task<PooledBufferWriter?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancel)
    {
        var reader = request.BodyReader;
        long? declared = request.ContentLength;
        // The writer keeps 256 bytes free past what is written, so a body of the declared length fits without growing.
        var body = new PooledBufferWriter(declared is > 0 and var length ? (int)Math.Min(length + 256, Array.MaxLength) : 4096);
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancel);
                var buffer = result.Buffer;
                if (body.WrittenCount + buffer.Length > limit)
                {
                    reader.AdvanceTo(buffer.End);
                    body.Dispose();
                    return null;
                }
                foreach (var segment in buffer)
                    body.Write(segment.Span);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                    return body;
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    private static async Task DiscardBodyAsync(HttpRequest request, long budget, CancellationToken cancel)
    {
        var reader = request.BodyReader;
        long discarded = 0;
        while (discarded <= budget)
        {
            var result = await reader.ReadAsync(cancel);
            discarded += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
                return;
        }
    }

    public static async Task WriteError(HttpResponse http, IWireWriter writer, KinesisException e)
    {
        writer.StartObject();
        writer.String("__type", e.ErrorType);
        if (e.WireMessage is { } message)
            writer.String(e.CapitalMessageField ? "Message" : "message", message);
        writer.EndObject();
        var bytes = writer.Complete();
        http.StatusCode = e.StatusCode;
        http.ContentType = writer.ContentType;
        http.ContentLength = bytes.Length;
        await http.Body.WriteAsync(bytes);
    }

    private static Task WriteXmlError(HttpResponse http, int status, string type, string message) =>
        WriteRaw(http, status, $"<{type}>\n  <Message>{message}</Message>\n</{type}>\n", null);

    private static Task WriteBareXml(HttpResponse http, int status, string type) => WriteRaw(http, status, $"<{type}/>\n", null);

    private static Task WritePlainJson(HttpResponse http, int status, string type) =>
        WriteRaw(http, status, $"{{\"Output\":{{\"__type\":\"com.amazon.coral.service#{type}\"}},\"Version\":\"1.0\"}}", PlainJsonMediaType);

    private static async Task WriteRaw(HttpResponse http, int status, string text, string? contentType)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        http.StatusCode = status;
        if (contentType is not null)
            http.ContentType = contentType;
        http.ContentLength = bytes.Length;
        await http.Body.WriteAsync(bytes);
    }

    /// <summary>
    /// True when a put names a stream with the AUTO record distribution strategy: its records need no partition
    /// key. A stream that is not there is the handler's to report, with every key still required.
    /// </summary>
    private bool SpreadsRecords(RequestValue root, string account) =>
        NamedStream(root, account) is { } name && streams.Catalog.Peek(name)?.Distribution == RecordDistribution.Auto;

    /// <summary>The stream a request names by StreamName (one of <paramref name="account"/>'s) or StreamARN, as the
    /// catalog holds it (<see cref="StreamNames"/>), read before validation (so never throwing).</summary>
    private string? NamedStream(RequestValue root, string account)
    {
        if (root.TryGetProperty("StreamName", out var n) && n.Kind == RequestKind.String)
            return streams.KeyOf(account, n.GetString());
        return root.TryGetProperty("StreamARN", out var arn) && arn.Kind == RequestKind.String
            && StreamArn.TryParse(arn.GetString(), out _, out string arnAccount, out string arnName) ? streams.KeyOf(arnAccount, arnName) : null;
    }

    /// <summary>
    /// Whether a data-plane request names a stream, or a consumer, that this cluster node does not hold: one that a
    /// client created through another node a moment ago. The endpoint then catches up with the other nodes'
    /// changes without holding a thread, before anything looks the name up (a lookup that misses would otherwise
    /// wait for them synchronously).
    /// </summary>
    private bool NamesUnknown(RequestValue root, string account)
    {
        if (root.TryGetProperty("ConsumerARN", out var c) && c.Kind == RequestKind.String
            && ConsumerArn.TryParse(c.GetString(), out _, out string consumerAccount, out string consumerStream, out string consumer, out _))
            return streams.Catalog.Peek(streams.KeyOf(consumerAccount, consumerStream)) is not { } held || !streams.Consumers.Knows(held.Id, consumer);
        return NamedStream(root, account) is { } name && streams.Catalog.Peek(name) is null;
    }
}
