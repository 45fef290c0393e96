using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Runnel.Storage.Tests.JetStream;
using Xunit.Abstractions;

namespace Runnel.Server.Tests;

/// <summary>
/// Firehose on the cluster backend: three real Runnel nodes (<c>runnel serve --nats … --replicas 3</c>, one shared
/// <c>--s3-dir</c>) on a real three-node JetStream cluster, of which the elected node delivers. That node is killed with
/// SIGKILL while records it acknowledged are still buffered and not delivered; writers go on through the other nodes;
/// another node must take the lease and deliver every acknowledged record, from the stored position (duplicates only of
/// what the dead node had delivered without recording it, Firehose's at-least-once).
/// </summary>
/// <remarks>
/// Who delivers is read from each node's own <c>/metrics</c> (<c>firehose_delivery_to_s3_records</c> counts what
/// that process delivered), who is elected from <c>/health</c>. A record whose call went unanswered is never sent
/// again, so that any record delivered twice was delivered twice by Firehose, not put twice by the writers.
/// </remarks>
[Collection(NatsClusterCollection.Name)]
public sealed partial class ClusterFirehoseFaultTests(NatsClusterFixture nats, ITestOutputHelper output) : IDisposable
{
    private const int Nodes = 3;
    private const int Writers = 3;
    private const int RecordsPerCall = 20;
    private const int MaxCallsPerWriter = 20_000;

