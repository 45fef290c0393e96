using System.Text;
using System.Text.Json;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>One state change whose actions run: the alarm as it is now and the state it left.</summary>
public sealed record AlarmTransition(MetricAlarm Alarm, string OldState, long ChangedMillis);

/// <summary>
/// Runs alarm actions: posts CloudWatch's alarm notification, in the envelope an SNS HTTP subscription receives, to
/// the webhook configured for the action's ARN (<c>--alarms</c> file, docs/alarms.md), retried with backoff, each
/// failure logged. An ARN without a webhook fails at once, logged and written to the history. Thread-safe.
/// </summary>
public sealed class AlarmNotifier(IReadOnlyDictionary<string, Uri> webhooks, HttpClient http, string region, string accountId, Action<string> warn)
{
    /// <summary>Attempts per notification, with 1, 2, 4, … seconds between them.</summary>
    public int Attempts { get; init; } = 5;

    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Posts the notification of <paramref name="transition"/> for one action; the failure's reason, or null when it was delivered.</summary>
    public async Task<string?> SendAsync(string actionArn, AlarmTransition transition, CancellationToken cancel)
    {
        if (!webhooks.TryGetValue(actionArn, out var url))
        {
            string reason = $"no webhook is configured for {actionArn} (add it to the \"AlarmActions\" of the --alarms file)";
            warn($"Alarm {transition.Alarm.Name}: action {actionArn} was not run: {reason}.");
            return reason;
        }
        string body = Envelope(actionArn, transition);
        string? last = null;
        var backoff = FirstBackoff;
        for (int attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Content.Headers.ContentType!.CharSet = "UTF-8";
                request.Headers.TryAddWithoutValidation("x-amz-sns-message-type", "Notification");
                request.Headers.TryAddWithoutValidation("x-amz-sns-topic-arn", actionArn);
                using var response = await http.SendAsync(request, cancel).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                    return null;
                last = $"the webhook {url} answered HTTP {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                last = $"the webhook {url} could not be reached ({e.Message})";
            }
            warn($"Alarm {transition.Alarm.Name}: action {actionArn}, attempt {attempt} of {Attempts}: {last}" + (attempt < Attempts ? $"; trying again in {backoff.TotalSeconds:0} s." : "; giving up."));
            if (attempt < Attempts)
            {
                await Task.Delay(backoff, cancel).ConfigureAwait(false);
                backoff *= 2;
            }
        }
        return last;
    }

    /// <summary>The SNS HTTP notification: Type, MessageId, TopicArn, Subject, Message (the alarm's JSON as a string), Timestamp. Unsigned.</summary>
    public string Envelope(string topicArn, AlarmTransition transition)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(2048);
        using (var json = new Utf8JsonWriter(buffer, AlarmHistoryData.Readable))
        {
            json.WriteStartObject();
            json.WriteString("Type", "Notification");
            json.WriteString("MessageId", Guid.NewGuid().ToString("D"));
            json.WriteString("TopicArn", topicArn);
            json.WriteString("Subject", $"{transition.Alarm.StateValue}: \"{transition.Alarm.Name}\" in {RegionName(region)}");
            json.WriteString("Message", Message(transition));
            json.WriteString("Timestamp", DateTimeOffset.FromUnixTimeMilliseconds(transition.ChangedMillis).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>CloudWatch's alarm notification JSON, its members in AWS's order (docs/adr/0003-observability-facts.md, 5.5).</summary>
    public string Message(AlarmTransition transition)
    {
        var a = transition.Alarm;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(2048);
        using (var json = new Utf8JsonWriter(buffer, AlarmHistoryData.Readable))
        {
            json.WriteStartObject();
            json.WriteString("AlarmName", a.Name);
            if (a.Description is { } description)
                json.WriteString("AlarmDescription", description);
            else
                json.WriteNull("AlarmDescription");
            json.WriteString("AWSAccountId", accountId);
            json.WriteString("AlarmConfigurationUpdatedTimestamp", AlarmEvaluation.JsonDate(a.ConfigurationUpdatedMillis));
            json.WriteString("NewStateValue", a.StateValue);
            json.WriteString("NewStateReason", a.StateReason);
            json.WriteString("StateChangeTime", AlarmEvaluation.JsonDate(transition.ChangedMillis));
            json.WriteString("Region", RegionName(region));
            json.WriteString("AlarmArn", a.Arn);
            json.WriteString("OldStateValue", transition.OldState);
            AlarmHistoryData.Strings(json, "OKActions", a.OkActions);
            AlarmHistoryData.Strings(json, "AlarmActions", a.AlarmActions);
            AlarmHistoryData.Strings(json, "InsufficientDataActions", a.InsufficientDataActions);
            json.WriteStartObject("Trigger");
            json.WriteString("MetricName", a.MetricName);
            json.WriteString("Namespace", a.Namespace);
            if (a.ExtendedStatistic is { } extended)
            {
                json.WriteString("StatisticType", "ExtendedStatistic");
                json.WriteString("ExtendedStatistic", extended);
            }
            else
            {
                json.WriteString("StatisticType", "Statistic");
                json.WriteString("Statistic", a.StatisticName.ToUpperInvariant());
            }
            if (a.Unit is { } unit)
                json.WriteString("Unit", unit);
            else
                json.WriteNull("Unit");
            AlarmHistoryData.Dimensions(json, "Dimensions", a.Dimensions);
            json.WriteNumber("Period", a.Period);
            json.WriteNumber("EvaluationPeriods", a.EvaluationPeriods);
            if (a.DatapointsToAlarm is { } m)
                json.WriteNumber("DatapointsToAlarm", m);
            json.WriteString("ComparisonOperator", a.ComparisonOperator);
            json.WritePropertyName("Threshold");
            json.WriteRawValue(CloudWatchOperations.Format(a.Threshold), skipInputValidation: true);
            json.WriteString("TreatMissingData", a.TreatMissingData ?? "");
            json.WriteString("EvaluateLowSampleCountPercentile", a.EvaluateLowSampleCountPercentile ?? "");
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A region's long name, as the notifications name it ("US East (N. Virginia)"); the code for others.</summary>
    public static string RegionName(string code) => code switch
    {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-north-1" => "EU (Stockholm)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ca-central-1" => "Canada (Central)",
        "sa-east-1" => "South America (Sao Paulo)",
        _ => code,
    };
}
