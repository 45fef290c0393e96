using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Runnel.Server.Tests;

/// <summary>
/// <c>--otlp-endpoint</c>: the metrics of <c>/metrics</c> also reach an OpenTelemetry collector, here a receiver the test
/// runs at <c>/v1/metrics</c> (OTLP over HTTP with protobuf bodies): the stream's counters arrive, named as at
/// <c>/metrics</c> and labelled with the stream.
/// </summary>
public sealed class OtlpExportTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-otlp-" + Guid.NewGuid().ToString("N"));
    private WebhookReceiver _collector = null!;
    private RestartableServer _host = null!;

    public async Task InitializeAsync()
    {
        _collector = await WebhookReceiver.StartAsync();
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions
        {
            Limits = new() { Enabled = false },
            OtlpEndpoint = new Uri(_collector.Url + "/v1/metrics"),
            OtlpInterval = TimeSpan.FromMilliseconds(500),
        });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _collector.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact(Timeout = 60000)]
    public async Task The_metrics_reach_an_OTLP_collector()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"exported","ShardCount":1}""");
        await _host.Client.OkAsync("PutRecord", """{"StreamName":"exported","PartitionKey":"k","Data":"AAAA"}""");
        (string Path, IReadOnlyDictionary<string, string> Headers, string Body) export = default;
        for (var until = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < until; await Task.Delay(100))
        {
            export = _collector.Received.LastOrDefault(r => r.Body.Contains("kinesis_incoming_records", StringComparison.Ordinal) && r.Body.Contains("exported", StringComparison.Ordinal));
            if (export.Body is not null)
                break;
        }
        Assert.NotNull(export.Body);
        Assert.Equal("/v1/metrics", export.Path);
        Assert.Equal("application/x-protobuf", export.Headers!["Content-Type"]);
        Assert.Contains("StreamName", export.Body!, StringComparison.Ordinal); // the label, as at /metrics
        Assert.Contains("kinesis_put_record_latency", export.Body, StringComparison.Ordinal);
    }
}

/// <summary>
/// <c>--otlp-endpoint</c> without the <c>/v1/metrics</c> path: OTLP over gRPC (HTTP/2, here cleartext), to a collector
/// the test runs that answers the MetricsService's Export as gRPC does (a framed empty response, <c>grpc-status</c> 0 in
/// the trailers): the stream's counters arrive in the protobuf export.
/// </summary>
public sealed class OtlpGrpcExportTests : IAsyncLifetime
{
    private const string ExportPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-otlp-grpc-" + Guid.NewGuid().ToString("N"));
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Path, string ContentType, byte[] Message)> _received = new();
    private Microsoft.AspNetCore.Builder.WebApplication _collector = null!;
    private RestartableServer _host = null!;

    public async Task InitializeAsync()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0,
            listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        _collector = builder.Build();
        _collector.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            byte[] frame = body.ToArray();
            // A gRPC message: a compressed flag, a 4-byte big-endian length, the protobuf message.
            byte[] message = frame.Length >= 5 ? frame[5..(5 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1, 4)))] : [];
            _received.Enqueue((context.Request.Path.Value ?? "", context.Request.ContentType ?? "", message));
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(new byte[5]); // an empty ExportMetricsServiceResponse
            context.Response.AppendTrailer("grpc-status", "0");
        });
        await _collector.StartAsync();
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions
        {
            Limits = new() { Enabled = false },
            OtlpEndpoint = new Uri(_collector.Urls.First()),
            OtlpInterval = TimeSpan.FromMilliseconds(500),
        });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _collector.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    [Fact(Timeout = 60000)]
    public async Task The_metrics_reach_an_OTLP_collector_over_gRPC()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"exported-grpc","ShardCount":1}""");
        await _host.Client.OkAsync("PutRecord", """{"StreamName":"exported-grpc","PartitionKey":"k","Data":"AAAA"}""");
        (string Path, string ContentType, byte[] Message) export = default;
        for (var until = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < until; await Task.Delay(100))
        {
            export = _received.LastOrDefault(r => Text(r.Message).Contains("kinesis_incoming_records", StringComparison.Ordinal)
                && Text(r.Message).Contains("exported-grpc", StringComparison.Ordinal));
            if (export.Message is not null)
                break;
        }
        Assert.True(export.Message is not null, $"no export named the stream's incoming records; {_received.Count} requests: {string.Join(", ", _received.Select(r => r.Path))}");
        Assert.Equal(ExportPath, export.Path);
        Assert.StartsWith("application/grpc", export.ContentType, StringComparison.Ordinal);
        Assert.Contains("StreamName", Text(export.Message), StringComparison.Ordinal); // the label, as at /metrics
        Assert.Contains("kinesis_put_record_latency", Text(export.Message), StringComparison.Ordinal);
    }

    private static string Text(byte[] message) => Encoding.UTF8.GetString(message);
}
