using System.Formats.Cbor;
using System.Net;
using System.Net.Http.Headers;

namespace Runnel.Server.Tests;

/// <summary>
/// CBOR requests read into the same request model as JSON: blobs as byte strings straight into the records,
/// the same validation, and answers in CBOR.
/// </summary>
public class CborRequestTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string CborType = "application/x-amz-cbor-1.1";

    private async Task<(HttpStatusCode Status, CborReader Body)> SendAsync(string operation, CborWriter body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(body.Encode()) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(CborType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(CborType, response.Content.Headers.ContentType!.MediaType);
        return (response.StatusCode, new CborReader(await response.Content.ReadAsByteArrayAsync(), CborConformanceMode.Lax));
    }

    /// <summary>The members of a CBOR map whose values are text or byte strings or nested items (skipped).</summary>
    private static Dictionary<string, object?> Map(CborReader reader)
    {
        var members = new Dictionary<string, object?>(StringComparer.Ordinal);
        reader.ReadStartMap();
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            string name = reader.ReadTextString();
            members[name] = reader.PeekState() switch
            {
                CborReaderState.TextString => reader.ReadTextString(),
                CborReaderState.ByteString => reader.ReadByteString(),
                CborReaderState.StartArray => List(reader),
                _ => Skip(reader),
            };
        }
        reader.ReadEndMap();
        return members;
    }

    private static List<Dictionary<string, object?>> List(CborReader reader)
    {
        var items = new List<Dictionary<string, object?>>();
        reader.ReadStartArray();
        while (reader.PeekState() != CborReaderState.EndArray)
            items.Add(Map(reader));
        reader.ReadEndArray();
        return items;
    }

    private static object? Skip(CborReader reader)
    {
        reader.SkipValue();
        return null;
    }

    [Fact(Timeout = 30000)]
    public async Task Byte_strings_are_stored_as_sent_and_read_back_as_byte_strings()
    {
        string stream = await server.CreateStreamAsync("cbor-bytes", 1);
        byte[][] payloads = [[.. Enumerable.Range(0, 256).Select(i => (byte)i)], [], [0xFF, 0x00, 0xBF]];
        var put = new CborWriter();
        put.WriteStartMap(null);
        put.WriteTextString("StreamName"); put.WriteTextString(stream);
        put.WriteTextString("Records"); put.WriteStartArray(payloads.Length);
        foreach (byte[] payload in payloads)
        {
            put.WriteStartMap(2);
            put.WriteTextString("Data"); put.WriteByteString(payload);
            put.WriteTextString("PartitionKey"); put.WriteTextString("k");
            put.WriteEndMap();
        }
        put.WriteEndArray();
        put.WriteEndMap();
        var (status, _) = await SendAsync("PutRecords", put);
        Assert.Equal(HttpStatusCode.OK, status);

        var iterator = await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""");
        var get = new CborWriter();
        get.WriteStartMap(1);
        get.WriteTextString("ShardIterator"); get.WriteTextString(iterator.GetProperty("ShardIterator").GetString()!);
        get.WriteEndMap();
        var (getStatus, body) = await SendAsync("GetRecords", get);
        Assert.Equal(HttpStatusCode.OK, getStatus);
        var records = (List<Dictionary<string, object?>>)Map(body)["Records"]!;
        Assert.Equal(payloads, records.Select(r => (byte[])r["Data"]!));
    }

    [Fact(Timeout = 20000)]
    public async Task A_byte_string_where_text_belongs_is_a_serialization_exception()
    {
        var body = new CborWriter();
        body.WriteStartMap(null);
        body.WriteTextString("StreamName"); body.WriteByteString("orders"u8);
        body.WriteEndMap();
        var (status, answer) = await SendAsync("DescribeStreamSummary", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = Map(answer);
        Assert.Equal("SerializationException", error["__type"]);
        Assert.Equal("class java.nio.HeapByteBuffer can not be converted to an String", error.GetValueOrDefault("message") ?? error.GetValueOrDefault("Message"));
    }

    [Fact(Timeout = 20000)]
    public async Task Validation_reads_cbor_as_it_reads_json()
    {
        var body = new CborWriter();
        body.WriteStartMap(null);
        body.WriteTextString("StreamName"); body.WriteTextString("");
        body.WriteTextString("PartitionKey"); body.WriteTextString("k");
        body.WriteTextString("Data"); body.WriteByteString(new byte[1_048_577]);
        body.WriteEndMap();
        var (status, answer) = await SendAsync("PutRecord", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        string json = await server.ErrorMessageAsync("PutRecord", $$"""{"StreamName":"","PartitionKey":"k","Data":"{{Convert.ToBase64String(new byte[1_048_577])}}"}""", "ValidationException");
        var error = Map(answer);
        Assert.Equal("ValidationException", error["__type"]);
        Assert.Equal(json, error.GetValueOrDefault("message") ?? error.GetValueOrDefault("Message"));
        Assert.StartsWith("2 validation errors detected: ", json, StringComparison.Ordinal);
    }
}
