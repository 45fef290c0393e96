using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Runnel.Server;

namespace Runnel.Server.Tests;

/// <summary>Registered stream consumers (enhanced fan-out's control plane) on the shared server: AWS's shapes, errors and paging.</summary>
public partial class ConsumerTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Account = "000000000000";

    [GeneratedRegex(@"^arn:aws:kinesis:us-east-1:000000000000:stream/(?<stream>[^/]+)/consumer/(?<name>[^:]+):(?<seconds>\d+)$")]
    private static partial Regex ConsumerArnFormat();

    private static string StreamArn(string stream) => $"arn:aws:kinesis:us-east-1:{Account}:stream/{stream}";

    private async Task<(HttpStatusCode Status, JsonElement Body)> ErrorAsync(string operation, string body, string type)
    {
        var (status, json) = await server.CallAsync(operation, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(json.GetProperty("__type").GetString() == type, $"{operation} answered {json}");
        return (status, json);
    }

    private static string Message(JsonElement error) => error.GetProperty("message").GetString()!;

    private static string TagRequest(string arn, string tags) => "{\"ResourceARN\":\"" + arn + "\",\"Tags\":{" + tags + "}}";

    private async Task<JsonElement> RegisterAsync(string stream, string name, string extra = "") =>
        (await server.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"{{name}}"{{extra}}}""")).GetProperty("Consumer");

    [Fact(Timeout = 30000)]
    public async Task Register_describe_list_and_deregister_answer_as_aws()
    {
        string stream = await server.CreateStreamAsync("cons", 1);
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var consumer = await RegisterAsync(stream, "reader");
        string arn = consumer.GetProperty("ConsumerARN").GetString()!;
        var parts = ConsumerArnFormat().Match(arn);
        Assert.True(parts.Success, arn);
        Assert.Equal((stream, "reader"), (parts.Groups["stream"].Value, parts.Groups["name"].Value));
        long seconds = long.Parse(parts.Groups["seconds"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, before, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal("reader", consumer.GetProperty("ConsumerName").GetString());
        Assert.Equal("ACTIVE", consumer.GetProperty("ConsumerStatus").GetString()); // no delay configured
        Assert.Equal((double)seconds, consumer.GetProperty("ConsumerCreationTimestamp").GetDouble());

        // By ARN, by stream and name, and by all three when they agree.
        foreach (string request in new[]
        {
            $$"""{"ConsumerARN":"{{arn}}"}""",
            $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"reader"}""",
            $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"reader","ConsumerARN":"{{arn}}"}""",
        })
        {
            var description = (await server.OkAsync("DescribeStreamConsumer", request)).GetProperty("ConsumerDescription");
            Assert.Equal(arn, description.GetProperty("ConsumerARN").GetString());
            Assert.Equal(StreamArn(stream), description.GetProperty("StreamARN").GetString());
            Assert.Equal("ACTIVE", description.GetProperty("ConsumerStatus").GetString());
            Assert.Equal((double)seconds, description.GetProperty("ConsumerCreationTimestamp").GetDouble());
        }

        var list = await server.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}"}""");
        var listed = Assert.Single(list.GetProperty("Consumers").EnumerateArray());
        Assert.Equal(arn, listed.GetProperty("ConsumerARN").GetString());
        Assert.False(list.TryGetProperty("NextToken", out _));
        var summary = await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""");
        Assert.Equal(1, summary.GetProperty("StreamDescriptionSummary").GetProperty("ConsumerCount").GetInt32());

        var (status, body) = await server.CallAsync("DeregisterStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.Undefined, body.ValueKind); // empty body, as AWS
        var (_, gone) = await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""", "ResourceNotFoundException");
        Assert.Equal($"Consumer reader with creation timestamp {seconds} under stream {stream} and account {Account} not found.", Message(gone));
        Assert.Empty((await server.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}"}""")).GetProperty("Consumers").EnumerateArray());
        summary = await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""");
        Assert.Equal(0, summary.GetProperty("StreamDescriptionSummary").GetProperty("ConsumerCount").GetInt32());
    }

    [Fact(Timeout = 30000)]
    public async Task Deregistering_by_stream_and_name_works_and_a_second_time_is_not_found()
    {
        string stream = await server.CreateStreamAsync("cons", 1);
        await RegisterAsync(stream, "once");
        string byName = $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"once"}""";
        await server.OkAsync("DeregisterStreamConsumer", byName);
        var (_, error) = await ErrorAsync("DeregisterStreamConsumer", byName, "ResourceNotFoundException");
        Assert.Equal($"Consumer once under stream {stream} and account {Account} not found.", Message(error));
    }

    [Fact(Timeout = 30000)]
    public async Task Registering_a_name_again_after_deregistering_gives_a_new_arn_even_within_the_same_second()
    {
        string stream = await server.CreateStreamAsync("cons", 1);
        var arns = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            string arn = (await RegisterAsync(stream, "again")).GetProperty("ConsumerARN").GetString()!;
            arns.Add(arn);
            await server.OkAsync("DeregisterStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""");
        }
        Assert.Equal(3, arns.Distinct().Count());
        var seconds = arns.Select(a => long.Parse(a[(a.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(seconds[0] < seconds[1] && seconds[1] < seconds[2], string.Join(", ", seconds));
        // The old ARN does not find the new consumer of the same name.
        await RegisterAsync(stream, "again");
        await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arns[0]}}"}""", "ResourceNotFoundException");
    }

    [Fact(Timeout = 30000)]
    public async Task Every_operation_refuses_bad_input_with_aws_errors()
    {
        string stream = await server.CreateStreamAsync("cons", 1);
        string missing = ServerFixture.UniqueName("nostream");
        var (_, e) = await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(missing)}}","ConsumerName":"c"}""", "ResourceNotFoundException");
        Assert.Equal($"Stream {missing} under account {Account} not found.", Message(e));
        await ErrorAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(missing)}}"}""", "ResourceNotFoundException");
        await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{StreamArn(missing)}}/consumer/c:1700000000"}""", "ResourceNotFoundException");
        await ErrorAsync("DeregisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(missing)}}","ConsumerName":"c"}""", "ResourceNotFoundException");

        await RegisterAsync(stream, "dup");
        (_, e) = await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"dup"}""", "ResourceInUseException");
        Assert.Equal($"Consumer dup under stream {stream} and account {Account} already exists.", Message(e));
        (_, e) = await ErrorAsync("DescribeStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"nobody"}""", "ResourceNotFoundException");
        Assert.Equal($"Consumer nobody under stream {stream} and account {Account} not found.", Message(e));

        // Members the model requires, patterns and lengths: ValidationException in the model's order.
        (_, e) = await ErrorAsync("RegisterStreamConsumer", "{}", "ValidationException");
        Assert.Equal("2 validation errors detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null; " +
            "Value null at 'consumerName' failed to satisfy constraint: Member must not be null", Message(e));
        (_, e) = await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"bad name"}""", "ValidationException");
        Assert.Equal("1 validation error detected: Value 'bad name' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", Message(e));
        (_, e) = await ErrorAsync("DescribeStreamConsumer", """{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}""", "ValidationException");
        Assert.StartsWith("1 validation error detected: Value 'arn:aws:kinesis:us-east-1:000000000000:stream/s' at 'consumerARN' failed to satisfy constraint: Member must satisfy regular expression pattern: ", Message(e));
        await ErrorAsync("ListStreamConsumers", "{}", "ValidationException");
        (_, e) = await ErrorAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}","MaxResults":0}""", "ValidationException");
        Assert.Equal("1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1", Message(e));
        await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"{{new string('n', 129)}}"}""", "ValidationException");

        // Members the model leaves optional but the operation needs, and members that disagree.
        (_, e) = await ErrorAsync("DescribeStreamConsumer", """{"ConsumerName":"dup"}""", "InvalidArgumentException");
        Assert.Equal("Either ConsumerARN or both ConsumerName and StreamARN must be provided.", Message(e));
        await ErrorAsync("DeregisterStreamConsumer", "{}", "InvalidArgumentException");
        string arn = (await server.OkAsync("DescribeStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"dup"}""")).GetProperty("ConsumerDescription").GetProperty("ConsumerARN").GetString()!;
        (_, e) = await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn}}","ConsumerName":"other"}""", "InvalidArgumentException");
        Assert.Equal("ConsumerARN and ConsumerName do not refer to the same consumer.", Message(e));
        (_, e) = await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn}}","StreamARN":"{{StreamArn(missing)}}"}""", "InvalidArgumentException");
        Assert.Equal("ConsumerARN and StreamARN do not refer to the same stream.", Message(e));
        // Matches the model's loose pattern but is no consumer ARN of this service.
        string odd = $"arn:aws:kinesis:us-east-1:000000000000:x/stream/{stream}/consumer/dup:1";
        (_, e) = await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{odd}}"}""", "InvalidArgumentException");
        Assert.Equal($"Invalid ConsumerARN: {odd}", Message(e));
        // Another account's consumer is not ours.
        await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn.Replace(Account, "111111111111", StringComparison.Ordinal)}}"}""", "ResourceNotFoundException");
        await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn[..arn.LastIndexOf(':')]}}:1"}""", "ResourceNotFoundException");
    }

    [Fact(Timeout = 30000)]
    public async Task List_stream_consumers_pages_with_next_token_in_name_order()
    {
        string stream = await server.CreateStreamAsync("cons", 1);
        string[] names = ["g", "a", "e", "c", "b", "f", "d"];
        foreach (string name in names)
            await RegisterAsync(stream, name);
        var seen = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            string body = token is null
                ? $$"""{"StreamARN":"{{StreamArn(stream)}}","MaxResults":3}"""
                : $$"""{"StreamARN":"{{StreamArn(stream)}}","MaxResults":3,"NextToken":"{{token}}"}""";
            var page = await server.OkAsync("ListStreamConsumers", body);
            var consumers = page.GetProperty("Consumers").EnumerateArray().ToList();
            Assert.True(consumers.Count <= 3);
            seen.AddRange(consumers.Select(c => c.GetProperty("ConsumerName").GetString()!));
            token = page.TryGetProperty("NextToken", out var next) ? next.GetString() : null;
            pages++;
        }
        while (token is not null && pages < 10);
        Assert.Equal(3, pages);
        Assert.Equal(names.Order(StringComparer.Ordinal), seen);

        var first = await server.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}","MaxResults":2}""");
        string firstToken = first.GetProperty("NextToken").GetString()!;
        long created = (long)(await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamCreationTimestamp").GetDouble();
        var (_, e) = await ErrorAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}","NextToken":"{{firstToken}}","StreamCreationTimestamp":{{created}}}""", "InvalidArgumentException");
        Assert.Equal("NextToken and StreamCreationTimestamp cannot be provided together.", Message(e));
        await ErrorAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}","NextToken":"bm90IGEgdG9rZW4="}""", "InvalidArgumentException");
        string other = await server.CreateStreamAsync("cons", 1);
        await ErrorAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(other)}}","NextToken":"{{firstToken}}"}""", "InvalidArgumentException");
        Assert.Equal(7, (await server.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}","StreamCreationTimestamp":{{created}}}""")).GetProperty("Consumers").GetArrayLength());
        await ErrorAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}","StreamCreationTimestamp":{{created - 10}}}""", "ResourceNotFoundException");
    }

    [Fact(Timeout = 30000)]
    public async Task Delete_stream_refuses_a_stream_with_consumers_unless_enforce_consumer_deletion()
    {
        string stream = await server.CreateStreamAsync("cons", 1);
        await RegisterAsync(stream, "blocker");
        var (_, e) = await ErrorAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""", "ResourceInUseException");
        Assert.Equal($"DeleteStream can\u2019t delete {Account}:{stream} because there are consumers associated with this data stream. " +
            $"To delete {stream} anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it.", Message(e));
        await ErrorAsync("DeleteStream", $$"""{"StreamName":"{{stream}}","EnforceConsumerDeletion":false}""", "ResourceInUseException");
        await server.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}","EnforceConsumerDeletion":true}""");
        await ErrorAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""", "ResourceNotFoundException");

        // A new stream of the same name has none of the old one's consumers.
        await server.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
        Assert.Empty((await server.OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn(stream)}}"}""")).GetProperty("Consumers").EnumerateArray());
        await RegisterAsync(stream, "blocker");
        await server.OkAsync("DeregisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"blocker"}""");
        await server.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}"""); // no consumers left: no flag needed
    }

    [Fact(Timeout = 30000)]
    public async Task Consumer_arns_take_tags_through_the_resource_api_with_the_stream_limits()
    {
        string stream = await server.CreateStreamAsync("cons", 1);
        string arn = (await RegisterAsync(stream, "tagged", ""","Tags":{"team":"search","tier":"gold"}""")).GetProperty("ConsumerARN").GetString()!;
        async Task<Dictionary<string, string>> TagsAsync() =>
            (await server.OkAsync("ListTagsForResource", $$"""{"ResourceARN":"{{arn}}"}""")).GetProperty("Tags").EnumerateArray()
                .ToDictionary(t => t.GetProperty("Key").GetString()!, t => t.GetProperty("Value").GetString()!);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "search", ["tier"] = "gold" }, await TagsAsync());

        await server.OkAsync("TagResource", TagRequest(arn, "\"tier\":\"silver\",\"env\":\"test\""));
        await server.OkAsync("UntagResource", $$"""{"ResourceARN":"{{arn}}","TagKeys":["team"]}""");
        Assert.Equal(new Dictionary<string, string> { ["env"] = "test", ["tier"] = "silver" }, await TagsAsync());
        // The stream's own tags are a separate set.
        Assert.Empty((await server.OkAsync("ListTagsForResource", $$"""{"ResourceARN":"{{StreamArn(stream)}}"}""")).GetProperty("Tags").EnumerateArray());

        string fifty = string.Join(",", Enumerable.Range(0, 49).Select(i => $"\"k{i}\":\"v\""));
        var (_, e) = await ErrorAsync("TagResource", TagRequest(arn, fifty), "InvalidArgumentException");
        Assert.Equal($"Failed to add tags to consumer tagged under account {Account} because a given consumer cannot have more than 50 tags associated with it.", Message(e));
        await ErrorAsync("TagResource", TagRequest(arn, "\"bad#\":\"v\""), "InvalidArgumentException");
        await ErrorAsync("RegisterStreamConsumer", "{\"StreamARN\":\"" + StreamArn(stream) + "\",\"ConsumerName\":\"many\",\"Tags\":{" + fifty + ",\"a\":\"1\",\"b\":\"2\"}}", "InvalidArgumentException");
        Assert.Equal(2, (await TagsAsync()).Count);

        await server.OkAsync("DeregisterStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""");
        await ErrorAsync("ListTagsForResource", $$"""{"ResourceARN":"{{arn}}"}""", "ResourceNotFoundException");
        await ErrorAsync("TagResource", TagRequest(arn, "\"a\":\"b\""), "ResourceNotFoundException");
    }
}

