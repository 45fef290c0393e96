using System.Formats.Cbor;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// A GetRecords answer large enough to be streamed over HTTP/2 (StreamedAnswer: written into the response's pipe as
/// it is produced, no Content-Length) says exactly what the same answer says over HTTP/1.1, where it is buffered and
/// keeps its Content-Length; in JSON and in CBOR.
/// </summary>
public class StreamedAnswerTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const int Records = 3000; // about 800 KB of JSON: past the size from which an answer is streamed

    private async Task<(string Stream, string Iterator)> FilledShardAsync()
    {
        string stream = await server.CreateStreamAsync("streamed", 1);
        for (int batch = 0; batch < Records / 500; batch++)
        {
            var records = Enumerable.Range(batch * 500, 500).Select(i =>
                $$"""{"Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes($"record {i} " + new string((char)('a' + i % 26), 80)))}}","PartitionKey":"key \"{{i}}\" é"}""");
            var put = await server.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", records)}}]}""");
            Assert.Equal(0, put.GetProperty("FailedRecordCount").GetInt32());
        }
        var it = await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""");
        return (stream, it.GetProperty("ShardIterator").GetString()!);
    }

    private async Task<(HttpResponseMessage Response, long? ContentLength, byte[] Body)> GetRecordsAsync(Version version, string iterator, bool cbor)
    {
        using var http = new HttpClient { BaseAddress = server.Server.Url, Timeout = TimeSpan.FromSeconds(20) };
        byte[] body;
        if (cbor)
        {
            var w = new CborWriter();
            w.WriteStartMap(2);
            w.WriteTextString("ShardIterator");
            w.WriteTextString(iterator);
            w.WriteTextString("Limit");
            w.WriteInt32(10000);
            w.WriteEndMap();
            body = w.Encode();
        }
        else
        {
            body = Encoding.UTF8.GetBytes($$"""{"ShardIterator":"{{iterator}}","Limit":10000}""");
        }
        var request = server.Request("GetRecords", "", cbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1");
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new(cbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1");
        request.Version = version;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        long? contentLength = response.Content.Headers.ContentLength; // before the body is read (HttpClient would count it then)
        return (response, contentLength, await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>The records as (sequence number, data, partition key), whatever the encoding.</summary>
    private static List<(string Sequence, string Data, string Key)> RecordsOf(byte[] body, bool cbor)
    {
        var records = new List<(string, string, string)>();
        if (!cbor)
        {
            using var doc = JsonDocument.Parse(body);
            foreach (var r in doc.RootElement.GetProperty("Records").EnumerateArray())
                records.Add((r.GetProperty("SequenceNumber").GetString()!, Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64()), r.GetProperty("PartitionKey").GetString()!));
            Assert.True(doc.RootElement.TryGetProperty("NextShardIterator", out _));
            Assert.True(doc.RootElement.TryGetProperty("MillisBehindLatest", out _));
            return records;
        }
        var reader = new CborReader(body, CborConformanceMode.Lax);
        reader.ReadStartMap();
        var members = new List<string>();
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            string name = reader.ReadTextString();
            members.Add(name);
            if (name != "Records")
            {
                reader.SkipValue();
                continue;
            }
            reader.ReadStartArray();
            while (reader.PeekState() != CborReaderState.EndArray)
            {
                reader.ReadStartMap();
                string sequence = "", data = "", key = "";
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    switch (reader.ReadTextString())
                    {
                        case "SequenceNumber": sequence = reader.ReadTextString(); break;
                        case "Data": data = Encoding.UTF8.GetString(reader.ReadByteString()); break;
                        case "PartitionKey": key = reader.ReadTextString(); break;
                        default: reader.SkipValue(); break;
                    }
                }
                reader.ReadEndMap();
                records.Add((sequence, data, key));
            }
            reader.ReadEndArray();
        }
        reader.ReadEndMap();
        Assert.Equal(0, reader.BytesRemaining);
        Assert.Contains("NextShardIterator", members);
        Assert.Contains("MillisBehindLatest", members);
        return records;
    }

    [Theory(Timeout = 60000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_large_answer_over_http2_reads_as_it_does_over_http11(bool cbor)
    {
        var (_, iterator) = await FilledShardAsync();
        var (h1, h1Length, h1Body) = await GetRecordsAsync(HttpVersion.Version11, iterator, cbor);
        var (h2, h2Length, h2Body) = await GetRecordsAsync(HttpVersion.Version20, iterator, cbor);
        using (h1)
        using (h2)
        {
            Assert.Equal(HttpStatusCode.OK, h1.StatusCode);
            Assert.Equal(HttpStatusCode.OK, h2.StatusCode);
            Assert.Equal(HttpVersion.Version20, h2.Version);
            Assert.Equal(h1Body.Length, h1Length); // HTTP/1.1: buffered, with its length
            Assert.Null(h2Length); // HTTP/2: streamed, ended by its last frame
            Assert.Equal(h1.Content.Headers.ContentType!.MediaType, h2.Content.Headers.ContentType!.MediaType);
            Assert.True(h2.Headers.Contains("x-amzn-RequestId"));
        }
        var viaH1 = RecordsOf(h1Body, cbor);
        var viaH2 = RecordsOf(h2Body, cbor);
        Assert.Equal(Records, viaH1.Count);
        Assert.Equal(viaH1, viaH2);
        for (int i = 0; i < Records; i++)
        {
            Assert.StartsWith($"record {i} ", viaH2[i].Data, StringComparison.Ordinal);
            Assert.Equal($"key \"{i}\" é", viaH2[i].Key);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_small_answer_over_http2_keeps_its_content_length()
    {
        string stream = await server.CreateStreamAsync("small", 1);
        await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","Data":"AAEC","PartitionKey":"k"}""");
        var it = await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""");
        var (h2, length, body) = await GetRecordsAsync(HttpVersion.Version20, it.GetProperty("ShardIterator").GetString()!, cbor: false);
        using (h2)
        {
            Assert.Equal(HttpVersion.Version20, h2.Version);
            Assert.Equal(body.Length, length);
        }
        Assert.Single(RecordsOf(body, cbor: false));
    }
}
