using System.Net;
using System.Net.Http.Headers;
using Runnel.Client.Internal.Wire;

namespace Runnel.Client.Internal.Http;

/// <summary>What an error answer says, whichever encoding it came in: the code (<c>__type</c> without its namespace,
/// else the <c>x-amzn-ErrorType</c> header), the message (<c>message</c> or <c>Message</c>). Thread-safe (stateless).</summary>
internal static class ServiceErrors
{
    public static (string Code, string Message) Read(HttpStatusCode status, HttpResponseHeaders headers, string? contentType, byte[] body)
    {
        string? code = null, message = null;
        try
        {
            var node = contentType == CborRequestWriter.MediaType ? CborAnswerReader.Parse(body) : JsonAnswerReader.Parse(body);
            code = node.String("__type") ?? node.String("code");
            message = node.String("message") ?? node.String("Message");
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or System.Formats.Cbor.CborContentException or InvalidOperationException)
        {
            // Not a JSON or CBOR error body (a proxy's page, an XML error): the header and the status say what they can.
        }
        if (code is null && headers.TryGetValues("x-amzn-ErrorType", out var types))
            code = types.First().Split(':')[0];
        code = StripNamespace(code ?? (int)status switch
        {
            >= 500 => "InternalFailure",
            413 => "RequestEntityTooLarge",
            _ => "HttpStatus" + ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        return (code, message ?? $"The service answered HTTP {(int)status} {status} with the error {code}.");
    }

    /// <summary>"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" → "ResourceNotFoundException".</summary>
    public static string StripNamespace(string code)
    {
        int hash = code.LastIndexOf('#');
        return hash < 0 ? code : code[(hash + 1)..];
    }

    public static string? RequestId(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.First()
        : response.Headers.TryGetValues("x-amz-request-id", out var other) ? other.First() : null;
}