    /// <summary>Writes go on this long after the kill (and until 1,000 more records were acknowledged, at most 20 s more).</summary>
    private static readonly TimeSpan AfterKill = TimeSpan.FromSeconds(3);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "runnel-cluster-firehose-fault-" + Guid.NewGuid().ToString("N"));

    private string Objects => Path.Combine(_root, "objects");

    private Task<ServerProcess> NodeAsync() =>
        ServerProcess.StartAsync(Path.Combine(_root, "node-" + Guid.NewGuid().ToString("N")),
            "--nats", nats.Cluster.Urls, "--replicas", "3", "--limits", "off", "--s3-dir", Objects);

    private static string S3Destination(string bucket, string prefix, int intervalSeconds) =>
        "\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::" + bucket + "\"," +
        "\"Prefix\":\"" + prefix + "/\",\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":" + intervalSeconds + "}}";

    [Fact(Timeout = 120000)]
    public async Task The_elected_node_killed_while_a_DirectPut_stream_buffers_is_taken_over_and_every_acknowledged_record_is_delivered()
    {
        var nodes = await StartNodesAsync();
        try
        {
            var elected = await ElectedAsync(nodes);
            var others = nodes.Where(n => n != elected).ToList();
            using var control = new TestClient(others[0].Url);
            string name = ServerFixture.UniqueName("fh-kill");
            // 2 s buffers: whenever the kill comes, the elected node holds records it acknowledged and has not delivered.
            await control.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"," + S3Destination("cluster", name, 2) + "}");
            await ActiveEverywhereAsync(nodes, name);

            // Each writer through every node in turn; a call that fails moves it on to the next node.
            var load = new Load(nodes, (client, records) => PutRecordBatchAsync(client, name, records));
            var bucket = Path.Combine(Objects, "cluster", name);
            await RunThroughKillAsync(load, elected, others, name, bucket, kill: async () =>
            {
                await EventuallyAsync(() => Task.FromResult(FirehoseObjects.Keys(bucket).Count >= 2 && load.Acknowledged >= 2_000),
                    "the elected node delivers while the writers write", seconds: 30);
            });
            await control.CallAsync("Firehose_20150804.DeleteDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"}");
        }
        finally
        {
            foreach (var node in nodes)
                node.Dispose();
        }
    }

    [Fact(Timeout = 120000)]
    public async Task The_elected_node_killed_while_a_stream_sourced_delivery_delivers_is_taken_over_from_the_stored_positions()
    {
        var nodes = await StartNodesAsync();
        try
        {
            var elected = await ElectedAsync(nodes);
            var others = nodes.Where(n => n != elected).ToList();
            using var control = new TestClient(others[0].Url);
            string stream = ServerFixture.UniqueName("src"), name = ServerFixture.UniqueName("fh-src");
            await control.OkAsync("CreateStream", "{\"StreamName\":\"" + stream + "\",\"ShardCount\":2}");
            await EventuallyAsync(async () => (await control.OkAsync("DescribeStreamSummary", "{\"StreamName\":\"" + stream + "\"}"))
                .GetProperty("StreamDescriptionSummary").GetProperty("StreamStatus").GetString() == "ACTIVE", "the source stream becomes ACTIVE");
            await control.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\",\"DeliveryStreamType\":\"KinesisStreamAsSource\"," +
                "\"KinesisStreamSourceConfiguration\":{\"KinesisStreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/" + stream + "\",\"RoleARN\":\"arn:aws:iam::000000000000:role/r\"}," +
                S3Destination("cluster", name, 1) + "}");
            await ActiveEverywhereAsync(nodes, name);

            var load = new Load(nodes, (client, records) => PutRecordsAsync(client, stream, records));
            var bucket = Path.Combine(Objects, "cluster", name);
            await RunThroughKillAsync(load, elected, others, name, bucket, kill: async () =>
            {
                // Several objects first: were the positions lost, the survivor would deliver all of them again.
                await EventuallyAsync(() => Task.FromResult(FirehoseObjects.Keys(bucket).Count >= 4 && load.Acknowledged >= 2_000),
                    "the elected node delivers while the writers write", seconds: 30);
            });
            await control.CallAsync("Firehose_20150804.DeleteDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"}");
            await control.CallAsync("DeleteStream", "{\"StreamName\":\"" + stream + "\"}");
        }
        finally
        {
            foreach (var node in nodes)
                node.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="load"/>, waits for <paramref name="kill"/>'s condition, kills <paramref name="elected"/>
    /// (checking it was the one delivering and still held acknowledged records undelivered), lets the writers go on
    /// through <paramref name="others"/>, and checks that one of them took over and delivered every acknowledged record.
    /// </summary>
    private async Task RunThroughKillAsync(Load load, ServerProcess elected, List<ServerProcess> others, string name, string bucket, Func<Task> kill)
    {
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(Writers, MaxCallsPerWriter, stop.Token);
        try
        {
            await kill();
            Assert.False(running.IsCompleted, "the writers were still writing at the kill");
            Assert.True(await DeliveredByAsync(elected, name) > 0, "the elected node delivered before the kill");
            foreach (var other in others)
                Assert.Equal(0, await DeliveredByAsync(other, name)); // no other node delivers while it lives

            // Kill while acknowledged records wait undelivered: writers slowed by a loaded machine may have let the
            // buffers drain, so wait (bounded) for new acknowledgements to be waiting again. And kill just after an
            // object was written (within half a second; the buffers' interval is 1 or 2 s): killed just before a
            // flush, the node could still write everything out in between (seen once in CI).
            var acknowledgedBeforeKill = new HashSet<string>(StringComparer.Ordinal);
            bool JustWritten() => DateTime.UtcNow - NewestObjectWritten(bucket) < TimeSpan.FromMilliseconds(500);
            await EventuallyAsync(() =>
            {
                if (!JustWritten())
                    return Task.FromResult(false);
                acknowledgedBeforeKill = load.AcknowledgedRecords.ToHashSet(StringComparer.Ordinal);
                bool waiting = acknowledgedBeforeKill.Except(FirehoseObjects.Records(bucket), StringComparer.Ordinal).Any();
                return Task.FromResult(waiting && JustWritten());
            }, "acknowledged records wait undelivered on the elected node, just after it wrote an object", seconds: 30, pollMillis: 20);
            // Those acknowledged since the check count too: were the ones checked delivered in between, those are not yet.
            acknowledgedBeforeKill.UnionWith(load.AcknowledgedRecords);
            await elected.KillAsync();
            var killed = DateTime.UtcNow;
            // The dead node delivers no more and no other node has the lease yet: this is what it delivered.
            var deliveredAtKill = FirehoseObjects.Records(bucket);
            int objectsAtKill = FirehoseObjects.Keys(bucket).Count;
            var lastObjectAtKill = LastObjectRecords(bucket);
            var undeliveredAtKill = acknowledgedBeforeKill.Except(deliveredAtKill, StringComparer.Ordinal).ToList();
            Assert.True(undeliveredAtKill.Count > 0, $"the kill came while acknowledged records were undelivered ({acknowledgedBeforeKill.Count} acknowledged, all delivered)");

            int atKill = load.Acknowledged;
            await Task.Delay(AfterKill);
            await EventuallyAsync(() => Task.FromResult(load.Acknowledged >= atKill + 1_000 || running.IsCompleted),
                $"writes went on through the other nodes after the kill ({atKill} acknowledged then, {load.Acknowledged} now)", seconds: 20);
            await stop.CancelAsync();
            await running;
            Assert.False(load.Exhausted, "the writers were stopped, not run out");

            var acknowledged = load.AcknowledgedRecords;
            var delivered = await FirehoseObjects.WaitForAsync(bucket, acknowledged, seconds: 40);
            var caughtUp = DateTime.UtcNow - killed;

            // A different node took over: one survivor is elected, it delivered, and the other delivered nothing.
            var deliverers = new List<ServerProcess>();
            foreach (var other in others)
                if (await DeliveredByAsync(other, name) > 0)
                    deliverers.Add(other);
            Assert.Single(deliverers);
            Assert.True((await HealthAsync(deliverers[0]))?.GetProperty("elected").GetBoolean(), "the node that took over delivery is the elected node");

            // Nothing delivered that was never put; every acknowledged record at least once (WaitForAsync). A record
            // delivered twice only from the dead node's last object: the position is written after each step's
            // deliveries, and a step delivers one object here (1 MB is not filled within a buffer's interval), so a
            // kill between the two leaves that object's records above the stored position. Had the survivor not gone
            // on from the stored position, the older objects' records would be delivered again too.
            var attempted = load.AttemptedRecords.ToHashSet(StringComparer.Ordinal);
            Assert.All(delivered.Distinct(), record => Assert.Contains(record, attempted));
            var twice = delivered.GroupBy(r => r, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
            Assert.All(twice, g => Assert.Equal(2, g.Count()));
            var again = twice.Select(g => g.Key).Where(r => !lastObjectAtKill.Contains(r)).ToList();
            Assert.True(again.Count == 0, $"{again.Count} records delivered before the dead node's last object were delivered again (e.g. {again.FirstOrDefault()}): " +
                $"the survivor did not go on from the stored position ({deliveredAtKill.Count} records in {objectsAtKill} objects at the kill)");

            output.WriteLine($"killed the elected node at {acknowledgedBeforeKill.Count} acknowledged, {deliveredAtKill.Count} delivered in {objectsAtKill} objects, " +
                $"{undeliveredAtKill.Count} acknowledged and undelivered; {acknowledged.Count} acknowledged in all ({load.Unanswered} records unanswered, " +
                $"{load.Refused} refused), {delivered.Count} delivered, {twice.Count} twice; all delivered {caughtUp.TotalSeconds:0.0} s after the kill");
        }
        finally
        {
            await stop.CancelAsync();
            try { await running; } catch (Exception e) { output.WriteLine($"writers: {e.Message}"); }
        }
    }

    /// <summary>
    /// The first node alone, then the others at once: on a fresh JetStream cluster, nodes that all make the same R3
    /// buckets at once wait about 30 s for nats-server 2.9's answers (<c>Unanswered.StartBudget</c>), longer than
    /// <see cref="ServerProcess"/> waits for a start.
    /// </summary>
    /// <summary>The records of the object written last into <paramref name="bucket"/> (uncompressed, as these destinations write them).</summary>
    private static HashSet<string> LastObjectRecords(string bucket)
    {
        var keys = FirehoseObjects.Keys(bucket);
        if (keys.Count == 0)
            return [];
        string last = keys.Select(k => Path.Combine(bucket, k)).MaxBy(File.GetLastWriteTimeUtc)!;
        return File.ReadAllText(last).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
    }

    private async Task<List<ServerProcess>> StartNodesAsync()
    {
        var first = await NodeAsync();
        var starting = Enumerable.Range(1, Nodes - 1).Select(_ => NodeAsync()).ToList();
        try
        {
            return [first, .. await Task.WhenAll(starting)];
        }
        catch
        {
            first.Dispose();
            foreach (var node in starting.Where(t => t.IsCompletedSuccessfully))
                node.Result.Dispose();
            throw;
        }
    }

    private static async Task ActiveEverywhereAsync(IEnumerable<ServerProcess> nodes, string name)
    {
        foreach (var node in nodes)
        {
            using var client = new TestClient(node.Url);
            await EventuallyAsync(async () => (await client.OkAsync("Firehose_20150804.DescribeDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"}"))
                .GetProperty("DeliveryStreamDescription").GetProperty("DeliveryStreamStatus").GetString() == "ACTIVE", $"{name} is ACTIVE on every node");
        }
    }

    /// <summary>What a node's <c>/health</c> says, or null when it does not answer.</summary>
    private static async Task<JsonElement?> HealthAsync(ServerProcess node)
    {
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement.Clone();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The one node whose <c>/health</c> says it is the elected node.</summary>
    private static async Task<ServerProcess> ElectedAsync(IReadOnlyList<ServerProcess> nodes)
    {
        ServerProcess? found = null;
        await EventuallyAsync(async () =>
        {
            var elected = new List<ServerProcess>();
            foreach (var node in nodes)
                if (await HealthAsync(node) is { } health && health.GetProperty("elected").GetBoolean())
                    elected.Add(node);
            found = elected.Count == 1 ? elected[0] : null;
            return found is not null;
        }, "exactly one node says it is elected");
        return found!;
    }

    /// <summary>How many records <paramref name="node"/> itself delivered to S3 for <paramref name="name"/> (its <c>/metrics</c>).</summary>
    private static async Task<double> DeliveredByAsync(ServerProcess node, string name)
    {
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(10) };
        string metrics = await http.GetStringAsync("/metrics");
        double delivered = 0;
        foreach (Match line in DeliveredRecords().Matches(metrics))
            if (line.Groups["labels"].Value.Contains($"DeliveryStreamName=\"{name}\"", StringComparison.Ordinal))
                delivered += double.Parse(line.Groups["value"].Value, CultureInfo.InvariantCulture);
        return delivered;
    }

    [GeneratedRegex(@"^firehose_delivery_to_s3_records(?:_total)?\{(?<labels>[^}]*)\}\s+(?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex DeliveredRecords();

    private static async Task EventuallyAsync(Func<Task<bool>> check, string what, int seconds = 30, int pollMillis = 100)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await check())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await Task.Delay(pollMillis);
        }
    }

    /// <summary>When the newest object of the bucket was written (UTC); the start of time when it has none.</summary>
    private static DateTime NewestObjectWritten(string bucket) =>
        FirehoseObjects.Keys(bucket).Select(key => File.GetLastWriteTimeUtc(Path.Combine(bucket, key))).DefaultIfEmpty(DateTime.MinValue).Max();

    private static bool Has(JsonElement element, string property) => element.TryGetProperty(property, out JsonElement _);

    /// <summary>One PutRecordBatch; the records it acknowledged (those answered with a RecordId), or null when it was not answered.</summary>
    private static async Task<IReadOnlyList<string>?> PutRecordBatchAsync(TestClient client, string name, string[] records)
    {
        var (status, answer) = await client.CallAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch(name, records));
        if (status != HttpStatusCode.OK)
        {
            Assert.True((int)status >= 500, $"PutRecordBatch answered {(int)status}: {answer}"); // a client error is a finding, not a fault to ride out
            return null;
        }
        var responses = answer.GetProperty("RequestResponses").EnumerateArray().ToList();
        Assert.Equal(records.Length, responses.Count);
        return [.. records.Where((_, i) => Has(responses[i], "RecordId") && !Has(responses[i], "ErrorCode"))];
    }

    /// <summary>One PutRecords (each record newline-ended, as the objects are read back); the records it stored.</summary>
    private static async Task<IReadOnlyList<string>?> PutRecordsAsync(TestClient client, string stream, string[] records)
    {
        string body = "{\"StreamName\":\"" + stream + "\",\"Records\":[" + string.Join(",", records.Select(r =>
            "{\"PartitionKey\":\"" + r + "\",\"Data\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(r + "\n")) + "\"}")) + "]}";
        var (status, answer) = await client.CallAsync("PutRecords", body);
        if (status != HttpStatusCode.OK)
        {
            Assert.True((int)status >= 500, $"PutRecords answered {(int)status}: {answer}");
            return null;
        }
        var results = answer.GetProperty("Records").EnumerateArray().ToList();
        Assert.Equal(records.Length, results.Count);
        return [.. records.Where((_, i) => Has(results[i], "SequenceNumber") && !Has(results[i], "ErrorCode"))];
    }

    /// <summary>
    /// Writers putting calls of <see cref="RecordsPerCall"/> fresh records, each through the nodes in turn; a node that
    /// leaves a call unanswered (it died, refused or reset) is passed over by that writer from then on. The call's records
    /// are never sent again: each may or may not be stored, so it counts as attempted, not acknowledged.
    /// </summary>
    private sealed class Load(IReadOnlyList<ServerProcess> nodes, Func<TestClient, string[], Task<IReadOnlyList<string>?>> put)
    {
        private readonly ConcurrentQueue<string> _acknowledged = new();
        private readonly ConcurrentQueue<string> _attempted = new();
        private int _unanswered, _refused;

        public int Acknowledged => _acknowledged.Count;

        public List<string> AcknowledgedRecords => [.. _acknowledged];

        public List<string> AttemptedRecords => [.. _attempted];

        public int Unanswered => Volatile.Read(ref _unanswered);

        public int Refused => Volatile.Read(ref _refused);

        /// <summary>Whether a writer ran to its last call before it was stopped.</summary>
        public bool Exhausted { get; private set; }

        public Task RunAsync(int writers, int maxCalls, CancellationToken stop) =>
            Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => WriteAsync(w, maxCalls, stop))));

        private async Task WriteAsync(int writer, int maxCalls, CancellationToken stop)
        {
            var clients = nodes.Select(n => new TestClient(n.Url)).ToList();
            try
            {
                int node = writer;
                var down = new HashSet<int>(); // nodes that did not answer this writer, passed over as a load balancer would
                for (int call = 0; !stop.IsCancellationRequested; call++)
                {
                    if (call == maxCalls)
                    {
                        Exhausted = true;
                        return;
                    }
                    var records = Enumerable.Range(0, RecordsPerCall).Select(k => $"w{writer}-{call:D5}-{k:D2}").ToArray();
                    foreach (string record in records)
                        _attempted.Enqueue(record);
                    IReadOnlyList<string>? stored;
                    try
                    {
                        stored = await put(clients[node % clients.Count], records);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        stored = null;
                    }
                    if (stored is null)
                    {
                        Interlocked.Add(ref _unanswered, records.Length);
                        if (down.Add(node % clients.Count) && down.Count == clients.Count)
                            down.Clear(); // none answered: try them all again
                    }
                    else
                    {
                        Interlocked.Add(ref _refused, records.Length - stored.Count);
                        foreach (string record in stored)
                            _acknowledged.Enqueue(record);
                    }
                    do
                        node++; // the next call through the next node
                    while (down.Contains(node % clients.Count));
                }
            }
            finally
            {
                foreach (var client in clients)
                    client.Dispose();
            }
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
