using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Runnel.Bench.Kinesis;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// <c>runnel-bench lambda</c>: how fast an event-source mapping gives a stream's records to a function (issue 20). The
/// records are put first; then a mapping from TRIM_HORIZON is made, and the clock runs until the console's pipeline
/// view says the function's reader is behind by nothing on every shard (a position moves only after the function
/// answered). The function is an HTTP endpoint this process serves (<c>--form http</c>: the mapping's own cost), or a
/// custom runtime's bootstrap in Python serving the Runtime API (<c>--form runtime</c>: the Runtime API's cost too).
/// </summary>
public static class LambdaScenario
{
    public sealed record Options(Uri Endpoint, long Records, int RecordBytes, int Shards, int BatchSize, int Parallelization, string Form, TimeSpan Duration)
    {
        public static Options Parse(CommandLine cl) => new(
            new Uri(cl.String("endpoint") ?? throw new ArgumentException("--endpoint URL is required")),
            cl.Int64("records", 200_000, 100),
            cl.Int32("record-bytes", 100, 1),
            cl.Int32("shards", 2, 1),
            cl.Int32("batch-size", 100, 1),
            cl.Int32("parallelization", 1, 1),
            cl.String("form", "http") is var form and ("http" or "runtime") ? form : throw new ArgumentException("--form is http or runtime"),
            TimeSpan.FromSeconds(cl.Int32("duration", 300, 1)));

        public const string Help = """
            runnel-bench lambda [options]: records put to a stream, then given by an event-source mapping to a function;
            records a second from the mapping's creation until the function's reader is caught up on every shard.
              --endpoint URL        the server (required; its console must be on: the pipeline view is read)
              --records N           records put first (default 200000)
              --record-bytes N      bytes per record (default 100)
              --shards N            the stream's shards (default 2)
              --batch-size N        the mapping's BatchSize (default 100)
              --parallelization N   the mapping's ParallelizationFactor (default 1)
              --form http|runtime   the function: an HTTP endpoint served here, or a Python bootstrap on the Runtime API (default http)
              --duration S          time cap of the mapping phase (default 300)
            """;
    }

    private const string Bootstrap = """
        #!/usr/bin/python3
        import os, urllib.request
        api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
        while True:
            with urllib.request.urlopen(api + "next") as r:
                rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
                r.read()
            urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=b"{}", method="POST")).read()
        """;