/// <summary>Consumer states, limits and persistence against servers of their own, with a clock the test moves.</summary>
public sealed class ConsumerLifecycleTests : IAsyncLifetime
{
    private const string Account = "000000000000";
    private readonly ManualClock _clock = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-consumers-" + Guid.NewGuid().ToString("N"));
    private RunnelServer? _server;
    private TestClient? _client;

    private static string StreamArn(string stream) => $"arn:aws:kinesis:us-east-1:{Account}:stream/{stream}";

    private TestClient Client => _client ?? throw new InvalidOperationException("no server started");

    private async Task StartAsync(RunnelOptions options)
    {
        _server = RunnelServer.Create(options with { Port = 0, DataDir = _dir }, _ => { }, _clock);
        await _server.StartAsync();
        _client = new TestClient(_server.Url);
    }

    private async Task StopAsync()
    {
        _client?.Dispose();
        _client = null;
        if (_server is not null)
            await _server.DisposeAsync();
        _server = null;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Task<JsonElement> OkAsync(string operation, string body) => Client.OkAsync(operation, body);

    private async Task<JsonElement> ErrorAsync(string operation, string body, string type)
    {
        var (status, json) = await Client.CallAsync(operation, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(json.GetProperty("__type").GetString() == type, $"{operation} answered {json}");
        return json;
    }

    private async Task<string> StatusAsync(string stream, string name) =>
        (await OkAsync("DescribeStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"{{name}}"}"""))
            .GetProperty("ConsumerDescription").GetProperty("ConsumerStatus").GetString()!;

    private async Task<string> RegisterAsync(string stream, string name, string extra = "") =>
        (await OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"{{name}}"{{extra}}}"""))
            .GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;

    [Fact(Timeout = 30000)]
    public async Task A_consumer_is_creating_then_active_and_deleting_then_gone_after_the_configured_delays()
    {
        await StartAsync(new RunnelOptions
        {
            Limits = Core.Throughput.ThroughputLimits.Off,
            ConsumerCreateDelay = TimeSpan.FromSeconds(5),
            ConsumerDeleteDelay = TimeSpan.FromSeconds(3),
        });
        await OkAsync("CreateStream", """{"StreamName":"states","ShardCount":1}""");
        var registered = (await OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("states")}}","ConsumerName":"slow"}""")).GetProperty("Consumer");
        Assert.Equal("CREATING", registered.GetProperty("ConsumerStatus").GetString());
        string arn = registered.GetProperty("ConsumerARN").GetString()!;
        _clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal("CREATING", await StatusAsync("states", "slow"));
        _clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal("ACTIVE", await StatusAsync("states", "slow"));

