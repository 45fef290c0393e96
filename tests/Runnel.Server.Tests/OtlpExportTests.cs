using System.Text;

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
