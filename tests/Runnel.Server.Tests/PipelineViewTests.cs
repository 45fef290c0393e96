using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// What Kinesis cannot show, checked against known traffic: who writes to a stream (by access key and User-Agent)
/// and how far behind each reader is, in records and milliseconds, at <c>GET /console/api/pipeline</c> and as
/// <c>runnel_*</c> series at <c>/metrics</c>; rates over a window of the server's clock.
/// </summary>
public sealed class PipelineViewTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-pipeline-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(Start);
    private readonly RestartableServer _host;

    public PipelineViewTests() => _host = new RestartableServer(_dataDir, _clock, new RunnelOptions { Limits = new() { Enabled = false } });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private async Task<JsonElement> CallAs(string accessKey, string userAgent, string operation, string body)
    {
        using var request = TestClient.Request(operation, body, signed: false);
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKey}/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        using var response = await _host.Client.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{operation}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Records(int count, string key) =>
        $$"""{"StreamName":"mapped","Records":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"{{key}}","Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes("r" + i))}}"}"""))}}]}""";

    [Fact]
    public async Task Writers_and_readers_show_with_their_rates_and_lag()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"mapped","ShardCount":1}""");
        _host.Server.Pipeline!.Rates.Note();
        _clock.Advance(TimeSpan.FromSeconds(10));
        await CallAs("AKIDWRITERA", "Boto3/1.26.27 Python/3.11", "PutRecords", Records(6, "a"));
        await CallAs("AKIDWRITERA", "Boto3/1.26.27 Python/3.11", "PutRecord", """{"StreamName":"mapped","PartitionKey":"a","Data":"eA=="}""");
        await CallAs("AKIDWRITERB", "aws-sdk-js/3.1178.0", "PutRecords", Records(3, "b"));

        var iterator = (await CallAs("AKIDREADER", "KCL/2.6", "GetShardIterator", """{"StreamName":"mapped","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString();
        _clock.Advance(TimeSpan.FromSeconds(30)); // the records are 30 s old when read
        var read = await CallAs("AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{iterator}}","Limit":4}""");
        Assert.Equal(4, read.GetProperty("Records").GetArrayLength());

        var pipeline = JsonDocument.Parse(await _host.Client.Http.GetStringAsync("/console/api/pipeline")).RootElement;
        var stream = Assert.Single(pipeline.GetProperty("streams").EnumerateArray());
        Assert.Equal(("mapped", "ACTIVE", 1), (stream.GetProperty("name").GetString(), stream.GetProperty("status").GetString(), stream.GetProperty("openShards").GetInt32()));
        // 10 records over the 40 s since the first snapshot.
        Assert.Equal(0.25, stream.GetProperty("incomingRecordsPerSecond").GetDouble());
        var producers = stream.GetProperty("producers").EnumerateArray().ToList();
        Assert.Equal(["AKIDWRITERA Boto3/1.26.27", "AKIDWRITERB aws-sdk-js/3.1178.0"], producers.Select(p => p.GetProperty("client").GetString()));
        Assert.Equal([7L, 3L], producers.Select(p => p.GetProperty("records").GetInt64()));
        Assert.Equal("aws-sdk-js/3.1178.0", producers[1].GetProperty("userAgent").GetString());
        var reader = Assert.Single(stream.GetProperty("consumers").EnumerateArray());
        Assert.Equal(("iterator", "AKIDREADER KCL/2.6"), (reader.GetProperty("kind").GetString(), reader.GetProperty("name").GetString()));
        Assert.Equal(6, reader.GetProperty("recordsBehind").GetInt64());
        Assert.Equal(30_000, reader.GetProperty("millisBehind").GetInt64());

        string metrics = await _host.Client.Http.GetStringAsync("/metrics");
        Assert.Matches("""runnel_reader_lag_records\{otel_scope_name="[^"]+",Kind="iterator",Reader="AKIDREADER KCL/2.6",ShardId="shardId-000000000000",StreamName="mapped"\} 6\n""", metrics);
        Assert.Matches("""runnel_writer_records_total\{otel_scope_name="[^"]+",StreamName="mapped",Writer="AKIDWRITERA Boto3/1.26.27"\} 7\n""", metrics);

        // Reading the rest: caught up, nothing behind.
        var rest = await CallAs("AKIDREADER", "KCL/2.6", "GetRecords", $$"""{"ShardIterator":"{{read.GetProperty("NextShardIterator").GetString()}}"}""");
        Assert.Equal(6, rest.GetProperty("Records").GetArrayLength());
        pipeline = JsonDocument.Parse(await _host.Client.Http.GetStringAsync("/console/api/pipeline")).RootElement;
        reader = Assert.Single(pipeline.GetProperty("streams")[0].GetProperty("consumers").EnumerateArray());
        Assert.Equal((0L, 0L), (reader.GetProperty("recordsBehind").GetInt64(), reader.GetProperty("millisBehind").GetInt64()));
    }
}
