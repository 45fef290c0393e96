using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Runnel.Core.Buffers;
using Runnel.Server;
using Xunit.Abstractions;

namespace Runnel.Server.Tests;

/// <summary>
/// Memory under sustained writes (docs/benchmarks.md, "Memory over a long write"): a PutRecords of
/// megabytes must not cost its size in fresh allocations, since those land on the large object heap,
/// which only a full collection frees; that is how RSS grew by hundreds of MiB over a few GiB written.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class MemoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int RecordsPerRequest = 500;
    private const int RecordBytes = 4096;
    private const int WarmupRequests = 3;
    private const int MeasuredRequests = 6;
    private const int MeasuredRounds = 4;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-memory-" + Guid.NewGuid().ToString("N"));
    private RunnelServer _server = null!;
    private TestClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = _dir, Limits = Runnel.Core.Throughput.ThroughputLimits.Off }, _ => { });
        await _server.StartAsync();
        _client = new TestClient(_server.Url);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact(Timeout = 60000)]
    public async Task Megabyte_put_records_allocate_far_less_than_their_size_and_the_pool_stays_bounded()
    {
        string stream = ServerFixture.UniqueName("memory");
        await _client.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
        var random = new Random(42);
        var data = new byte[RecordBytes];
        var records = new StringBuilder();
        for (int i = 0; i < RecordsPerRequest; i++)
        {
            random.NextBytes(data);
            records.Append(i == 0 ? "" : ",").Append($$"""{"PartitionKey":"k{{i}}","Data":"{{Convert.ToBase64String(data)}}"}""");
        }
        byte[] body = Encoding.UTF8.GetBytes($$"""{"StreamName":"{{stream}}","Records":[{{records}}]}""");

        // Kestrel's own block pool is not counted either: it evicts idle blocks (since .NET 10) and allocates them
        // again, more of them on a loaded machine, where a round is slower; what it allocates it reports.
        long kestrelPool = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Microsoft.AspNetCore.MemoryPool" && instrument.Name == "aspnetcore.memory_pool.allocated")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, bytes, _, _) => Interlocked.Add(ref kestrelPool, bytes));
        listener.Start();
        // Warm-up first: the JIT, Kestrel's and the pools' first buffers are allocated once, not per request.
        for (int i = 0; i < WarmupRequests; i++)
            await PutAsync(body);
        // The least of a few rounds: a collection during a round may trim the runtime's shared array pool (which
        // System.Text.Json rents a body-sized buffer from), and the arrays it then allocates again say nothing
        // about this server. Any round that allocated the body again per request would fail.
        long perRequest = long.MaxValue, poolPerRequest = 0;
        for (int round = 0; round < MeasuredRounds; round++)
        {
            long poolBefore = Interlocked.Read(ref kestrelPool);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < MeasuredRequests; i++)
                await PutAsync(body);
            long blocks = Interlocked.Read(ref kestrelPool) - poolBefore;
            long runnel = (GC.GetTotalAllocatedBytes(precise: true) - before - blocks) / MeasuredRequests;
            if (runnel < perRequest)
                (perRequest, poolPerRequest) = (runnel, blocks / MeasuredRequests);
        }
        output.WriteLine($"a PutRecords of {body.Length:N0} bytes allocated {perRequest:N0} bytes (and Kestrel's block pool {poolPerRequest:N0}, {Interlocked.Read(ref kestrelPool):N0} over the test); the pool holds {BoundedBufferPool.Default.RetainedBytes:N0}");

        // Before the fix each request allocated at least its body again (1.0x and more); now the body, the
        // batch and the response come from the pool, and what is left is small objects (keys, elements).
        Assert.True(perRequest < body.Length / 2, $"a PutRecords of {body.Length:N0} bytes allocated {perRequest:N0} bytes");
        var pool = BoundedBufferPool.Default;
        Assert.InRange(pool.RetainedBytes, 0, pool.MaxRetainedBytes);
    }

    private async Task PutAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202.PutRecords");
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await _client.Http.SendAsync(request);
        // Read as bytes and scanned, not parsed, so that the client's own allocations stay small next to the body.
        byte[] answer = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(answer.AsSpan().IndexOf("\"FailedRecordCount\":0"u8) >= 0, Encoding.UTF8.GetString(answer.AsSpan(0, Math.Min(answer.Length, 300))));
    }
}
