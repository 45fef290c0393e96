using System.Formats.Cbor;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server.CloudWatch;

/// <summary>
/// CloudWatch's API in Smithy RPC v2 CBOR (<c>POST /service/GraniteServiceVersion20100801/operation/NAME</c>, what the
/// Go and Swift SDKs send; docs/adr/0003-observability-facts.md, 4.4). The request's CBOR is read into the JSON 1.0
/// document the operations already read (timestamps, tag 1, as epoch seconds), and the JSON 1.0 answer is written
/// back as CBOR (members named <c>…Timestamp</c> or <c>Timestamps</c> as tag-1 epoch seconds, numbers with a fraction
/// as doubles). Errors as JSON 1.0's: <c>__type</c> and <c>message</c>, <c>x-amzn-query-error</c>, the model's status
/// in query mode. Every answer carries <c>smithy-protocol: rpc-v2-cbor</c>. Thread-safe.
/// </summary>
public sealed class CborEndpoint(CloudWatchOperations operations)
{
    /// <summary>Verifies signatures (<c>--auth sigv4</c>); null for none.</summary>
    public Auth.SigV4Verifier? Verifier { get; init; }

    private static readonly string[] Services = ["GraniteServiceVersion20100801", "com.amazonaws.cloudwatch.GraniteServiceVersion20100801"];

    /// <summary>Whether a request is CloudWatch's in RPC v2 CBOR: a POST to <c>…/service/SERVICE/operation/NAME</c>.</summary>
    public static bool Accepts(HttpRequest request) => HttpMethods.IsPost(request.Method) && Operation(request.Path.Value) is not null;

    /// <summary>The operation a path names (only the last four segments route), or null.</summary>
    private static string? Operation(string? path)
    {
        if (path is null)
            return null;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length >= 4 && segments[^4] == "service" && Services.Contains(segments[^3]) && segments[^2] == "operation" ? segments[^1] : null;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var http = context.Response;
        http.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString("D");
        http.Headers["smithy-protocol"] = "rpc-v2-cbor";
        bool queryMode = context.Request.Headers["x-amzn-query-mode"].ToString() == "true";
        string operation = Operation(context.Request.Path.Value)!;
        try
        {
            if (context.Request.Headers.ContainsKey("X-Amz-Target") || context.Request.Headers.ContainsKey("X-Amzn-Target"))
                throw new CloudWatchException("SerializationException", "An RPC v2 CBOR request must not carry X-Amz-Target.");
            Kinesis.Authentication.Check(context.Request);
            var credential = Verifier is null ? null : await Verifier.VerifyAsync(context.Request, context.RequestAborted);
            if (!operations.Has(operation))
                throw new CloudWatchException("UnknownOperationException", $"The operation {operation} is not served by Runnel's CloudWatch API.");
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            using var document = JsonDocument.Parse(ToJson(body.GetBuffer().AsMemory(0, (int)body.Length)));
            var result = operations.Run(operation, new JsonRequest(document.RootElement), credential);
            if (result is Alarms.NoResult)
            {
                http.StatusCode = 200;
                http.ContentLength = 0;
                return;
            }
            var json = new System.Buffers.ArrayBufferWriter<byte>(1024);
            using (var writer = new Utf8JsonWriter(json))
                JsonEndpoint.Write(writer, result);
            await WriteAsync(http, 200, ToCbor(json.WrittenMemory));
        }
        catch (CloudWatchException e)
        {
            http.Headers["x-amzn-query-error"] = $"{e.Code};Sender";
            var cbor = new CborWriter(CborConformanceMode.Lax);
            cbor.WriteStartMap(e.Message.Length > 0 ? 2 : 1);
            cbor.WriteTextString("__type");
            cbor.WriteTextString(JsonEndpoint.ErrorType(e.Code));
            if (e.Message.Length > 0)
            {
                cbor.WriteTextString("message");
                cbor.WriteTextString(e.Message);
            }
            cbor.WriteEndMap();
            await WriteAsync(http, queryMode ? e.Status : 400, cbor.Encode());
        }
        catch (Core.Errors.KinesisException e)
        {
            var cbor = new CborWriter(CborConformanceMode.Lax);
            cbor.WriteStartMap(2);
            cbor.WriteTextString("__type");
            cbor.WriteTextString(e.ErrorType);
            cbor.WriteTextString("message");
            cbor.WriteTextString(e.WireMessage ?? e.ErrorType);
            cbor.WriteEndMap();
            await WriteAsync(http, e.StatusCode, cbor.Encode());
        }
    }

    private static async Task WriteAsync(HttpResponse http, int status, byte[] body)
    {
        http.StatusCode = status;
        http.ContentType = "application/cbor";
        http.ContentLength = body.Length;
        await http.Body.WriteAsync(body);
    }

