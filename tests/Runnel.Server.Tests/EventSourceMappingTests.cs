using System.Net;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// An event-source mapping run by the server (issue 20): a stream's records reach the function's endpoint in batches of
/// at most BatchSize, each once, in order; after a restart the mapping goes on from where it was, giving nothing again.
/// </summary>
public sealed class EventSourceMappingTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-mappings-" + Guid.NewGuid().ToString("N"));
    private RestartableServer _host = null!;
    private WebhookReceiver _function = null!;

    public async Task InitializeAsync()
    {
        _function = await WebhookReceiver.StartAsync();
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false } });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        await _function.DisposeAsync();
        foreach (string dir in new[] { _dataDir, _dataDir + "-age" })
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } // not there, or still held
    }

    private async Task<JsonElement> LambdaAsync(HttpMethod method, string path, string body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, "/2015-03-31/" + path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await _host.Client.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private Task PutAsync(int from, int count) =>
        _host.Client.OkAsync("PutRecords", $$"""{"StreamName":"orders","Records":[{{string.Join(",", Enumerable.Range(from, count).Select(i =>
            $$"""{"PartitionKey":"k","Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes($"record-{i}"))}}"}"""))}}]}""");

    private List<string> Given() =>
        [.. _function.Received.SelectMany(post => JsonDocument.Parse(post.Body).RootElement.GetProperty("Records").EnumerateArray()
            .Select(r => Encoding.UTF8.GetString(Convert.FromBase64String(r.GetProperty("kinesis").GetProperty("data").GetString()!))))];

    private async Task WaitForRecordsAsync(int count)
    {
        for (int i = 0; i < 400 && Given().Count < count; i++)
            await Task.Delay(50);
        Assert.True(Given().Count >= count, $"the function got {Given().Count} records, not {count}");
    }

    [Fact(Timeout = 60_000)]
    public async Task Records_reach_the_function_once_each_in_order_across_a_restart()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"orders","ShardCount":1}""");
        await PutAsync(0, 10);
        await LambdaAsync(HttpMethod.Post, "functions", $$$"""{"FunctionName":"consumer","Role":"arn:aws:iam::000000000000:role/r","PackageType":"Image","Code":{"ImageUri":"{{{_function.Url}}}/"}}""", HttpStatusCode.Created);
        await LambdaAsync(HttpMethod.Post, "event-source-mappings/",
            """{"FunctionName":"consumer","EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/orders","StartingPosition":"TRIM_HORIZON","BatchSize":4}""", HttpStatusCode.Accepted);
        await WaitForRecordsAsync(10);
        Assert.All(_function.Received, post => Assert.True(JsonDocument.Parse(post.Body).RootElement.GetProperty("Records").GetArrayLength() <= 4));

        // The console's pipeline map shows the function reading the stream, caught up.
        var pipeline = JsonDocument.Parse(await _host.Client.Http.GetStringAsync("/console/api/pipeline")).RootElement;
        var reader = pipeline.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "orders")
            .GetProperty("consumers").EnumerateArray().Single(c => c.GetProperty("kind").GetString() == "function");
        Assert.Equal(("consumer", "Lambda", 0L, true), (reader.GetProperty("name").GetString(), reader.GetProperty("client").GetString(),
            reader.GetProperty("recordsBehind").GetInt64(), reader.GetProperty("reading").GetBoolean()));
        Assert.Equal("shardId-000000000000", Assert.Single(reader.GetProperty("shards").EnumerateArray()).GetProperty("shardId").GetString());

        await _host.StopAsync();
        await _host.StartAsync();
        await PutAsync(10, 5);
        await WaitForRecordsAsync(15);
        await Task.Delay(500); // anything given twice would have come by now
        Assert.Equal(Enumerable.Range(0, 15).Select(i => $"record-{i}"), Given());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_invocation_under_way_when_the_server_stops_is_let_finish_and_its_batch_is_not_given_again()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"orders","ShardCount":1}""");
        await LambdaAsync(HttpMethod.Post, "functions", $$$"""{"FunctionName":"slow","Role":"arn:aws:iam::000000000000:role/r","PackageType":"Image","Code":{"ImageUri":"{{{_function.Url}}}/"}}""", HttpStatusCode.Created);
        await LambdaAsync(HttpMethod.Post, "event-source-mappings/",
            """{"FunctionName":"slow","EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/orders","StartingPosition":"TRIM_HORIZON"}""", HttpStatusCode.Accepted);
        _function.Delay = TimeSpan.FromSeconds(1); // the function takes a second over each batch
        await PutAsync(0, 3);
        await WaitForRecordsAsync(3); // the function has the batch and has not answered yet
        await _host.StopAsync();
        _function.Delay = TimeSpan.Zero;
        await _host.StartAsync();
        await PutAsync(3, 2);
        await WaitForRecordsAsync(5);
        await Task.Delay(500); // anything given twice would have come by now
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"record-{i}"), Given());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_tumbling_windows_state_survives_a_restart()
    {
        // The function counts the window's records in its state; the final invocation reports the count.
        _function.Answer = body =>
        {
            var e = JsonDocument.Parse(body).RootElement;
            int count = e.GetProperty("state").TryGetProperty("count", out var c) ? c.GetInt32() : 0;
            return $$$"""{"state":{"count":{{{count + e.GetProperty("Records").GetArrayLength()}}}} }""";
        };
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"orders","ShardCount":1}""");
        await LambdaAsync(HttpMethod.Post, "functions", $$$"""{"FunctionName":"counter","Role":"arn:aws:iam::000000000000:role/r","PackageType":"Image","Code":{"ImageUri":"{{{_function.Url}}}/"}}""", HttpStatusCode.Created);
        await LambdaAsync(HttpMethod.Post, "event-source-mappings/",
            """{"FunctionName":"counter","EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/orders","StartingPosition":"TRIM_HORIZON","TumblingWindowInSeconds":900}""", HttpStatusCode.Accepted);
        await PutAsync(0, 3);
        await WaitForRecordsAsync(3);
        await _host.StopAsync();
        await _host.StartAsync();
        await PutAsync(3, 2);
        await WaitForRecordsAsync(5);
        var posts = _function.Received.Select(p => JsonDocument.Parse(p.Body).RootElement).ToList();
        var first = posts[0];
        var after = posts.Last(p => p.GetProperty("Records").GetArrayLength() > 0);
        Assert.Equal(2, after.GetProperty("Records").GetArrayLength());
        if (after.GetProperty("window").GetRawText() == first.GetProperty("window").GetRawText())
            Assert.Equal(3, after.GetProperty("state").GetProperty("count").GetInt32()); // carried across the restart
        else // the test ran across a window's end: that window was closed with its count, and the next began afresh
            Assert.Contains(posts, p => p.GetProperty("isFinalInvokeForWindow").GetBoolean() && p.GetProperty("state").GetProperty("count").GetInt32() == 3);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"record-{i}"), Given());
    }

    [Fact(Timeout = 60_000)]
    public async Task Records_older_than_the_maximum_age_are_given_up_to_the_on_failure_destination_unseen()
    {
        // A server whose clock the test moves: records stored now are two minutes old when the mapping starts.
        await _host.StopAsync();
        var clock = new ManualClock();
        await using var host = new RestartableServer(_dataDir + "-age", clock, new RunnelOptions { Limits = new() { Enabled = false } });
        await host.StartAsync();
        await using var failures = await WebhookReceiver.StartAsync();
        await host.Client.OkAsync("CreateStream", """{"StreamName":"old","ShardCount":1}""");
        await host.Client.OkAsync("PutRecords", """{"StreamName":"old","Records":[{"PartitionKey":"k","Data":"b2xk"},{"PartitionKey":"k","Data":"b2xkZXI="}]}""");
        clock.Advance(TimeSpan.FromMinutes(2));
        _host = host; // LambdaAsync sends to it
        await LambdaAsync(HttpMethod.Post, "functions", $$$"""{"FunctionName":"aged","Role":"arn:aws:iam::000000000000:role/r","PackageType":"Image","Code":{"ImageUri":"{{{_function.Url}}}/"}}""", HttpStatusCode.Created);
        await LambdaAsync(HttpMethod.Post, "event-source-mappings/", """
            {"FunctionName":"aged","EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/old","StartingPosition":"TRIM_HORIZON",
             "MaximumRecordAgeInSeconds":60,"DestinationConfig":{"OnFailure":{"Destination":"URL/failed"}}}
            """.Replace("URL", failures.Url, StringComparison.Ordinal), HttpStatusCode.Accepted);
        await failures.WaitForAsync(1);
        var record = JsonDocument.Parse(failures.Received.First().Body).RootElement;
        Assert.Equal("RecordAgeExceeded", record.GetProperty("requestContext").GetProperty("condition").GetString());
        Assert.Equal(2, record.GetProperty("KinesisBatchInfo").GetProperty("batchSize").GetInt32());
        Assert.Equal(0, record.GetProperty("requestContext").GetProperty("approximateInvokeCount").GetInt32());

        await host.Client.OkAsync("PutRecords", """{"StreamName":"old","Records":[{"PartitionKey":"k","Data":"bmV3"}]}""");
        await WaitForRecordsAsync(1);
        Assert.Equal(["new"], Given());
        _host = null!; // disposed by its using; DisposeAsync skips it
    }
}
