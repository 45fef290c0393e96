using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Runnel.Core.Errors;
using Runnel.DynamoDb.Api;
using Runnel.DynamoDb.Service;
using Runnel.Server.Streams;

namespace Runnel.Server.DynamoDb;

/// <summary>
/// The HTTP front of the DynamoDB API (docs/compatibility.md, "DynamoDB"): a POST whose X-Amz-Target names a
/// <c>DynamoDB_20120810</c> operation, on the same port as Kinesis. It does the envelope in AWS's order (target,
/// authentication and, under <c>--auth sigv4</c>, the signature and the key's permission on each table named, body),
/// catches up with other nodes' changes on a cluster, hands the body to <see cref="DynamoDbApi"/>, and answers in
/// JSON 1.0 with the CRC32 header DynamoDB's SDKs check; every failure is DynamoDB's error, never a stack trace.
/// Thread-safe.
/// </summary>
public sealed class DynamoDbEndpoint(DynamoDbApi api, StreamService streams, StorageHealth health, ILogger log)
{
    /// <summary>Verifies signatures (<c>--auth sigv4</c>); null: any well-formed signature is taken.</summary>
    public Auth.SigV4Verifier? Verifier { get; set; }

    /// <summary>Decides what a verified key may do; set with <see cref="Verifier"/>.</summary>
    public Auth.AccessControl? Access { get; set; }

    /// <summary>Whether a request is DynamoDB's (its target names the service).</summary>
    public static bool Accepts(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Headers["X-Amz-Target"].ToString().StartsWith(DynamoDbApi.TargetPrefix + ".", StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var http = context.Response;
        http.Headers["x-amzn-RequestId"] = Kinesis.RequestId.Next(streams.Now);
        string operation = request.Headers["X-Amz-Target"].ToString()[(DynamoDbApi.TargetPrefix.Length + 1)..];
        try
        {
            long limit = streams.Options.MaxRequestBytes;
            using var body = request.ContentLength > limit ? null : await Kinesis.KinesisEndpoint.ReadBodyAsync(request, limit, context.RequestAborted);
            if (body is null)
            {
                http.StatusCode = 413;
                http.Headers.Connection = "close";
                return;
            }
            Kinesis.Authentication.Check(request);
            var credential = Verifier?.Verify(request, body.WrittenMemory.Span);
            if (!DynamoDbApi.Has(operation))
                throw DynamoDbErrors.UnknownOperation();
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body.WrittenMemory, new JsonDocumentOptions { MaxDepth = streams.Options.MaxNestingDepth });
            }
            catch (JsonException)
            {
                throw DynamoDbErrors.Serialization("Unexpected character found when parsing the request body");
            }
            using (document)
            {
                string account = credential?.AccountId ?? streams.AccountId;
                if (credential is not null && Access is not null)
                    foreach (string resource in api.Resources(operation, document.RootElement, account))
                        if (Access.Denial(credential, "dynamodb:" + operation, resource) is { } denial)
                            throw DynamoDbErrors.AccessDenied(denial);
                await streams.CatchUpAsync(); // read-your-writes behind a load balancer; nothing to wait for on one node
                var buffer = new ArrayBufferWriter<byte>(256);
                using (var json = new Utf8JsonWriter(buffer))
                    api.Handle(operation, document.RootElement, account, json);
                await WriteAsync(http, 200, buffer.WrittenMemory, context.RequestAborted);
            }
        }
        catch (DynamoDbException e)
        {
            await WriteErrorAsync(http, e);
        }
        catch (KinesisException e)
        {
            // The envelope's checks are shared with Kinesis; DynamoDB names them in Coral's namespace.
            await WriteErrorAsync(http, DynamoDbErrors.Service(e.ErrorType, e.WireMessage, e.StatusCode));
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            var fault = health.Failed(operation, e);
            if (fault is null)
                log.LogError(e, "DynamoDB {Operation} failed unexpectedly; answered InternalServerError. This is a Runnel bug: please report it with this log.", operation);
            if (!http.HasStarted)
                await WriteErrorAsync(http, DynamoDbErrors.InternalServerError(fault is { } kind ? $"Internal server error: {Runnel.Storage.StorageFault.ClientDetail(kind)}" : "Internal server error"));
        }
    }

    private static async Task WriteErrorAsync(HttpResponse http, DynamoDbException e)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("__type", e.ErrorType);
            if (e.CancellationReasons is { } reasons)
            {
                json.WriteStartArray("CancellationReasons");
                foreach (var reason in reasons)
                {
                    json.WriteStartObject();
                    if (reason.Item is { } old)
                        Runnel.DynamoDb.Model.AttributeJson.WriteItem(json, "Item", old);
                    json.WriteString("Code", reason.Code);
                    if (reason.Message is { } text)
                        json.WriteString("Message", text);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            if (e.Item is { } item)
                Runnel.DynamoDb.Model.AttributeJson.WriteItem(json, "Item", item);
            if (e.WireMessage is { } message)
                json.WriteString(e.CapitalMessageField ? "Message" : "message", message);
            json.WriteEndObject();
        }
        await WriteAsync(http, e.StatusCode, buffer.WrittenMemory, default);
    }

    private static async Task WriteAsync(HttpResponse http, int status, ReadOnlyMemory<byte> body, CancellationToken cancel)
    {
        http.StatusCode = status;
        http.ContentType = DynamoDbApi.MediaType;
        http.ContentLength = body.Length;
        http.Headers["x-amz-crc32"] = System.IO.Hashing.Crc32.HashToUInt32(body.Span).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await http.Body.WriteAsync(body, cancel);
    }
}