    /// <summary>A CBOR request body as JSON (an empty body is an empty structure); <see cref="CloudWatchException"/> when it is not CBOR of a structure.</summary>
    public static byte[] ToJson(ReadOnlyMemory<byte> cbor)
    {
        if (cbor.IsEmpty)
            return "{}"u8.ToArray();
        var json = new System.Buffers.ArrayBufferWriter<byte>(cbor.Length * 2);
        try
        {
            var reader = new CborReader(cbor, CborConformanceMode.Lax, allowMultipleRootLevelValues: false);
            using (var writer = new Utf8JsonWriter(json))
                Copy(reader, writer);
            if (reader.BytesRemaining > 0)
                throw new CborContentException("bytes after the request's value");
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or FormatException)
        {
            throw new CloudWatchException("SerializationException", $"The request body is not CBOR of a structure ({e.Message}).");
        }
        return json.WrittenSpan.ToArray();
    }

    private static void Copy(CborReader reader, Utf8JsonWriter json)
    {
        switch (reader.PeekState())
        {
            case CborReaderState.StartMap:
                reader.ReadStartMap();
                json.WriteStartObject();
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    json.WritePropertyName(reader.ReadTextString());
                    Copy(reader, json);
                }
                reader.ReadEndMap();
                json.WriteEndObject();
                break;
            case CborReaderState.StartArray:
                reader.ReadStartArray();
                json.WriteStartArray();
                while (reader.PeekState() != CborReaderState.EndArray)
                    Copy(reader, json);
                reader.ReadEndArray();
                json.WriteEndArray();
                break;
            case CborReaderState.Tag:
                reader.ReadTag(); // tag 1: epoch seconds, read as the number it tags
                Copy(reader, json);
                break;
            case CborReaderState.TextString:
                json.WriteStringValue(reader.ReadTextString());
                break;
            case CborReaderState.ByteString:
                json.WriteBase64StringValue(reader.ReadByteString());
                break;
            case CborReaderState.UnsignedInteger:
                json.WriteNumberValue(reader.ReadUInt64());
                break;
            case CborReaderState.NegativeInteger:
                json.WriteNumberValue(reader.ReadInt64());
                break;
            case CborReaderState.HalfPrecisionFloat or CborReaderState.SinglePrecisionFloat or CborReaderState.DoublePrecisionFloat:
                double value = reader.ReadDouble();
                if (!double.IsFinite(value))
                    throw new FormatException("a number that is not finite");
                json.WriteNumberValue(value);
                break;
            case CborReaderState.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case CborReaderState.Null:
                reader.ReadNull();
                json.WriteNullValue();
                break;
            case CborReaderState.SimpleValue:
                reader.ReadSimpleValue(); // undefined reads as null
                json.WriteNullValue();
                break;
            default:
                throw new FormatException($"unexpected {reader.PeekState()}");
        }
    }

    /// <summary>A JSON 1.0 answer as CBOR: timestamps (members named <c>…Timestamp</c>, <c>Timestamps</c>) as tag 1, fractional numbers as doubles.</summary>
    public static byte[] ToCbor(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        var cbor = new CborWriter(CborConformanceMode.Lax);
        Write(cbor, document.RootElement, timestamp: false);
        return cbor.Encode();
    }

    /// <summary>A double in 8 bytes: CborWriter shrinks lossless values to half floats, which RPC v2 CBOR says not to send.</summary>
    private static void WriteDouble(CborWriter cbor, double value)
    {
        Span<byte> encoded = stackalloc byte[9];
        encoded[0] = 0xfb;
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(encoded[1..], value);
        cbor.WriteEncodedValue(encoded);
    }

    private static void Write(CborWriter cbor, JsonElement value, bool timestamp)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                cbor.WriteStartMap(null);
                foreach (var member in value.EnumerateObject())
                {
                    cbor.WriteTextString(member.Name);
                    Write(cbor, member.Value, member.Name.EndsWith("Timestamp", StringComparison.Ordinal) || member.Name == "Timestamps");
                }
                cbor.WriteEndMap();
                break;
            case JsonValueKind.Array:
                cbor.WriteStartArray(null);
                foreach (var item in value.EnumerateArray())
                    Write(cbor, item, timestamp);
                cbor.WriteEndArray();
                break;
            case JsonValueKind.String:
                cbor.WriteTextString(value.GetString()!);
                break;
            case JsonValueKind.Number:
                if (timestamp)
                    cbor.WriteTag(CborTag.UnixTimeSeconds);
                string raw = value.GetRawText();
                if (raw.AsSpan().IndexOfAny(".eE") < 0 && value.TryGetInt64(out long integer))
                    cbor.WriteInt64(integer);
                else
                    WriteDouble(cbor, value.GetDouble());
                break;
            case JsonValueKind.True or JsonValueKind.False:
                cbor.WriteBoolean(value.GetBoolean());
                break;
            default:
                cbor.WriteNull();
                break;
        }
    }
}
