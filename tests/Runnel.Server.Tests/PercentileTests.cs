using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// CloudWatch's percentiles end to end on a server whose minutes the test rolls. A hundred PutRecords calls of 1 to 100
/// records make IncomingRecords' samples 1..100, whose percentiles are exact (values under 128 have a bucket each):
/// GetMetricStatistics answers them in each datapoint's ExtendedStatistics in JSON 1.0, the query protocol's XML and
/// RPC v2 CBOR alike, from the minute still filling and, after a restart, from the history on disk; GetMetricData
/// serves p99 stats; an alarm on p99 fires, and one that ignores low sample counts waits; bad requests get
/// CloudWatch's errors.
/// </summary>
public sealed class PercentileTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-percentiles-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(Start);
    private readonly RestartableServer _host;

    public PercentileTests() => _host = new RestartableServer(_dataDir, _clock, new RunnelOptions { Limits = new() { Enabled = false } });

    public Task InitializeAsync() => _host.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private Task<JsonElement> CloudWatch(string operation, string body) => _host.Client.OkAsync("GraniteServiceVersion20100801." + operation, body);

    /// <summary>Creates the stream and puts <paramref name="calls"/> PutRecords calls, the k-th with k records.</summary>
    private async Task PutAsync(string stream, int calls)
    {
        await _host.Client.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
        for (int k = 1; k <= calls; k++)
            await _host.Client.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{{string.Join(",", Enumerable.Range(0, k).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"AAAA"}"""))}}]}""");
    }

    private static string Statistics(string stream, string metric, string statistics) =>
        $$"""{"Namespace":"AWS/Kinesis","MetricName":"{{metric}}","Dimensions":[{"Name":"StreamName","Value":"{{stream}}"}],"StartTime":{{Start.ToUnixTimeSeconds() - 600}},"EndTime":{{Start.ToUnixTimeSeconds() + 600}},"Period":1200,{{statistics}}}""";

    private static Dictionary<string, double> Percentiles(JsonElement datapoint) =>
        datapoint.GetProperty("ExtendedStatistics").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());

    private readonly Dictionary<string, double> _expected = new() { ["p99"] = 99, ["p50"] = 50, ["p100"] = 100, ["p0.0"] = 1, ["p99.9"] = 100, ["p10"] = 10 };

    [Fact(Timeout = 60000)]
    public async Task GetMetricStatistics_answers_percentiles_in_every_protocol_and_after_a_restart()
    {
        await PutAsync("timed", 100);
        string request = Statistics("timed", "IncomingRecords", """ "Statistics":["Sum","SampleCount"],"ExtendedStatistics":["p99","p50","p100","p0.0","p99.9","p10"] """);

        // JSON 1.0, from the minute still filling.
        var point = Assert.Single((await CloudWatch("GetMetricStatistics", request)).GetProperty("Datapoints").EnumerateArray());
        Assert.Equal((5050.0, 100.0), (point.GetProperty("Sum").GetDouble(), point.GetProperty("SampleCount").GetDouble()));
        Assert.Equal(_expected, Percentiles(point));
        Assert.Equal(["Timestamp", "Sum", "SampleCount", "Unit", "ExtendedStatistics"], point.EnumerateObject().Select(p => p.Name));

        // The query protocol's XML: the map's entries after Unit, as the model orders them.
        string start = Start.AddMinutes(-10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        string end = Start.AddMinutes(10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        string form = "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FKinesis&MetricName=IncomingRecords&Dimensions.member.1.Name=StreamName"
            + $"&Dimensions.member.1.Value=timed&StartTime={start}&EndTime={end}&Period=1200&ExtendedStatistics.member.1=p99&ExtendedStatistics.member.2=p99.9";
        string xml = await FormAsync(form);
        Assert.Contains("<Unit>Count</Unit><ExtendedStatistics><entry><key>p99</key><value>99.0</value></entry><entry><key>p99.9</key><value>100.0</value></entry></ExtendedStatistics></member>", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<Sum>", xml, StringComparison.Ordinal); // only what was asked for

        // RPC v2 CBOR: the same map, its values as doubles.
        var cbor = await CborAsync("GetMetricStatistics", request);
        Assert.Equal(_expected, Percentiles(Assert.Single(cbor.GetProperty("Datapoints").EnumerateArray())));

        // A latency's percentiles lie within its minimum and maximum.
        var latency = Assert.Single((await CloudWatch("GetMetricStatistics", Statistics("timed", "PutRecords.Latency", """ "Statistics":["Minimum","Maximum"],"ExtendedStatistics":["p50","p99"] """))).GetProperty("Datapoints").EnumerateArray());
        var latencies = Percentiles(latency);
        Assert.InRange(latencies["p50"], latency.GetProperty("Minimum").GetDouble(), latencies["p99"]);
        Assert.InRange(latencies["p99"], latencies["p50"], latency.GetProperty("Maximum").GetDouble());

        // Rolled into the history, then read back from disk by a server started again.
        _clock.Advance(TimeSpan.FromMinutes(1));
        _host.Server.Roller!.Roll(Start.ToUnixTimeSeconds());
        await _host.StopAsync();
        await _host.StartAsync();
        var reread = Assert.Single((await CloudWatch("GetMetricStatistics", request)).GetProperty("Datapoints").EnumerateArray());
        Assert.Equal(_expected, Percentiles(reread));
        Assert.Equal(5050.0, reread.GetProperty("Sum").GetDouble());
    }

    [Fact(Timeout = 60000)]
    public async Task GetMetricData_serves_percentile_stats()
    {
        await PutAsync("data", 100);
        long from = Start.ToUnixTimeSeconds() - 600, to = Start.ToUnixTimeSeconds() + 600;
        var answer = await CloudWatch("GetMetricData", $$$"""
            {"StartTime":{{{from}}},"EndTime":{{{to}}},"MetricDataQueries":[
              {"Id":"p","MetricStat":{"Metric":{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"data"}]},"Period":1200,"Stat":"p99"}},
              {"Id":"q","MetricStat":{"Metric":{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"data"}]},"Period":1200,"Stat":"p99.9"}},
              {"Id":"spread","Expression":"q - p"}]}
            """);
        var results = answer.GetProperty("MetricDataResults").EnumerateArray().ToDictionary(r => r.GetProperty("Id").GetString()!, r => r.GetProperty("Values").EnumerateArray().Select(v => v.GetDouble()).ToList());
        Assert.Equal([99.0], results["p"]);
        Assert.Equal([100.0], results["q"]);
        Assert.Equal([1.0], results["spread"]);
        var labels = answer.GetProperty("MetricDataResults").EnumerateArray().Select(r => r.GetProperty("Label").GetString()).ToList();
        Assert.Equal(["IncomingRecords p99", "IncomingRecords p99.9", "spread"], labels); // the stat in the label where two queries name one metric
    }

    [Fact(Timeout = 60000)]
    public async Task An_alarm_on_p99_fires_and_one_that_ignores_few_samples_waits_for_enough()
    {
        await PutAsync("alarmed", 100);
        const string Alarm = """
            {"AlarmName":"NAME","Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"alarmed"}],
             "ExtendedStatistic":"p99","Period":60,"EvaluationPeriods":1,"Threshold":90,"ComparisonOperator":"GreaterThanThreshold"LOW}
            """;
        await CloudWatch("PutMetricAlarm", Alarm.Replace("NAME", "slow", StringComparison.Ordinal).Replace("LOW", "", StringComparison.Ordinal));
        await CloudWatch("PutMetricAlarm", Alarm.Replace("NAME", "patient", StringComparison.Ordinal).Replace("LOW", ""","EvaluateLowSampleCountPercentile":"ignore" """, StringComparison.Ordinal));
        _clock.Advance(TimeSpan.FromMinutes(1));
        _host.Server.Roller!.Roll(Start.ToUnixTimeSeconds()); // the minute's p99 is 99: over 90

        var alarms = (await CloudWatch("DescribeAlarms", """{"AlarmNames":["slow","patient"]}""")).GetProperty("MetricAlarms").EnumerateArray().ToDictionary(a => a.GetProperty("AlarmName").GetString()!);
        var slow = alarms["slow"];
        Assert.Equal("ALARM", slow.GetProperty("StateValue").GetString());
        string stamp = Start.UtcDateTime.ToString("dd/MM/yy HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal($"Threshold Crossed: 1 datapoint [99.0 ({stamp})] was greater than the threshold (90.0).", slow.GetProperty("StateReason").GetString());
        Assert.Equal("p99", slow.GetProperty("ExtendedStatistic").GetString());
        Assert.False(slow.TryGetProperty("Statistic", out _));
        Assert.False(slow.TryGetProperty("EvaluateLowSampleCountPercentile", out _));
        using (var data = JsonDocument.Parse(slow.GetProperty("StateReasonData").GetString()!))
            Assert.Equal("p99", data.RootElement.GetProperty("statistic").GetString());
        // 100 samples are fewer than the 1,000 a p99 needs (10/(1-0.99)): the alarm that ignores them keeps its state.
        Assert.Equal("INSUFFICIENT_DATA", alarms["patient"].GetProperty("StateValue").GetString());
        Assert.Equal("ignore", alarms["patient"].GetProperty("EvaluateLowSampleCountPercentile").GetString());

        await _host.StopAsync();
        await _host.StartAsync();
        var kept = Assert.Single((await CloudWatch("DescribeAlarms", """{"AlarmNames":["patient"]}""")).GetProperty("MetricAlarms").EnumerateArray());
        Assert.Equal(("p99", "ignore"), (kept.GetProperty("ExtendedStatistic").GetString(), kept.GetProperty("EvaluateLowSampleCountPercentile").GetString()));
        var forMetric = (await CloudWatch("DescribeAlarmsForMetric", """{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","ExtendedStatistic":"p99"}""")).GetProperty("MetricAlarms");
        Assert.Equal(2, forMetric.GetArrayLength());
    }

    [Fact(Timeout = 60000)]
    public async Task Bad_percentiles_get_CloudWatchs_errors()
    {
        const string Invalid = "com.amazonaws.cloudwatch.v2010_08_01#InvalidParameterValueException";
        const string Validation = "com.amazon.coral.validate#ValidationException";
        async Task<string> Error(string operation, string body, string type) => await _host.Client.ErrorMessageAsync("GraniteServiceVersion20100801." + operation, body, type);

        string eleven = string.Join(",", Enumerable.Range(1, 11).Select(i => $"\"p{i}\""));
        Assert.Equal("The collection ExtendedStatistics must not have more than 10 members.",
            await Error("GetMetricStatistics", Statistics("x", "IncomingRecords", $"\"ExtendedStatistics\":[{eleven}]"), Invalid));
        Assert.Equal(@"The value p99.999 for parameter ExtendedStatistics.member.2 is not matching the expected pattern p(\d{1,2}(\.\d{0,2})?|100).",
            await Error("GetMetricStatistics", Statistics("x", "IncomingRecords", "\"ExtendedStatistics\":[\"p99\",\"p99.999\"]"), Invalid));
        Assert.Contains("p101", await Error("GetMetricStatistics", Statistics("x", "IncomingRecords", "\"ExtendedStatistics\":[\"p101\"]"), Invalid), StringComparison.Ordinal);
        Assert.Equal("Must specify either Statistics or ExtendedStatistics.",
            await Error("GetMetricStatistics", Statistics("x", "IncomingRecords", "\"Unit\":\"Count\""), "com.amazonaws.cloudwatch.v2010_08_01#InvalidParameterCombinationException"));
        Assert.Contains("tm99", await Error("GetMetricData", """
            {"StartTime":0,"EndTime":600,"MetricDataQueries":[{"Id":"m","MetricStat":{"Metric":{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords"},"Period":60,"Stat":"tm99"}}]}
            """, Invalid), StringComparison.Ordinal);

        const string Alarm = """{"AlarmName":"a","Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Period":60,"EvaluationPeriods":1,"Threshold":1,"ComparisonOperator":"GreaterThanThreshold",""";
        Assert.Contains("cannot both be given", await Error("PutMetricAlarm", Alarm + """ "Statistic":"Sum","ExtendedStatistic":"p99"} """, Validation), StringComparison.Ordinal);
        Assert.Equal("Option sometimes is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore.",
            await Error("PutMetricAlarm", Alarm + """ "ExtendedStatistic":"p99","EvaluateLowSampleCountPercentile":"sometimes"} """, Validation));
        Assert.Contains("not served", await Error("PutMetricAlarm", Alarm + """ "ExtendedStatistic":"IQM"} """, Validation), StringComparison.Ordinal);
        Assert.Contains("expected pattern", await Error("PutMetricAlarm", Alarm + """ "ExtendedStatistic":"p-1"} """, Validation), StringComparison.Ordinal);
        Assert.Contains("percentile alarms", await Error("PutMetricAlarm", Alarm + """ "Statistic":"Sum","EvaluateLowSampleCountPercentile":"ignore"} """, Validation), StringComparison.Ordinal);
        Assert.Equal("Statistic must not be null", await Error("PutMetricAlarm", Alarm.TrimEnd(',') + "}", Validation));
    }

    private async Task<string> FormAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await _host.Client.Http.SendAsync(request);
        string xml = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, xml);
        return xml;
    }

    /// <summary>An RPC v2 CBOR call with the JSON request's members; the CBOR answer read back as JSON.</summary>
    private async Task<JsonElement> CborAsync(string operation, string json)
    {
        using var document = JsonDocument.Parse(json);
        var cbor = new System.Formats.Cbor.CborWriter();
        cbor.WriteStartMap(null);
        foreach (var member in document.RootElement.EnumerateObject())
        {
            cbor.WriteTextString(member.Name);
            Write(cbor, member.Value);
        }
        cbor.WriteEndMap();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/service/GraniteServiceVersion20100801/operation/{operation}") { Content = new ByteArrayContent(cbor.Encode()) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/cbor");
        request.Headers.TryAddWithoutValidation("smithy-protocol", "rpc-v2-cbor");
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await _host.Client.Http.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, Convert.ToHexString(body));
        AssertDoublesIn(new System.Formats.Cbor.CborReader(body));
        return JsonDocument.Parse(Runnel.Server.CloudWatch.CborEndpoint.ToJson(body)).RootElement.Clone();

        static void Write(System.Formats.Cbor.CborWriter cbor, JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Array:
                    cbor.WriteStartArray(null);
                    foreach (var item in value.EnumerateArray())
                        Write(cbor, item);
                    cbor.WriteEndArray();
                    break;
                case JsonValueKind.Object:
                    cbor.WriteStartMap(null);
                    foreach (var member in value.EnumerateObject())
                    {
                        cbor.WriteTextString(member.Name);
                        Write(cbor, member.Value);
                    }
                    cbor.WriteEndMap();
                    break;
                case JsonValueKind.Number:
                    cbor.WriteInt64(value.GetInt64());
                    break;
                default:
                    cbor.WriteTextString(value.GetString()!);
                    break;
            }
        }
    }

    /// <summary>Every value of an ExtendedStatistics map in a CBOR answer is a double, as the model's DatapointValue is.</summary>
    private static void AssertDoublesIn(System.Formats.Cbor.CborReader reader)
    {
        int maps = 0;
        bool inPercentiles = false;
        while (reader.PeekState() != System.Formats.Cbor.CborReaderState.Finished)
        {
            switch (reader.PeekState())
            {
                case System.Formats.Cbor.CborReaderState.StartMap:
                    reader.ReadStartMap();
                    break;
                case System.Formats.Cbor.CborReaderState.EndMap:
                    reader.ReadEndMap();
                    inPercentiles = false;
                    break;
                case System.Formats.Cbor.CborReaderState.StartArray:
                    reader.ReadStartArray();
                    break;
                case System.Formats.Cbor.CborReaderState.EndArray:
                    reader.ReadEndArray();
                    break;
                case System.Formats.Cbor.CborReaderState.TextString:
                    string text = reader.ReadTextString();
                    if (text == "ExtendedStatistics")
                    {
                        reader.ReadStartMap();
                        inPercentiles = true;
                        maps++;
                    }
                    else if (inPercentiles)
                    {
                        Assert.Equal(System.Formats.Cbor.CborReaderState.DoublePrecisionFloat, reader.PeekState());
                    }
                    break;
                default:
                    reader.SkipValue();
                    break;
            }
        }
        Assert.True(maps > 0, "no ExtendedStatistics in the CBOR answer");
    }
}
