using System.Diagnostics;
using Runnel.Bench.Kinesis;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// What the scenarios of one run share: the client, the options, and the streams created so far (named
/// <c>bench-PURPOSE-RUNID</c>, so runs against a shared endpoint never collide). Used by one scenario at
/// a time; the stream list is not thread-safe.
/// </summary>
public sealed class BenchContext(RunOptions options, KinesisHttpClient client, TextWriter log)
{
    private readonly List<string> _streams = [];

    public RunOptions Options { get; } = options;
    public KinesisHttpClient Client { get; } = client;
    public TextWriter Log { get; } = log;

    /// <summary>The wire encoding of the PutRecords and drain scenarios (JSON unless a variant says CBOR).</summary>
    public KinesisCodec Codec { get; init; } = KinesisCodec.Json;
    public string RunId { get; } = $"{DateTime.UtcNow:MMddHHmmss}-{Random.Shared.Next(0x1000, 0xFFFF):x4}";

    /// <summary>Records the server has acknowledged in this run, warm-up included.</summary>
    public long RecordsWritten { get; set; }

    public string StreamName(string purpose) => $"bench-{purpose}-{RunId}";

    /// <summary>Waits until the endpoint answers ListStreams with 200.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var body = KinesisJson.ListStreams();
        var start = Stopwatch.StartNew();
        string last = "no answer";
        while (start.Elapsed < Options.ReadyTimeout)
        {
            try
            {
                using var response = await Client.SendAsync("ListStreams", body).ConfigureAwait(false);
                if (response.IsSuccess)
                    return;
                last = response.Describe();
            }
            catch (HttpRequestException e)
            {
                last = e.GetBaseException().Message;
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        throw new BenchException($"{Client.Endpoint} did not answer ListStreams within {Options.ReadyTimeout.TotalSeconds:0} s: {last}");
    }

    /// <summary>Whether the endpoint still answers a ListStreams, within a few seconds.</summary>
    public async Task<bool> AnswersAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var response = await Client.SendAsync("ListStreams", KinesisJson.ListStreams(), timeout.Token).ConfigureAwait(false);
            return response.IsSuccess;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Creates a stream, waits for it to become ACTIVE and returns its shard ids.</summary>
    public async Task<IReadOnlyList<string>> CreateStreamAsync(string name, int shards)
    {
        using (var created = await Client.SendAsync("CreateStream", KinesisJson.CreateStream(name, shards)).ConfigureAwait(false))
        {
            if (!created.IsSuccess)
                throw new BenchException($"CreateStream {name}: {created.Describe()}");
        }
        _streams.Add(name);
        var describe = KinesisJson.DescribeStream(name);
        var start = Stopwatch.StartNew();
        bool encrypting = Options.Encrypt;
        while (start.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var response = await Client.SendAsync("DescribeStream", describe).ConfigureAwait(false);
            if (response.IsSuccess && KinesisJson.ReadString(response.Body, "StreamStatus") == "ACTIVE" && encrypting)
            {
                // Encryption at rest: the stream goes UPDATING for the server's delay, and is waited for again.
                string body = "{\"StreamName\":\"" + name + "\",\"EncryptionType\":\"KMS\",\"KeyId\":\"alias/aws/kinesis\"}";
                using var started = await Client.SendAsync("StartStreamEncryption", new RequestBody(System.Text.Encoding.UTF8.GetBytes(body))).ConfigureAwait(false);
                if (!started.IsSuccess)
                    throw new BenchException($"StartStreamEncryption {name}: {started.Describe()}");
                encrypting = false;
                continue;
            }
            if (response.IsSuccess && KinesisJson.ReadString(response.Body, "StreamStatus") == "ACTIVE")
            {
                var ids = KinesisJson.ReadStrings(response.Body, "ShardId");
                if (ids.Count != shards)
                    throw new BenchException($"DescribeStream {name} lists {ids.Count} shards, expected {shards}");
                if (Options.EnhancedMonitoring)
                {
                    string body = "{\"StreamName\":\"" + name + "\",\"ShardLevelMetrics\":[\"ALL\"]}";
                    using var enabled = await Client.SendAsync("EnableEnhancedMonitoring", new RequestBody(System.Text.Encoding.UTF8.GetBytes(body))).ConfigureAwait(false);
                    if (!enabled.IsSuccess)
                        throw new BenchException($"EnableEnhancedMonitoring {name}: {enabled.Describe()}");
                }
                return ids;
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
        throw new BenchException($"stream {name} did not become ACTIVE within 30 s");
    }

    /// <summary>Registers <paramref name="count"/> enhanced fan-out consumers of a stream, named PREFIX-0, PREFIX-1, ...,
    /// and waits until every one is ACTIVE; returns their ARNs.</summary>
    public async Task<List<string>> RegisterConsumersAsync(string stream, int count, string namePrefix)
    {
        string streamArn;
        using (var summary = await Client.SendAsync("DescribeStreamSummary", KinesisJson.DescribeStreamSummary(stream)).ConfigureAwait(false))
            streamArn = KinesisJson.ReadString(summary.Body, "StreamARN") ?? throw new BenchException($"DescribeStreamSummary {stream}: {summary.Describe()}");
        var consumers = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using var registered = await Client.SendAsync("RegisterStreamConsumer", KinesisJson.RegisterStreamConsumer(streamArn, $"{namePrefix}-{i}")).ConfigureAwait(false);
            consumers.Add(KinesisJson.ReadString(registered.Body, "ConsumerARN") ?? throw new BenchException($"RegisterStreamConsumer: {registered.Describe()}"));
        }
        foreach (string consumer in consumers)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                using var described = await Client.SendAsync("DescribeStreamConsumer", KinesisJson.DescribeStreamConsumer(consumer)).ConfigureAwait(false);
                if (KinesisJson.ReadString(described.Body, "ConsumerStatus") == "ACTIVE")
                    break;
                if (waited.Elapsed > TimeSpan.FromSeconds(60))
                    throw new BenchException($"consumer {consumer} did not become ACTIVE within 60 s");
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        return consumers;
    }

    /// <summary>Deletes the streams this run created; failures are reported, not thrown.</summary>
    public async Task DeleteStreamsAsync()
    {
        foreach (var name in _streams)
        {
            try
            {
                using var response = await Client.SendAsync("DeleteStream", KinesisJson.DeleteStream(name)).ConfigureAwait(false);
                if (!response.IsSuccess)
                    Log.WriteLine($"  DeleteStream {name}: {response.Describe()}");
            }
            catch (HttpRequestException e)
            {
                Log.WriteLine($"  DeleteStream {name}: {e.GetBaseException().Message}");
            }
        }
        _streams.Clear();
    }
}

/// <summary>A benchmark that cannot go on (the server is unreachable, a stream cannot be created).</summary>
public sealed class BenchException(string message) : Exception(message);
