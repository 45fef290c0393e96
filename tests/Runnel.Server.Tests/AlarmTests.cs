using System.Net;
using System.Text.Json;
using Runnel.Server.CloudWatch.Alarms;

namespace Runnel.Server.Tests;

/// <summary>
/// CloudWatch alarms end to end on a server whose minutes the test rolls: an alarm on a stream's IncomingRecords goes
/// to ALARM when a minute's records cross the threshold and back to OK when a calmer minute follows, each change
/// posted to the webhook of its action ARN in SNS's envelope and written to the history; alarms and their states
/// survive a restart; configured alarms are put at start-up; bad requests get CloudWatch's errors.
/// </summary>
public sealed class AlarmTests : IAsyncLifetime
{
    private const string Topic = "arn:aws:sns:us-east-1:000000000000:ops";
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-alarms-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(Start);
    private RestartableServer _host = null!;
    private WebhookReceiver _webhook = null!;

    public async Task InitializeAsync()
    {
        _webhook = await WebhookReceiver.StartAsync();
        var configured = JsonDocument.Parse("""
            {"AlarmActions": {"arn:aws:sns:us-east-1:000000000000:ops": "URL/hook"},
             "Alarms": [{"AlarmName": "configured", "Namespace": "AWS/Kinesis", "MetricName": "GetRecords.Records", "Statistic": "Sum",
                         "Period": 300, "EvaluationPeriods": 2, "Threshold": 0, "ComparisonOperator": "LessThanOrEqualToThreshold"}]}
            """.Replace("URL", _webhook.Url, StringComparison.Ordinal));
        _host = new RestartableServer(_dataDir, _clock, new RunnelOptions
        {
            Limits = new() { Enabled = false },
            Alarms = AlarmConfiguration.Read(configured.RootElement, "test"),
        });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _webhook.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private Task<JsonElement> CloudWatch(string operation, string body) => _host.Client.OkAsync("GraniteServiceVersion20100801." + operation, body);

    private async Task<JsonElement> AlarmAsync(string name) =>
        Assert.Single((await CloudWatch("DescribeAlarms", $$"""{"AlarmNames":["{{name}}"]}""")).GetProperty("MetricAlarms").EnumerateArray());

    private static string Records(int count) =>
        $$"""{"StreamName":"watched","Records":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"PartitionKey":"k{{i}}","Data":"AAAA"}"""))}}]}""";

    [Fact]
    public async Task An_alarm_fires_and_clears_and_each_change_reaches_its_webhook_and_the_history()
    {
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"watched","ShardCount":1}""");
        await CloudWatch("PutMetricAlarm", $$"""
            {"AlarmName":"busy","AlarmDescription":"too many records","Namespace":"AWS/Kinesis","MetricName":"IncomingRecords",
             "Dimensions":[{"Name":"StreamName","Value":"watched"}],"Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":5,
             "ComparisonOperator":"GreaterThanThreshold","TreatMissingData":"notBreaching","AlarmActions":["{{Topic}}"],"OKActions":["{{Topic}}"]}
            """);
        var created = await AlarmAsync("busy");
        Assert.Equal("INSUFFICIENT_DATA", created.GetProperty("StateValue").GetString());
        Assert.Equal("Unchecked: Initial alarm creation", created.GetProperty("StateReason").GetString());
        Assert.Equal(5.0, created.GetProperty("Threshold").GetDouble());
        Assert.False(created.TryGetProperty("DatapointsToAlarm", out _));

        long minute = Start.ToUnixTimeSeconds();
        await _host.Client.OkAsync("PutRecords", Records(4));
        await _host.Client.OkAsync("PutRecords", Records(3));
        _clock.Advance(TimeSpan.FromMinutes(1));
        _host.Server.Roller!.Roll(minute); // 7 records in the minute: over 5
        var alarmed = await AlarmAsync("busy");
        Assert.Equal("ALARM", alarmed.GetProperty("StateValue").GetString());
        string stamp = Start.UtcDateTime.ToString("dd/MM/yy HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"Threshold Crossed: 1 datapoint [7.0 ({stamp})] was greater than the threshold (5.0).", alarmed.GetProperty("StateReason").GetString());

        await _webhook.WaitForAsync(1);
        // The action's history item is written once the webhook answered: wait for it before the clock moves on, so
        // that it is stamped in the first minute (else it sorts beside the next state change).
        for (int i = 0; i < 100 && (await CloudWatch("DescribeAlarmHistory", """{"AlarmName":"busy"}""")).GetProperty("AlarmHistoryItems").GetArrayLength() < 3; i++)
            await Task.Delay(20);
        await _host.Client.OkAsync("PutRecords", Records(1));
        _clock.Advance(TimeSpan.FromMinutes(1));
        _host.Server.Roller!.Roll(minute + 60); // one record: under the threshold
        Assert.Equal("OK", (await AlarmAsync("busy")).GetProperty("StateValue").GetString());
        await _webhook.WaitForAsync(2);

        var posts = _webhook.Received.ToArray();
        Assert.All(posts, p => Assert.Equal("/hook", p.Path));
        Assert.All(posts, p => Assert.Equal("Notification", p.Headers["x-amz-sns-message-type"]));
        using var first = JsonDocument.Parse(posts[0].Body);
        Assert.Equal("Notification", first.RootElement.GetProperty("Type").GetString());
        Assert.Equal(Topic, first.RootElement.GetProperty("TopicArn").GetString());
        Assert.Equal("ALARM: \"busy\" in US East (N. Virginia)", first.RootElement.GetProperty("Subject").GetString());
        using var message = JsonDocument.Parse(first.RootElement.GetProperty("Message").GetString()!);
        var m = message.RootElement;
        Assert.Equal(["AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp", "NewStateValue", "NewStateReason", "StateChangeTime",
            "Region", "AlarmArn", "OldStateValue", "OKActions", "AlarmActions", "InsufficientDataActions", "Trigger"], m.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("ALARM", "INSUFFICIENT_DATA"), (m.GetProperty("NewStateValue").GetString(), m.GetProperty("OldStateValue").GetString()));
        Assert.Equal("SUM", m.GetProperty("Trigger").GetProperty("Statistic").GetString());
        Assert.Equal("watched", m.GetProperty("Trigger").GetProperty("Dimensions")[0].GetProperty("value").GetString());
        using var second = JsonDocument.Parse(JsonDocument.Parse(posts[1].Body).RootElement.GetProperty("Message").GetString()!);
        Assert.Equal(("OK", "ALARM"), (second.RootElement.GetProperty("NewStateValue").GetString(), second.RootElement.GetProperty("OldStateValue").GetString()));

        // The history, newest first: the two state changes, each with its action, and the creation.
        JsonElement[] items = [];
        for (int i = 0; i < 100 && items.Length < 5; i++, await Task.Delay(20))
            items = [.. (await CloudWatch("DescribeAlarmHistory", """{"AlarmName":"busy"}""")).GetProperty("AlarmHistoryItems").EnumerateArray()];
        Assert.Equal(5, items.Length);
        Assert.Equal(["Action", "StateUpdate", "Action", "StateUpdate", "ConfigurationUpdate"], items.Select(i => i.GetProperty("HistoryItemType").GetString()));
        Assert.Equal("Alarm updated from ALARM to OK", items[1].GetProperty("HistorySummary").GetString());
        Assert.Equal($"Successfully executed action {Topic}", items[0].GetProperty("HistorySummary").GetString());
        Assert.Equal("Alarm \"busy\" created", items[4].GetProperty("HistorySummary").GetString());
        var states = (await CloudWatch("DescribeAlarmHistory", """{"AlarmName":"busy","HistoryItemType":"StateUpdate","ScanBy":"TimestampAscending"}""")).GetProperty("AlarmHistoryItems");
        Assert.Equal(["Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK"], states.EnumerateArray().Select(i => i.GetProperty("HistorySummary").GetString()));
    }

    [Fact(Timeout = 60000)]
    public async Task A_failing_webhook_is_tried_again_and_an_action_without_one_fails_in_the_history()
    {
        await CloudWatch("PutMetricAlarm", $$"""
            {"AlarmName":"retried","Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Statistic":"Sum","Period":60,"EvaluationPeriods":1,
             "Threshold":5,"ComparisonOperator":"GreaterThanThreshold","AlarmActions":["{{Topic}}","arn:aws:sns:us-east-1:000000000000:nowhere"]}
            """);
        _webhook.Status = 503;
        await CloudWatch("SetAlarmState", """{"AlarmName":"retried","StateValue":"ALARM","StateReason":"by hand"}""");
        await _webhook.WaitForAsync(2); // the first attempt and the retry after 1 s, both refused
        _webhook.Status = 200;
        await _webhook.WaitForAsync(3); // the next, 2 s later, delivered
        JsonElement[] actions = [];
        for (int i = 0; i < 200 && actions.Length < 2; i++, await Task.Delay(50))
            actions = [.. (await CloudWatch("DescribeAlarmHistory", """{"AlarmName":"retried","HistoryItemType":"Action"}""")).GetProperty("AlarmHistoryItems").EnumerateArray()];
        var summaries = actions.Select(a => a.GetProperty("HistorySummary").GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, summaries.Count);
        Assert.StartsWith("Failed to execute action arn:aws:sns:us-east-1:000000000000:nowhere. Reason: no webhook is configured", summaries[0], StringComparison.Ordinal);
        Assert.Equal($"Successfully executed action {Topic}", summaries[1]);
        Assert.Equal(3, _webhook.Received.Count(r => r.Body.Contains("retried", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Alarms_and_their_states_survive_a_restart_and_configured_alarms_are_put_at_start_up()
    {
        var configured = await AlarmAsync("configured");
        Assert.Equal(300, configured.GetProperty("Period").GetInt32());
        await CloudWatch("PutMetricAlarm", """
            {"AlarmName":"kept","Namespace":"AWS/Kinesis","MetricName":"IncomingBytes","Statistic":"Average","Period":120,"EvaluationPeriods":3,
             "DatapointsToAlarm":2,"Threshold":1.5,"ComparisonOperator":"GreaterThanOrEqualToThreshold","ActionsEnabled":false,"Unit":"Bytes"}
            """);
        await CloudWatch("SetAlarmState", """{"AlarmName":"kept","StateValue":"ALARM","StateReason":"testing alarm","StateReasonData":"{\"a\":1}"}""");
        await _host.StopAsync();
        await _host.StartAsync();
        var kept = await AlarmAsync("kept");
        Assert.Equal(("ALARM", "testing alarm", "{\"a\":1}"), (kept.GetProperty("StateValue").GetString(), kept.GetProperty("StateReason").GetString(), kept.GetProperty("StateReasonData").GetString()));
        Assert.Equal((2, "Bytes", false), (kept.GetProperty("DatapointsToAlarm").GetInt32(), kept.GetProperty("Unit").GetString(), kept.GetProperty("ActionsEnabled").GetBoolean()));
        Assert.Empty(_webhook.Received); // its actions are disabled, and it has none
        var all = await CloudWatch("DescribeAlarms", """{"StateValue":"ALARM"}""");
        Assert.Equal(["kept"], all.GetProperty("MetricAlarms").EnumerateArray().Select(a => a.GetProperty("AlarmName").GetString()));
        var page = await CloudWatch("DescribeAlarms", """{"MaxRecords":1}""");
        Assert.Equal("configured", Assert.Single(page.GetProperty("MetricAlarms").EnumerateArray()).GetProperty("AlarmName").GetString());
        var next = await CloudWatch("DescribeAlarms", $$"""{"MaxRecords":1,"NextToken":"{{page.GetProperty("NextToken").GetString()}}"}""");
        Assert.Equal("kept", Assert.Single(next.GetProperty("MetricAlarms").EnumerateArray()).GetProperty("AlarmName").GetString());
        Assert.False(next.TryGetProperty("NextToken", out _));

        await CloudWatch("DeleteAlarms", """{"AlarmNames":["kept"]}""");
        Assert.Empty((await CloudWatch("DescribeAlarms", """{"AlarmNames":["kept"]}""")).GetProperty("MetricAlarms").EnumerateArray());
        Assert.NotEmpty((await CloudWatch("DescribeAlarmHistory", """{"AlarmName":"kept"}""")).GetProperty("AlarmHistoryItems").EnumerateArray()); // history outlives the alarm
    }

    [Fact]
    public async Task Bad_requests_get_CloudWatchs_errors()
    {
        async Task<(HttpStatusCode Status, JsonElement Body, string? Code)> Call(string operation, string body, bool queryMode = false)
        {
            using var request = TestClient.Request("GraniteServiceVersion20100801." + operation, body, "application/x-amz-json-1.0");
            if (queryMode)
                request.Headers.TryAddWithoutValidation("x-amzn-query-mode", "true");
            using var response = await _host.Client.Http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response.Headers.TryGetValues("x-amzn-query-error", out var code) ? code.First() : null);
        }
        var (status, body, code) = await Call("SetAlarmState", """{"AlarmName":"absent","StateValue":"OK","StateReason":"x"}""", queryMode: true);
        Assert.Equal((HttpStatusCode.NotFound, "ResourceNotFound;Sender"), (status, code));
        Assert.Equal("com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound", body.GetProperty("__type").GetString());
        Assert.False(body.TryGetProperty("message", out _));
        (status, body, _) = await Call("SetAlarmState", """{"AlarmName":"absent","StateValue":"OK","StateReason":"x"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);

        (status, body, code) = await Call("SetAlarmState", """{"AlarmName":"configured","StateValue":"INVALID","StateReason":"x"}""");
        Assert.Equal((HttpStatusCode.BadRequest, "ValidationError;Sender"), (status, code));
        Assert.Equal("com.amazon.coral.validate#ValidationException", body.GetProperty("__type").GetString());
        Assert.Equal("1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]",
            body.GetProperty("message").GetString());
        (_, body, code) = await Call("SetAlarmState", """{"AlarmName":"configured","StateValue":"OK","StateReason":"x","StateReasonData":"{nope"}""");
        Assert.Equal(("InvalidFormat;Sender", "Data was not syntactically valid JSON"), (code, body.GetProperty("message").GetString()));
        (_, body, _) = await Call("PutMetricAlarm", """{"AlarmName":"","Namespace":"n","MetricName":"m","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":1,"ComparisonOperator":"GreaterThanThreshold"}""");
        Assert.Equal("1 validation error detected: Value '' at 'alarmName' failed to satisfy constraint: Member must have length greater than or equal to 1", body.GetProperty("message").GetString());
        (_, body, _) = await Call("PutMetricAlarm", """{"AlarmName":"x","Namespace":"n","MetricName":"m","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"DatapointsToAlarm":2,"Threshold":1,"ComparisonOperator":"GreaterThanThreshold"}""");
        Assert.Equal("DatapointsToAlarm must be less than or equal to EvaluationPeriods", body.GetProperty("message").GetString());
        (_, body, _) = await Call("PutMetricAlarm", """{"AlarmName":"x","Namespace":"n","MetricName":"m","Statistic":"Sum","EvaluationPeriods":1,"Threshold":1,"ComparisonOperator":"GreaterThanThreshold"}""");
        Assert.Equal("Period must not be null", body.GetProperty("message").GetString());
        (status, _, code) = await Call("DeleteAlarms", """{"AlarmNames":["absent"]}""", queryMode: true);
        Assert.Equal((HttpStatusCode.NotFound, "ResourceNotFound;Sender"), (status, code));
        (_, _, code) = await Call("DescribeAlarms", """{"NextToken":"garbage"}""");
        Assert.Equal("InvalidNextToken;Sender", code);
    }
}
