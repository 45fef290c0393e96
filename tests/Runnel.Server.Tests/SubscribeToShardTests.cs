using System.Net;
using System.Text.Json;
using Runnel.Core.Throughput;

namespace Runnel.Server.Tests;

/// <summary>
/// SubscribeToShard end to end against an in-process server, read as an SDK reads it (EventStreamSubscriber):
/// the initial-response first, records pushed as they are written, every starting position, resuming from
/// ContinuationSequenceNumber, the end of a closed shard, takeover, the lifetime, errors before the stream.
/// </summary>
public sealed class SubscribeToShardTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runnel-efo-").FullName;
    private readonly ManualClock _clock = new();
    private RunnelServer? _server;
    private TestClient? _client;
    private HttpClient? _h2;

    private async Task<TestClient> StartAsync(TimeSpan? lifetime = null, ThroughputLimits? limits = null)
    {
        _server = RunnelServer.Create(new RunnelOptions
        {
            Port = 0,
            DataDir = _dir,
            Limits = limits ?? ThroughputLimits.Off,
            SubscriptionLifetime = lifetime ?? TimeSpan.FromMinutes(5),
        }, _ => { }, _clock);
        await _server.StartAsync();
        _h2 = new HttpClient { BaseAddress = _server.Url, Timeout = Timeout.InfiniteTimeSpan };
        return _client = new TestClient(_server.Url);
    }

    public async ValueTask DisposeAsync()
    {
        _h2?.Dispose();
        _client?.Dispose();
        if (_server is not null)
            await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A stream with <paramref name="shards"/> shards and one ACTIVE consumer: (stream ARN, consumer ARN).</summary>
    private async Task<(string StreamArn, string ConsumerArn)> StreamWithConsumerAsync(string name, int shards = 1)
    {
        await _client!.OkAsync("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":{{shards}}}""");
        string streamArn = (await _client.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{name}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
        var consumer = await _client.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{streamArn}}","ConsumerName":"app"}""");
        return (streamArn, consumer.GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!);
    }

    private async Task<string> PutAsync(string stream, string data, string key = "k")
    {
        var put = await _client!.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"{{key}}","Data":"{{ServerFixture.B64(data)}}"}""");
        return put.GetProperty("SequenceNumber").GetString()!;
    }

    private static async Task ExpectInitialResponseAsync(EventStreamSubscriber s)
    {
        Assert.Equal(HttpStatusCode.OK, s.Status);
        Assert.Equal("application/vnd.amazon.eventstream", s.ContentType);
        var first = await s.NextAsync();
        Assert.NotNull(first);
        Assert.Equal("event", first!.Header(":message-type"));
        Assert.Equal("initial-response", first.Header(":event-type"));
        Assert.Equal("{}", System.Text.Encoding.UTF8.GetString(first.Payload.Span));
    }

    [Theory(Timeout = 60000)]
    [InlineData("2.0")]
    [InlineData("1.1")]
    public async Task Records_written_after_subscribing_are_pushed_in_order(string version)
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("push");
        await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"LATEST"}""", Version.Parse(version));
        await ExpectInitialResponseAsync(s);
        for (int i = 0; i < 20; i++)
            await PutAsync("push", $"r{i}");
        var (data, last) = await s.RecordsAsync(20);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"r{i}"), data);
        var record = last.GetProperty("Records").EnumerateArray().Last();
        Assert.Equal(record.GetProperty("SequenceNumber").GetString(), last.GetProperty("ContinuationSequenceNumber").GetString());
        Assert.Equal(0, last.GetProperty("MillisBehindLatest").GetInt64());
        Assert.Equal("k", record.GetProperty("PartitionKey").GetString());
        Assert.True(record.GetProperty("ApproximateArrivalTimestamp").GetDouble() > 1e9);
    }

    [Fact(Timeout = 60000)]
    public async Task A_consumers_lag_shows_in_the_pipeline_view()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("lagged");
        for (int i = 0; i < 5; i++)
            await PutAsync("lagged", $"r{i}");
        await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"TRIM_HORIZON"}""");
        await ExpectInitialResponseAsync(s);
        var (data, _) = await s.RecordsAsync(5);
        Assert.Equal(5, data.Count);
        var pipeline = System.Text.Json.JsonDocument.Parse(await _client!.Http.GetStringAsync("/console/api/pipeline")).RootElement;
        var stream = Assert.Single(pipeline.GetProperty("streams").EnumerateArray(), x => x.GetProperty("name").GetString() == "lagged");
        var reader = Assert.Single(stream.GetProperty("consumers").EnumerateArray());
        Assert.Equal(("consumer", "app"), (reader.GetProperty("kind").GetString(), reader.GetProperty("name").GetString()));
        Assert.Equal((0L, 0L), (reader.GetProperty("recordsBehind").GetInt64(), reader.GetProperty("millisBehind").GetInt64()));
        Assert.Equal("shardId-000000000000", Assert.Single(reader.GetProperty("shards").EnumerateArray()).GetProperty("shardId").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task Every_starting_position_starts_where_it_says()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("positions");
        var sequences = new List<string>();
        for (int i = 0; i < 5; i++)
            sequences.Add(await PutAsync("positions", $"p{i}"));
        async Task<List<string>> FirstRecords(string position, int expected)
        {
            await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", position);
            await ExpectInitialResponseAsync(s);
            var (data, _) = await s.RecordsAsync(expected);
            _clock.Advance(TimeSpan.FromSeconds(6)); // the next subscription of this consumer and shard may take over
            return data;
        }
        Assert.Equal(["p0", "p1", "p2", "p3", "p4"], await FirstRecords("""{"Type":"TRIM_HORIZON"}""", 5));
        Assert.Equal(["p2", "p3", "p4"], await FirstRecords($$"""{"Type":"AT_SEQUENCE_NUMBER","SequenceNumber":"{{sequences[2]}}"}""", 3));
        Assert.Equal(["p3", "p4"], await FirstRecords($$"""{"Type":"AFTER_SEQUENCE_NUMBER","SequenceNumber":"{{sequences[2]}}"}""", 2));
        long past = _clock.GetUtcNow().AddMinutes(-1).ToUnixTimeSeconds();
        Assert.Equal(["p0", "p1", "p2", "p3", "p4"], await FirstRecords($$"""{"Type":"AT_TIMESTAMP","Timestamp":{{past}}}""", 5));
    }

    [Fact(Timeout = 60000)]
    public async Task Resubscribing_after_the_continuation_loses_and_repeats_nothing()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("resume");
        string continuation;
        var seen = new List<string>();
        await using (var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"TRIM_HORIZON"}"""))
        {
            await ExpectInitialResponseAsync(s);
            for (int i = 0; i < 10; i++)
                await PutAsync("resume", $"x{i}");
            var (data, last) = await s.RecordsAsync(10);
            seen.AddRange(data);
            continuation = last.GetProperty("ContinuationSequenceNumber").GetString()!;
        }
        for (int i = 10; i < 15; i++)
            await PutAsync("resume", $"x{i}"); // written while nobody is subscribed
        _clock.Advance(TimeSpan.FromSeconds(6));
        await using (var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", $$"""{"Type":"AFTER_SEQUENCE_NUMBER","SequenceNumber":"{{continuation}}"}"""))
        {
            await ExpectInitialResponseAsync(s);
            seen.AddRange((await s.RecordsAsync(5)).Data);
        }
        Assert.Equal(Enumerable.Range(0, 15).Select(i => $"x{i}"), seen);
    }

    [Fact(Timeout = 60000)]
    public async Task A_split_ends_the_subscription_with_child_shards_and_the_children_are_read_after()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("split");
        await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"TRIM_HORIZON"}""");
        await ExpectInitialResponseAsync(s);
        await PutAsync("split", "before");
        Assert.Equal(["before"], (await s.RecordsAsync(1)).Data);
        await _client!.OkAsync("SplitShard", """{"StreamName":"split","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"170141183460469231731687303715884105728"}""");
        var last = await s.ShardEndEventAsync();
        Assert.False(last.TryGetProperty("ContinuationSequenceNumber", out var c) && c.ValueKind != JsonValueKind.Null);
        Assert.Equal(["shardId-000000000001", "shardId-000000000002"], last.GetProperty("ChildShards").EnumerateArray().Select(x => x.GetProperty("ShardId").GetString()));
        Assert.All(last.GetProperty("ChildShards").EnumerateArray(), x => Assert.Equal(["shardId-000000000000"], x.GetProperty("ParentShards").EnumerateArray().Select(p => p.GetString())));
        Assert.Null(await s.NextAsync()); // then the stream ends

        string after = await PutAsync("split", "after", key: "k");
        string child = after[11..23] == "000000000001" ? "shardId-000000000001" : "shardId-000000000002";
        await using var c1 = await EventStreamSubscriber.StartAsync(_h2!, consumer, child, """{"Type":"TRIM_HORIZON"}""");
        await ExpectInitialResponseAsync(c1);
        Assert.Equal(["after"], (await c1.RecordsAsync(1)).Data);
    }

    [Fact(Timeout = 60000)]
    public async Task A_merge_ends_both_parents_subscriptions_with_the_child_which_is_read_after()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("merge", shards: 2);
        await using var first = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"TRIM_HORIZON"}""");
        await using var second = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000001", """{"Type":"TRIM_HORIZON"}""");
        await ExpectInitialResponseAsync(first);
        await ExpectInitialResponseAsync(second);
        await _client!.OkAsync("MergeShards", """{"StreamName":"merge","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}""");
        foreach (var s in new[] { first, second })
        {
            var last = await s.ShardEndEventAsync();
            var child = Assert.Single(last.GetProperty("ChildShards").EnumerateArray());
            Assert.Equal("shardId-000000000002", child.GetProperty("ShardId").GetString());
            Assert.Equal(["shardId-000000000000", "shardId-000000000001"], child.GetProperty("ParentShards").EnumerateArray().Select(p => p.GetString()));
            Assert.Null(await s.NextAsync());
        }
        await PutAsync("merge", "merged");
        await using var c = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000002", """{"Type":"TRIM_HORIZON"}""");
        await ExpectInitialResponseAsync(c);
        Assert.Equal(["merged"], (await c.RecordsAsync(1)).Data);
    }

    [Fact(Timeout = 60000)]
    public async Task A_second_subscription_is_refused_within_5_seconds_and_takes_over_after()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("takeover");
        await using var first = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"LATEST"}""");
        await ExpectInitialResponseAsync(first);

        await using (var refused = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"LATEST"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Equal("ResourceInUseException", refused.Error.GetProperty("__type").GetString());
        }

        _clock.Advance(TimeSpan.FromSeconds(5));
        await using var second = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"LATEST"}""");
        await ExpectInitialResponseAsync(second);
        var ended = await first.NextAsync();
        Assert.Equal("exception", ended!.Header(":message-type"));
        Assert.Equal("ResourceInUseException", ended.Header(":exception-type"));
        Assert.Contains("shardId-000000000000", JsonDocument.Parse(ended.Payload).RootElement.GetProperty("message").GetString());
        Assert.Null(await first.NextAsync());

        await PutAsync("takeover", "to the new one");
        Assert.Equal(["to the new one"], (await second.RecordsAsync(1)).Data);
    }

    [Fact(Timeout = 60000)]
    public async Task Deleting_the_stream_ends_its_subscriptions_with_an_exception_event_and_leaves_no_files()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("gone");
        long id = _server!.Streams.Get("gone").Id;
        await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"LATEST"}""");
        await ExpectInitialResponseAsync(s);
        await _client!.OkAsync("DeleteStream", """{"StreamName":"gone","EnforceConsumerDeletion":true}""");
        var ended = await s.NextAsync();
        Assert.Equal("exception", ended!.Header(":message-type"));
        Assert.Equal("ResourceNotFoundException", ended.Header(":exception-type"));
        Assert.Null(await s.NextAsync());
        // The woken subscription did not open the deleted shard's log again (which would leave its directory behind).
        Assert.False(Directory.Exists(Path.Combine(_dir, "streams", id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Fact(Timeout = 60000)]
    public async Task A_subscription_ends_cleanly_at_its_lifetime()
    {
        await StartAsync(lifetime: TimeSpan.FromSeconds(1));
        var (_, consumer) = await StreamWithConsumerAsync("lifetime");
        await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"LATEST"}""");
        await ExpectInitialResponseAsync(s);
        Assert.Null(await s.NextAsync(TimeSpan.FromSeconds(15))); // ended, with no exception event
        Assert.Equal(0, _server!.Streams.Subscriptions.Count);
    }

    [Fact(Timeout = 60000)]
    public async Task Refusals_before_the_stream_are_ordinary_error_responses()
    {
        await StartAsync();
        var (streamArn, consumer) = await StreamWithConsumerAsync("errors");
        async Task Expect(string consumerArn, string shard, string position, string type, string? message = null)
        {
            await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumerArn, shard, position);
            Assert.Equal(HttpStatusCode.BadRequest, s.Status);
            Assert.Equal(type, s.Error.GetProperty("__type").GetString());
            if (message is not null)
                Assert.Equal(message, s.Error.GetProperty("message").GetString());
        }
        await Expect(streamArn + "/consumer/nobody:1700000000", "shardId-000000000000", """{"Type":"LATEST"}""", "ResourceNotFoundException");
        await Expect(consumer, "shardId-000000000007", """{"Type":"LATEST"}""", "ResourceNotFoundException",
            "Shard shardId-000000000007 in stream errors under account 000000000000 does not exist");
        await Expect(consumer, "shardId-000000000000", """{"Type":"AT_SEQUENCE_NUMBER"}""", "InvalidArgumentException");
        await Expect(consumer, "shardId-000000000000", """{"Type":"SOMEWHERE"}""", "ValidationException");
        await Expect(consumer, "shardId-000000000000", """{"Type":"AT_TIMESTAMP"}""", "InvalidArgumentException");
    }

    [Fact(Timeout = 60000)]
    public async Task An_idle_subscription_gets_an_empty_event_that_keeps_the_position()
    {
        await StartAsync();
        var (_, consumer) = await StreamWithConsumerAsync("idle");
        string sequence = await PutAsync("idle", "old");
        await using var s = await EventStreamSubscriber.StartAsync(_h2!, consumer, "shardId-000000000000", """{"Type":"LATEST"}""");
        await ExpectInitialResponseAsync(s);
        var heartbeat = await s.NextEventAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, heartbeat.GetProperty("Records").GetArrayLength());
        Assert.Equal(sequence, heartbeat.GetProperty("ContinuationSequenceNumber").GetString());
    }
}

/// <summary>SubscribeToShard's throughput, encodings and flow control.</summary>
public sealed class SubscribeToShardFlowTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runnel-efo-flow-").FullName;
    private readonly ManualClock _clock = new();
    private RunnelServer? _server;
    private TestClient? _client;

    private async Task<TestClient> StartAsync(ThroughputLimits limits)
    {
        _server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = _dir, Limits = limits }, _ => { }, _clock);
        await _server.StartAsync();
        return _client = new TestClient(_server.Url);
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
            await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> ConsumerAsync(string name)
    {
        await _client!.OkAsync("CreateStream", $$"""{"StreamName":"{{name}}","ShardCount":1}""");
        string streamArn = (await _client.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{name}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
        return (await _client.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{streamArn}}","ConsumerName":"app"}""")).GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
    }

    private Task PutManyAsync(string stream, int count, int size, string tag)
    {
        string data = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(tag.PadRight(size, '.')));
        string records = string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"{{data}}"}"""));
        return _client!.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{{records}}]}""");
    }

    [Fact(Timeout = 60000)]
    public async Task Each_consumer_reads_at_its_own_rate_apart_from_GetRecords_readers()
    {
        await StartAsync(new ThroughputLimits { ConsumerReadBytesPerSecond = 10_000 });
        string consumer = await ConsumerAsync("rate");
        await PutManyAsync("rate", 10, 1000, "first");
        using var h2 = new HttpClient { BaseAddress = _server!.Url };
        await using var s = await EventStreamSubscriber.StartAsync(h2, consumer, "shardId-000000000000", """{"Type":"TRIM_HORIZON"}""");
        Assert.Equal("initial-response", (await s.NextAsync())!.Header(":event-type"));
        Assert.Equal(10, (await s.RecordsAsync(10)).Data.Count); // 10 KB: the consumer's budget for one second

        await PutManyAsync("rate", 10, 1000, "second");
        // The clock stands still: the consumer's debt is not repaid, so nothing more is pushed...
        await Assert.ThrowsAsync<TimeoutException>(() => s.NextEventAsync(TimeSpan.FromSeconds(1)));
        // ...while a GetRecords reader of the same shard is not held back by it.
        string iterator = (await _client!.OkAsync("GetShardIterator", """{"StreamName":"rate","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        Assert.Equal(20, (await _client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records").GetArrayLength());
        _clock.Advance(TimeSpan.FromSeconds(1.1));
        var (data, _) = await s.RecordsAsync(10);
        Assert.All(data, d => Assert.StartsWith("second", d));
    }

    [Fact(Timeout = 60000)]
    public async Task With_limits_on_a_consumer_may_subscribe_to_a_shard_once_a_second()
    {
        await StartAsync(new ThroughputLimits());
        string consumer = await ConsumerAsync("calls");
        using var h2 = new HttpClient { BaseAddress = _server!.Url };
        const string Shard = "shardId-000000000000", Latest = """{"Type":"LATEST"}""";
        await using var first = await EventStreamSubscriber.StartAsync(h2, consumer, Shard, Latest);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        await using (var again = await EventStreamSubscriber.StartAsync(h2, consumer, Shard, Latest))
            Assert.Equal("LimitExceededException", again.Error.GetProperty("__type").GetString());
        _clock.Advance(TimeSpan.FromSeconds(2));
        await using (var early = await EventStreamSubscriber.StartAsync(h2, consumer, Shard, Latest))
            Assert.Equal("ResourceInUseException", early.Error.GetProperty("__type").GetString()); // the call rate allows it, the takeover rule not yet
        _clock.Advance(TimeSpan.FromSeconds(4));
        await using var takeover = await EventStreamSubscriber.StartAsync(h2, consumer, Shard, Latest);
        Assert.Equal(HttpStatusCode.OK, takeover.Status);
    }

    [Fact(Timeout = 60000)]
    public async Task A_cbor_request_gets_cbor_events()
    {
        await StartAsync(ThroughputLimits.Off);
        string consumer = await ConsumerAsync("cbor");
        var body = new System.Formats.Cbor.CborWriter();
        body.WriteStartMap(null);
        body.WriteTextString("ConsumerARN");
        body.WriteTextString(consumer);
        body.WriteTextString("ShardId");
        body.WriteTextString("shardId-000000000000");
        body.WriteTextString("StartingPosition");
        body.WriteStartMap(null);
        body.WriteTextString("Type");
        body.WriteTextString("TRIM_HORIZON");
        body.WriteEndMap();
        body.WriteEndMap();
        await PutManyAsync("cbor", 3, 10, "c");
        using var h2 = new HttpClient { BaseAddress = _server!.Url };
        using var request = TestClient.Request("SubscribeToShard", "", "application/x-amz-cbor-1.1");
        request.Content = new ByteArrayContent(body.Encode());
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-cbor-1.1");
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var response = await h2.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1 << 16];
        int filled = 0;
        var messages = new List<Runnel.Protocol.EventStream.EventStreamMessage>();
        while (messages.Count < 2)
        {
            filled += await stream.ReadAsync(buffer.AsMemory(filled));
            int start = 0;
            while (Runnel.Protocol.EventStream.EventStreamCodec.TryRead(buffer.AsSpan(start, filled - start), out var m, out int used))
            {
                messages.Add(m!);
                start += used;
            }
            buffer.AsSpan(start, filled - start).CopyTo(buffer);
            filled -= start;
        }
        Assert.All(messages, m => Assert.Equal("application/x-amz-cbor-1.1", m.Header(":content-type")));
        var reader = new System.Formats.Cbor.CborReader(messages[1].Payload);
        int? entries = reader.ReadStartMap();
        var records = new List<byte[]>();
        while (reader.PeekState() != System.Formats.Cbor.CborReaderState.EndMap)
        {
            if (reader.ReadTextString() != "Records")
            {
                reader.SkipValue();
                continue;
            }
            reader.ReadStartArray();
            while (reader.PeekState() != System.Formats.Cbor.CborReaderState.EndArray)
            {
                reader.ReadStartMap();
                while (reader.PeekState() != System.Formats.Cbor.CborReaderState.EndMap)
                {
                    if (reader.ReadTextString() == "Data")
                        records.Add(reader.ReadByteString()); // a byte string, not base64, as CBOR clients expect
                    else
                        reader.SkipValue();
                }
                reader.ReadEndMap();
            }
            reader.ReadEndArray();
        }
        Assert.Null(entries);
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal("c.........", System.Text.Encoding.ASCII.GetString(r)));
    }

    [Fact(Timeout = 120000)]
    public async Task A_subscriber_that_stops_reading_holds_the_server_to_one_event_and_resumes_from_the_log()
    {
        await StartAsync(ThroughputLimits.Off);
        string consumer = await ConsumerAsync("stall");
        // The client's HTTP/2 window stays at 64 KiB while the test does not read.
        using var handler = new SocketsHttpHandler { InitialHttp2StreamWindowSize = 65535 };
        using var h2 = new HttpClient(handler) { BaseAddress = _server!.Url, Timeout = Timeout.InfiniteTimeSpan };
        using var request = TestClient.Request("SubscribeToShard", $$$"""{"ConsumerARN":"{{{consumer}}}","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}""");
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var response = await h2.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        const int Batches = 40, PerBatch = 100, Size = 10_000; // 40 MB written while nobody reads
        for (int b = 0; b < Batches; b++)
            await PutManyAsync("stall", PerBatch, Size, $"b{b:D2}");
        var info = _server.Streams.Get("stall");
        var counters = _server.Streams.Shard(info, info.Shards[0]).Throughput.Counters;
        // What the server read from the log for this subscriber: what the client's window took, plus the one
        // event the server is waiting to write; the other 30-odd MB stay in the log, not in memory.
        Assert.True(counters.BytesOut < 4 * 1024 * 1024, $"the server read {counters.BytesOut} bytes ahead of a stalled subscriber");

        // Reading again, the subscriber gets every record, in order, from where it stopped.
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1 << 20];
        int filled = 0, received = 0;
        string? last = null;
        while (received < Batches * PerBatch)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, buffer.Length * 2);
            int n = await stream.ReadAsync(buffer.AsMemory(filled));
            Assert.NotEqual(0, n);
            filled += n;
            int start = 0;
            while (Runnel.Protocol.EventStream.EventStreamCodec.TryRead(buffer.AsSpan(start, filled - start), out var m, out int used))
            {
                start += used;
                if (m!.Header(":event-type") != "SubscribeToShardEvent")
                    continue;
                foreach (var r in JsonDocument.Parse(m.Payload).RootElement.GetProperty("Records").EnumerateArray())
                {
                    string data = System.Text.Encoding.ASCII.GetString(r.GetProperty("Data").GetBytesFromBase64())[..3];
                    Assert.True(last is null || string.CompareOrdinal(data, last) >= 0, $"{data} after {last}");
                    last = data;
                    received++;
                }
            }
            buffer.AsSpan(start, filled - start).CopyTo(buffer);
            filled -= start;
        }
        Assert.Equal($"b{Batches - 1:D2}", last);
    }
}
