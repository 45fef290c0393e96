using Runnel.Core.Metrics;
using Runnel.Storage.Metrics;

namespace Runnel.Server.Tests;

/// <summary>
/// The minute roll: what a minute's requests recorded becomes CloudWatch's statistic set in the on-disk history
/// (SampleCount and Sum exact, Minimum and Maximum of the minute's samples, latencies in milliseconds, the samples'
/// distribution), and a minute without requests writes nothing for the series.
/// </summary>
public sealed class MetricHistoryServerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-metric-roll-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(Start);
    private readonly RestartableServer _host;

    public MetricHistoryServerTests() => _host = new RestartableServer(_dataDir, _clock, new RunnelOptions { Limits = new() { Enabled = false } });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private static string Records(int count) =>
        $$"""{"StreamName":"rolled","Records":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"AAAA"}"""))}}]}""";

    [Fact]
    public async Task A_minutes_requests_become_its_statistic_sets_and_a_quiet_minute_writes_none()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"rolled","ShardCount":1}""");
        await _host.Client.OkAsync("PutRecords", Records(3));
        await _host.Client.OkAsync("PutRecords", Records(2));
        long minute = Start.ToUnixTimeSeconds();
        var roller = _host.Server.Roller!;
        var history = _host.Server.MetricHistory!;
        roller.Roll(minute);

        var incoming = new MetricSeries("AWS/Kinesis", "IncomingRecords", [new("StreamName", "rolled")], "Count");
        var (at, unit, statistics) = Assert.Single(history.Read(incoming.Key, minute, minute + 60));
        Assert.Equal((minute, "Count"), (at, unit));
        Assert.Equal(new StatisticSet(2, 5, 2, 3) { Distribution = new ValueDistribution(1, [2, 3], [1, 1]) }, statistics);
        var bytes = new MetricSeries("AWS/Kinesis", "PutRecords.Bytes", [new("StreamName", "rolled")], "Bytes");
        Assert.Equal(new StatisticSet(2, 15, 6, 9) { Distribution = new ValueDistribution(1, [6, 9], [1, 1]) }, Assert.Single(history.Read(bytes.Key, minute, minute + 60)).Statistics);
        var latency = new MetricSeries("AWS/Kinesis", "PutRecords.Latency", [new("StreamName", "rolled")], "Milliseconds");
        Assert.Equal("Milliseconds", Assert.Single(history.Read(latency.Key, minute, minute + 60)).Unit);
        Assert.Contains(history.Series(), s => s.Series.Key == incoming.Key);

        roller.Roll(minute + 60); // nothing happened in the next minute
        Assert.Empty(history.Read(incoming.Key, minute + 60, minute + 120));
        await _host.Client.OkAsync("PutRecords", Records(4));
        roller.Roll(minute + 120);
        Assert.Equal(new StatisticSet(1, 4, 4, 4) { Distribution = new ValueDistribution(1, [4], [1]) }, Assert.Single(history.Read(incoming.Key, minute + 120, minute + 180)).Statistics);
        Assert.True(File.Exists(Path.Combine(_dataDir, "metrics", Start.UtcDateTime.ToString("yyyyMMddHH", System.Globalization.CultureInfo.InvariantCulture) + ".jsonl")));
    }
    [Fact]
    public async Task Shard_level_metrics_enabled_by_enhanced_monitoring_are_kept_per_shard()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"rolled","ShardCount":2}""");
        await _host.Client.OkAsync("EnableEnhancedMonitoring", """{"StreamName":"rolled","ShardLevelMetrics":["IncomingRecords","IteratorAgeMilliseconds"]}""");
        await _host.Client.OkAsync("PutRecords", """{"StreamName":"rolled","Records":[{"PartitionKey":"a","ExplicitHashKey":"0","Data":"AAAA"},{"PartitionKey":"b","ExplicitHashKey":"1","Data":"AAAA"},{"PartitionKey":"c","ExplicitHashKey":"2","Data":"AAAA"}]}""");
        string iterator = (await _host.Client.OkAsync("GetShardIterator", """{"StreamName":"rolled","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        var read = await _host.Client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}","Limit":1}""");
        await _host.Client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{read.GetProperty("NextShardIterator").GetString()}}"}""");
        long minute = Start.ToUnixTimeSeconds();
        _host.Server.Roller!.Roll(minute);
        var history = _host.Server.MetricHistory!;
        var incoming = new MetricSeries("AWS/Kinesis", "IncomingRecords", [new("ShardId", "shardId-000000000000"), new("StreamName", "rolled")], "Count");
        Assert.Equal(new StatisticSet(1, 3, 3, 3) { Distribution = new ValueDistribution(1, [3], [1]) }, Assert.Single(history.Read(incoming.Key, minute, minute + 60)).Statistics); // a counter: one sample of the minute's total
        var age = new MetricSeries("AWS/Kinesis", "IteratorAgeMilliseconds", [new("ShardId", "shardId-000000000000"), new("StreamName", "rolled")], "Milliseconds");
        Assert.Equal(2, Assert.Single(history.Read(age.Key, minute, minute + 60)).Statistics.SampleCount); // one sample per GetRecords call
        var other = new MetricSeries("AWS/Kinesis", "IncomingRecords", [new("ShardId", "shardId-000000000001"), new("StreamName", "rolled")], "Count");
        Assert.Empty(history.Read(other.Key, minute, minute + 60)); // no record went there
        var outgoing = new MetricSeries("AWS/Kinesis", "OutgoingRecords", [new("ShardId", "shardId-000000000000"), new("StreamName", "rolled")], "Count");
        Assert.Empty(history.Read(outgoing.Key, minute, minute + 60)); // not enabled
        await _host.Client.OkAsync("PutRecord", """{"StreamName":"rolled","PartitionKey":"d","ExplicitHashKey":"3","Data":"AAAA"}""");
        _host.Server.Roller!.Roll(minute + 60);
        Assert.Equal(1, Assert.Single(history.Read(incoming.Key, minute + 60, minute + 120)).Statistics.Sum); // the next minute's own
    }

    [Fact]
    public async Task Form_requests_signed_for_monitoring_reach_CloudWatch_and_others_the_Kinesis_endpoint_as_before()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"rolled","ShardCount":1}""");
        await _host.Client.OkAsync("PutRecords", Records(2));
        async Task<(int Status, string Body)> Form(string service, string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") };
            request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
            request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
            using var response = await _host.Client.Http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        string start = Start.AddMinutes(-5).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        string end = Start.AddMinutes(5).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        string query = "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FKinesis&MetricName=IncomingRecords" +
            $"&Dimensions.member.1.Name=StreamName&Dimensions.member.1.Value=rolled&StartTime={start}&EndTime={end}&Period=600&Statistics.member.1=Sum";
        var (status, xml) = await Form("monitoring", query);
        Assert.Equal(200, status);
        Assert.StartsWith("<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><GetMetricStatisticsResult><Datapoints><member>", xml, StringComparison.Ordinal);
        Assert.Contains("<Sum>2.0</Sum><Unit>Count</Unit>", xml, StringComparison.Ordinal); // the minute still filling is read too
        var (unknown, error) = await Form("monitoring", "Action=DescribeAnomalyDetectors&Version=2010-08-01");
        Assert.Equal(400, unknown);
        Assert.Contains("<Code>InvalidAction</Code>", error, StringComparison.Ordinal);
        var (kinesis, _) = await Form("kinesis", query);
        Assert.Equal(403, kinesis); // the Kinesis endpoint's answer to a request without a target, as before
    }
}