    public static async Task<bool> RunAsync(Options options, TextWriter log)
    {
        using var kinesis = new KinesisHttpClient(options.Endpoint, 10, http2: false, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = options.Endpoint, Timeout = TimeSpan.FromSeconds(60) };
        string id = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string stream = "bench-lambda-" + id, function = "bench-lambda-" + id;
        using var endpoint = options.Form == "http" ? new FunctionEndpoint() : null;
        await KinesisAsync(kinesis, "CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":{{options.Shards}}}""").ConfigureAwait(false);
        string? uuid = null;
        try
        {
            for (int i = 0; i < 100 && !(await KinesisAsync(kinesis, "DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""").ConfigureAwait(false)).Contains("\"ACTIVE\"", StringComparison.Ordinal); i++)
                await Task.Delay(100).ConfigureAwait(false);
            var put = await PutAsync(kinesis, stream, options).ConfigureAwait(false);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  put {options.Records:N0} records of {options.RecordBytes} B to {options.Shards} shards in {put.TotalSeconds:F1} s"));

            string code = endpoint is not null
                ? $$"""{"FunctionName":"{{function}}","Role":"arn:aws:iam::000000000000:role/bench","PackageType":"Image","Code":{"ImageUri":"{{endpoint.Url}}"},"Timeout":60}"""
                : $$"""{"FunctionName":"{{function}}","Role":"arn:aws:iam::000000000000:role/bench","Runtime":"provided.al2023","Handler":"h","Code":{"ZipFile":"{{Zip()}}"},"Timeout":60}""";
            await LambdaAsync(http, HttpMethod.Post, "functions", code).ConfigureAwait(false);
            long started = Stopwatch.GetTimestamp();
            var mapping = await LambdaAsync(http, HttpMethod.Post, "event-source-mappings/",
                $$"""{"FunctionName":"{{function}}","EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/{{stream}}","StartingPosition":"TRIM_HORIZON","BatchSize":{{options.BatchSize}},"ParallelizationFactor":{{options.Parallelization}}}""")
                .ConfigureAwait(false);
            uuid = mapping.GetProperty("UUID").GetString();
            bool caughtUp = false;
            var deadline = started + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            while (!caughtUp && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(50).ConfigureAwait(false);
                caughtUp = await CaughtUpAsync(http, stream, options.Shards).ConfigureAwait(false);
            }
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var invariant = CultureInfo.InvariantCulture;
            string outcome = caughtUp
                ? string.Create(invariant, $"{options.Records:N0} records given in {seconds:F2} s = {options.Records / seconds:N0} records/s")
                : string.Create(invariant, $"not caught up within {options.Duration.TotalSeconds:F0} s");
            string received = endpoint is null ? "" : string.Create(invariant, $"; {endpoint.Invocations:N0} invocations, {endpoint.Records:N0} records received");
            log.WriteLine(string.Create(invariant, $"  lambda mapping ({options.Form} function, BatchSize {options.BatchSize}, ParallelizationFactor {options.Parallelization}): {outcome}{received}"));
            return caughtUp && (endpoint is null || endpoint.Records >= options.Records);
        }
        finally
        {
            if (uuid is not null)
                await LambdaAsync(http, HttpMethod.Delete, "event-source-mappings/" + uuid, "").ConfigureAwait(false);
            await LambdaAsync(http, HttpMethod.Delete, "functions/" + function, "", allowMissing: true).ConfigureAwait(false);
            await KinesisAsync(kinesis, "DeleteStream", $$"""{"StreamName":"{{stream}}"}""").ConfigureAwait(false);
        }
    }

    /// <summary>Whether the pipeline view shows the function reading every shard with nothing behind.</summary>
    private static async Task<bool> CaughtUpAsync(HttpClient http, string stream, int shards)
    {
        using var view = JsonDocument.Parse(await http.GetStringAsync("/console/api/pipeline").ConfigureAwait(false));
        foreach (var s in view.RootElement.GetProperty("streams").EnumerateArray())
        {
            if (s.GetProperty("name").GetString() != stream)
                continue;
            foreach (var reader in s.GetProperty("consumers").EnumerateArray())
                if (reader.GetProperty("kind").GetString() == "function")
                    return reader.GetProperty("shards").GetArrayLength() >= shards && reader.GetProperty("recordsBehind").GetInt64() == 0;
        }
        return false;
    }

    private static async Task<TimeSpan> PutAsync(KinesisHttpClient kinesis, string stream, Options options)
    {
        var data = Convert.ToBase64String(new byte[options.RecordBytes]);
        long batches = (options.Records + 499) / 500;
        var started = Stopwatch.GetTimestamp();
        var load = await LoadLoop.RunAsync(8, batches, TimeSpan.FromMinutes(10), async (index, cancellation) =>
        {
            int count = (int)Math.Min(500, options.Records - index * 500);
            var json = new StringBuilder($"{{\"StreamName\":\"{stream}\",\"Records\":[");
            for (int i = 0; i < count; i++)
                json.Append(i == 0 ? "" : ",").Append("{\"PartitionKey\":\"k").Append((index * 500 + i) % 1000).Append("\",\"Data\":\"").Append(data).Append("\"}");
            json.Append("]}");
            using var response = await kinesis.SendAsync("Kinesis_20131202.PutRecords", new RequestBody(Encoding.UTF8.GetBytes(json.ToString())), cancellation).ConfigureAwait(false);
            return response.IsSuccess && !Encoding.UTF8.GetString(response.Body).Contains("\"ErrorCode\"", StringComparison.Ordinal)
                ? new Outcome(count, 0, null) : Outcome.Failed(response.IsSuccess ? "PutRecords refused records" : response.Describe());
        }).ConfigureAwait(false);
        if (load.FailedRequests > 0)
            throw new BenchException($"PutRecords failed: {load.FirstError} (run the server with --limits off)");
        return Stopwatch.GetElapsedTime(started);
    }

    private static string Zip()
    {
        var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("bootstrap");
            entry.ExternalAttributes = Convert.ToInt32("100755", 8) << 16;
            using var writer = new StreamWriter(entry.Open());
            writer.Write(Bootstrap);
        }
        return Convert.ToBase64String(buffer.ToArray());
    }

    private static async Task<string> KinesisAsync(KinesisHttpClient client, string operation, string body)
    {
        using var response = await client.SendAsync("Kinesis_20131202." + operation, new RequestBody(Encoding.UTF8.GetBytes(body))).ConfigureAwait(false);
        if (!response.IsSuccess)
            throw new BenchException($"{operation} failed: {response.Describe()}");
        return Encoding.UTF8.GetString(response.Body);
    }

    private static async Task<JsonElement> LambdaAsync(HttpClient http, HttpMethod method, string path, string body, bool allowMissing = false)
    {
        using var request = new HttpRequestMessage(method, "/2015-03-31/" + path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await http.SendAsync(request).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && !(allowMissing && response.StatusCode == HttpStatusCode.NotFound))
            throw new BenchException($"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The function as an HTTP endpoint: counts invocations and the records in them, answers <c>{}</c>.</summary>
    private sealed class FunctionEndpoint : IDisposable
    {
        private readonly HttpListener _listener = new();
        private long _invocations, _records;

        public FunctionEndpoint()
        {
            int port = FreePort();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            for (int i = 0; i < 16; i++)
                _ = ServeAsync();
        }

        public string Url { get; }

        public long Invocations => Interlocked.Read(ref _invocations);

        public long Records => Interlocked.Read(ref _records);

        private async Task ServeAsync()
        {
            byte[] answer = "{}"u8.ToArray();
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }
                using (var body = JsonDocument.Parse(context.Request.InputStream))
                    Interlocked.Add(ref _records, body.RootElement.GetProperty("Records").GetArrayLength());
                Interlocked.Increment(ref _invocations);
                context.Response.ContentLength64 = answer.Length;
                await context.Response.OutputStream.WriteAsync(answer).ConfigureAwait(false);
                context.Response.Close();
            }
        }

        private static int FreePort()
        {
            using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public void Dispose() => _listener.Close();
    }
}
