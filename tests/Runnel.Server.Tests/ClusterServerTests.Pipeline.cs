using System.Text.Json;

namespace Runnel.Server.Tests;

public sealed partial class ClusterServerTests
{
    /// <summary>A call through <paramref name="server"/> signed (not checked) with <paramref name="accessKey"/>, from <paramref name="userAgent"/>.</summary>
    private static async Task<JsonElement> CallAsAsync(RunnelServer server, string accessKey, string userAgent, string operation, string body)
    {
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(20) };
        using var request = TestClient.Request(operation, body, signed: false);
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKey}/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        using var response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{operation}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> PipelineStreamAsync(TestClient client, string stream) =>
        JsonDocument.Parse(await client.Http.GetStringAsync("/console/api/pipeline")).RootElement
            .GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == stream).Clone();

    /// <summary>The stream's view once <paramref name="ready"/> holds (the other node's publish reaches this one through
    /// the metadata bucket's watch, a moment later), or as it is after 10 s.</summary>
    private static async Task<JsonElement> PipelineStreamWhenAsync(TestClient client, string stream, Func<JsonElement, bool> ready)
    {
        var view = await PipelineStreamAsync(client, stream);
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !ready(view) && DateTime.UtcNow < deadline; view = await PipelineStreamAsync(client, stream))
            await Task.Delay(50);
        return view;
    }

    /// <summary>
    /// The pipeline view is the cluster's: each node publishes what it served, and a view through either node merges
    /// the other's. A reader served only by node B is listed by node A with its true lag against the shard's tip (not
    /// "behind since it registered", nor missing), 0 once it caught up and growing as records arrive; a producer that
    /// wrote only through A is listed by B with its records. A client that read through both is one reader, as far as
    /// the furthest of its positions.
    /// </summary>
    [Fact(Timeout = 120000)]
    public async Task The_pipeline_view_of_each_node_shows_the_readers_and_writers_served_by_the_others()
    {
        var (a, aClient, _) = await NodeAsync();
        var (b, bClient, _) = await NodeAsync();
        try
        {
            string stream = ServerFixture.UniqueName("pipeline-cluster");
            await aClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            for (int i = 0; i < 50 && (await bClient.CallAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).Status != System.Net.HttpStatusCode.OK; i++)
                await Task.Delay(100);
            string Records(int count) => $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"{{B64("r" + i)}}"}"""))}}]}""";
            await CallAsAsync(a, "AKIDPRODUCER", "Boto3/1.26.27 Python/3.11", "PutRecords", Records(5));

            // The reader reads everything through b.
            string iterator = (await CallAsAsync(b, "AKIDREADER", "KCL/2.6", "GetShardIterator",
                $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
            int read = 0;
            for (int i = 0; i < 50 && read < 5; i++)
            {
                var page = await CallAsAsync(b, "AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""");
                read += page.GetProperty("Records").GetArrayLength();
                iterator = page.GetProperty("NextShardIterator").GetString()!;
            }
            Assert.Equal(5, read);
            // The same client also read the first two through a: one reader, measured from the furthest of its positions.
            string early = (await CallAsAsync(a, "AKIDREADER", "KCL/2.6", "GetShardIterator",
                $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
            Assert.Equal(2, (await CallAsAsync(a, "AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{early}}","Limit":2}""")).GetProperty("Records").GetArrayLength());
            b.Pipeline!.Cluster!.Publish();

            var reader = Assert.Single((await PipelineStreamWhenAsync(aClient, stream, view =>
                view.GetProperty("consumers").EnumerateArray().Any(c => c.GetProperty("recordsBehind").GetInt64() == 0))).GetProperty("consumers").EnumerateArray());
            Assert.Equal(("iterator", "AKIDREADER KCL/2.6", true), (reader.GetProperty("kind").GetString(), reader.GetProperty("name").GetString(), reader.GetProperty("reading").GetBoolean()));
            Assert.Equal((0L, 0L), (reader.GetProperty("recordsBehind").GetInt64(), reader.GetProperty("millisBehind").GetInt64()));

            // Three more records, not read: a measures the reader b serves as 3 behind.
            await CallAsAsync(a, "AKIDPRODUCER", "Boto3/1.26.27 Python/3.11", "PutRecords", Records(3));
            reader = Assert.Single((await PipelineStreamAsync(aClient, stream)).GetProperty("consumers").EnumerateArray());
            Assert.Equal(3L, reader.GetProperty("recordsBehind").GetInt64());

            // b lists the producer that wrote only through a.
            a.Pipeline!.Cluster!.Publish();
            var producer = Assert.Single((await PipelineStreamWhenAsync(bClient, stream, view =>
                view.GetProperty("producers").EnumerateArray().Any(p => p.GetProperty("records").GetInt64() == 8))).GetProperty("producers").EnumerateArray());
            Assert.Equal(("AKIDPRODUCER Boto3/1.26.27", 8L), (producer.GetProperty("client").GetString(), producer.GetProperty("records").GetInt64()));
        }
        finally
        {
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }
}
