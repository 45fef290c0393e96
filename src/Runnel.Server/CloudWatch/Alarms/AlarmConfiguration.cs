using System.Text.Json;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>
/// Alarms and their webhooks as the operator configures them (docs/alarms.md): <c>"AlarmActions"</c>, an object from
/// action ARN to webhook URL, and <c>"Alarms"</c>, PutMetricAlarm requests as JSON (JSON 1.0's members), from the
/// configuration file (runnel.json) or the file <c>--alarms</c> names. The alarms are put at start-up, like
/// PutMetricAlarm calls: created when new, replaced when changed, their state kept.
/// </summary>
public sealed record AlarmConfiguration(IReadOnlyDictionary<string, Uri> Webhooks, IReadOnlyList<string> Alarms)
{
    public static readonly AlarmConfiguration Empty = new(new Dictionary<string, Uri>(), []);

    /// <summary>The two members of a JSON file's top-level object (absent members are empty); <see cref="ArgumentException"/> naming <paramref name="source"/> when they are not as documented.</summary>
    public static AlarmConfiguration Read(JsonElement root, string source)
    {
        var webhooks = new Dictionary<string, Uri>(StringComparer.Ordinal);
        var alarms = new List<string>();
        if (root.ValueKind != JsonValueKind.Object)
            return Empty;
        if (root.TryGetProperty("AlarmActions", out var actions))
        {
            if (actions.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"{source}: \"AlarmActions\" must be an object from action ARN to webhook URL.");
            foreach (var action in actions.EnumerateObject())
            {
                if (!action.Name.StartsWith("arn:", StringComparison.Ordinal))
                    throw new ArgumentException($"{source}: the action \"{action.Name}\" in \"AlarmActions\" is not an ARN (arn:aws:sns:REGION:ACCOUNT:NAME).");
                if (action.Value.ValueKind != JsonValueKind.String || !Uri.TryCreate(action.Value.GetString(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    throw new ArgumentException($"{source}: the webhook of {action.Name} must be an http:// or https:// URL.");
                webhooks[action.Name] = url;
            }
        }
        if (root.TryGetProperty("Alarms", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array)
                throw new ArgumentException($"{source}: \"Alarms\" must be a list of PutMetricAlarm requests.");
            foreach (var alarm in list.EnumerateArray())
            {
                if (alarm.ValueKind != JsonValueKind.Object)
                    throw new ArgumentException($"{source}: each of \"Alarms\" must be an object with PutMetricAlarm's members.");
                alarms.Add(alarm.GetRawText());
            }
        }
        return new AlarmConfiguration(webhooks, alarms);
    }

    /// <summary>Reads a JSON file's alarm members; <see cref="ArgumentException"/> when it is not JSON.</summary>
    public static AlarmConfiguration ReadFile(string path)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return Read(json.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path} is not JSON ({e.Message}).", e);
        }
    }

    /// <summary>Both taken together (the second's webhooks win, alarms of both are put).</summary>
    public AlarmConfiguration With(AlarmConfiguration other)
    {
        var webhooks = new Dictionary<string, Uri>(Webhooks, StringComparer.Ordinal);
        foreach (var (arn, url) in other.Webhooks)
            webhooks[arn] = url;
        return new AlarmConfiguration(webhooks, [.. Alarms, .. other.Alarms]);
    }

    /// <summary>Puts the configured alarms through the same checks as PutMetricAlarm; <see cref="ArgumentException"/> naming the one refused.</summary>
    public void Apply(AlarmOperations operations)
    {
        foreach (string text in Alarms)
        {
            using var json = JsonDocument.Parse(text);
            try
            {
                operations.PutMetricAlarm(new JsonRequest(json.RootElement));
            }
            catch (CloudWatchException e)
            {
                string name = json.RootElement.TryGetProperty("AlarmName", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "(no AlarmName)";
                throw new ArgumentException($"The configured alarm {name} is refused: {e.Message}", e);
            }
        }
    }
}