        await OkAsync("DeregisterStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""");
        Assert.Equal("DELETING", await StatusAsync("states", "slow"));
        await OkAsync("DeregisterStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}"""); // already deleting: no change
        var listed = (await OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn("states")}}"}""")).GetProperty("Consumers");
        Assert.Equal("DELETING", Assert.Single(listed.EnumerateArray()).GetProperty("ConsumerStatus").GetString());
        await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("states")}}","ConsumerName":"slow"}""", "ResourceInUseException");
        // Consumers count toward DeleteStream's check until they are gone.
        await ErrorAsync("DeleteStream", """{"StreamName":"states"}""", "ResourceInUseException");
        _clock.Advance(TimeSpan.FromSeconds(3));
        await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""", "ResourceNotFoundException");
        Assert.NotEqual(arn, await RegisterAsync("states", "slow"));
    }

    [Fact(Timeout = 30000)]
    public async Task Limits_allow_20_consumers_per_stream_and_5_creating_at_once()
    {
        await StartAsync(new RunnelOptions { ConsumerCreateDelay = TimeSpan.FromSeconds(10) });
        await OkAsync("CreateStream", """{"StreamName":"crowded","ShardCount":1}""");
        for (int i = 0; i < 5; i++)
            await RegisterAsync("crowded", $"c{i:D2}");
        _clock.Advance(TimeSpan.FromSeconds(1)); // RegisterStreamConsumer's 5 calls per second come back
        var creating = await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("crowded")}}","ConsumerName":"c05"}""", "LimitExceededException");
        Assert.Equal($"Stream crowded under account {Account} already has 5 consumers in CREATING status; only 5 can be created at the same time.", creating.GetProperty("message").GetString());

        for (int i = 5; i < 20; i++)
        {
            if (i % 5 == 0)
                _clock.Advance(TimeSpan.FromSeconds(10)); // the five before are ACTIVE and the rate bucket is full again
            await RegisterAsync("crowded", $"c{i:D2}");
        }
        _clock.Advance(TimeSpan.FromSeconds(10));
        var full = await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("crowded")}}","ConsumerName":"c20"}""", "LimitExceededException");
        Assert.Equal($"Stream crowded under account {Account} already has the maximum of 20 registered consumers.", full.GetProperty("message").GetString());
        var summary = await OkAsync("DescribeStreamSummary", """{"StreamName":"crowded"}""");
        Assert.Equal(20, summary.GetProperty("StreamDescriptionSummary").GetProperty("ConsumerCount").GetInt32());
    }

    [Fact(Timeout = 30000)]
    public async Task Consumer_calls_are_rate_limited_per_account_or_per_stream_as_aws_documents()
    {
        await StartAsync(new RunnelOptions());
        await OkAsync("CreateStream", """{"StreamName":"one","ShardCount":1}""");
        _clock.Advance(TimeSpan.FromSeconds(1));
        await OkAsync("CreateStream", """{"StreamName":"two","ShardCount":1}""");
        // RegisterStreamConsumer: 5 per second for the account, whichever the stream.
        for (int i = 0; i < 3; i++)
            await RegisterAsync("one", $"r{i}");
        for (int i = 0; i < 2; i++)
            await RegisterAsync("two", $"r{i}");
        var rate = await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("two")}}","ConsumerName":"r9"}""", "LimitExceededException");
        Assert.Equal($"Rate exceeded for stream two under account {Account}.", rate.GetProperty("message").GetString());

        // DescribeStreamConsumer: 20 per second per stream; another stream has its own allowance.
        string arn = (await OkAsync("DescribeStreamConsumer", $$"""{"StreamARN":"{{StreamArn("one")}}","ConsumerName":"r0"}""")).GetProperty("ConsumerDescription").GetProperty("ConsumerARN").GetString()!;
        for (int i = 0; i < 19; i++)
            await OkAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""");
        rate = await ErrorAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{arn}}"}""", "LimitExceededException");
        Assert.Equal($"Rate exceeded for stream one under account {Account}.", rate.GetProperty("message").GetString());
        await OkAsync("DescribeStreamConsumer", $$"""{"StreamARN":"{{StreamArn("two")}}","ConsumerName":"r0"}""");

        // ListStreamConsumers and DeregisterStreamConsumer: 5 per second per stream.
        for (int i = 0; i < 5; i++)
            await OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn("one")}}"}""");
        await ErrorAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn("one")}}"}""", "LimitExceededException");
        await OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn("two")}}"}""");
        for (int i = 0; i < 5; i++)
            await ErrorAsync("DeregisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("one")}}","ConsumerName":"none{{i}}"}""", "ResourceNotFoundException");
        await ErrorAsync("DeregisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("one")}}","ConsumerName":"r0"}""", "LimitExceededException");
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await OkAsync("DeregisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn("one")}}","ConsumerName":"r0"}""");
    }

    [Fact(Timeout = 60000)]
    public async Task Consumers_their_states_and_tags_survive_a_restart_on_the_same_data_directory()
    {
        var options = new RunnelOptions { Limits = Core.Throughput.ThroughputLimits.Off, ConsumerCreateDelay = TimeSpan.FromSeconds(30) };
        await StartAsync(options);
        await OkAsync("CreateStream", """{"StreamName":"durable","ShardCount":1}""");
        string kept = await RegisterAsync("durable", "kept", ""","Tags":{"team":"search"}""");
        _clock.Advance(TimeSpan.FromSeconds(31));
        string pending = await RegisterAsync("durable", "pending");
        await OkAsync("CreateStream", """{"StreamName":"doomed","ShardCount":1}""");
        await RegisterAsync("doomed", "with-stream");
        await OkAsync("DeleteStream", """{"StreamName":"doomed","EnforceConsumerDeletion":true}""");
        await StopAsync();

        await StartAsync(options);
        var description = (await OkAsync("DescribeStreamConsumer", $$"""{"ConsumerARN":"{{kept}}"}""")).GetProperty("ConsumerDescription");
        Assert.Equal("ACTIVE", description.GetProperty("ConsumerStatus").GetString());
        var tags = (await OkAsync("ListTagsForResource", $$"""{"ResourceARN":"{{kept}}"}""")).GetProperty("Tags");
        Assert.Equal("search", Assert.Single(tags.EnumerateArray()).GetProperty("Value").GetString());
        Assert.Equal("CREATING", await StatusAsync("durable", "pending"));
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("ACTIVE", await StatusAsync("durable", "pending"));
        Assert.Equal(pending, (await OkAsync("DescribeStreamConsumer", """{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/durable","ConsumerName":"pending"}"""))
            .GetProperty("ConsumerDescription").GetProperty("ConsumerARN").GetString());
        await OkAsync("CreateStream", """{"StreamName":"doomed","ShardCount":1}""");
        Assert.Equal(0, (await OkAsync("ListStreamConsumers", $$"""{"StreamARN":"{{StreamArn("doomed")}}"}""")).GetProperty("Consumers").GetArrayLength());
        var summary = await OkAsync("DescribeStreamSummary", """{"StreamName":"durable"}""");
        Assert.Equal(2, summary.GetProperty("StreamDescriptionSummary").GetProperty("ConsumerCount").GetInt32());
    }
}
