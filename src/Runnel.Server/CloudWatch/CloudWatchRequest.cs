using System.Globalization;
using System.Text.Json;

namespace Runnel.Server.CloudWatch;

/// <summary>
/// The members of one CloudWatch request, whatever its protocol: the query protocol's flattened form
/// (<c>Dimensions.member.1.Name</c>) or JSON 1.0's document. The operations read them through this, so that each is
/// written once.
/// </summary>
public abstract class CloudWatchRequest
{
    /// <summary>A top-level string member; null when absent.</summary>
    public abstract string? String(string name);

    /// <summary>A top-level integer member as sent (text); null when absent.</summary>
    public abstract string? Integer(string name);

    /// <summary>A top-level timestamp member in Unix seconds; null when absent.</summary>
    public abstract long? Time(string name);

    /// <summary>The strings of a top-level list member (empty when absent).</summary>
    public abstract IReadOnlyList<string> Strings(string name);

    /// <summary>The Name and Value pairs of a top-level list of dimensions (Value null where absent).</summary>
    public abstract IReadOnlyList<(string Name, string? Value)> Dimensions(string name);

    /// <summary>A structure member, read as a request of its own; null when absent.</summary>
    public abstract CloudWatchRequest? Structure(string name);

    /// <summary>The structures of a list member (empty when absent).</summary>
    public abstract IReadOnlyList<CloudWatchRequest> Structures(string name);

    /// <summary>A boolean member; null when absent.</summary>
    public bool? Boolean(string name) => String(name) switch
    {
        null => null,
        var v when v.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
        var v when v.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
        var v => throw CloudWatchException.InvalidValue($"The parameter {name} must be true or false, not {v}."),
    };

    public string Required(string name) => String(name) is { Length: > 0 } value ? value : throw CloudWatchException.Missing(name);

    public long RequiredTime(string name) => Time(name) ?? throw CloudWatchException.Missing(name);
}

/// <summary>A query-protocol request: its form's flattened members.</summary>
public sealed class FormRequest(IReadOnlyDictionary<string, string> form) : CloudWatchRequest
{
    public override string? String(string name) => form.GetValueOrDefault(name);

    public override string? Integer(string name) => form.GetValueOrDefault(name);

    public override long? Time(string name) => form.GetValueOrDefault(name) is not { } text ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at.ToUnixTimeSeconds()
            : throw CloudWatchException.InvalidValue($"The parameter {name} must be an ISO 8601 UTC timestamp, not {text}.");

    public override IReadOnlyList<string> Strings(string name)
    {
        var values = new List<string>();
        for (int i = 1; form.TryGetValue($"{name}.member.{i}", out string? value); i++)
            values.Add(value);
        return values;
    }

    public override IReadOnlyList<(string Name, string? Value)> Dimensions(string name)
    {
        var dimensions = new List<(string, string?)>();
        for (int i = 1; form.TryGetValue($"{name}.member.{i}.Name", out string? dimension); i++)
            dimensions.Add((dimension, form.GetValueOrDefault($"{name}.member.{i}.Value")));
        return dimensions;
    }

    public override CloudWatchRequest? Structure(string name) => Sub(name + ".");

    public override IReadOnlyList<CloudWatchRequest> Structures(string name)
    {
        var members = new List<CloudWatchRequest>();
        for (int i = 1; Sub($"{name}.member.{i}.") is { } member; i++)
            members.Add(member);
        return members;
    }

    /// <summary>The members under a prefix, the prefix taken off; null when there are none.</summary>
    private FormRequest? Sub(string prefix)
    {
        var members = form.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[prefix.Length..], p => p.Value, StringComparer.Ordinal);
        return members.Count == 0 ? null : new FormRequest(members);
    }
}

/// <summary>A JSON 1.0 request: its document's members (timestamps as epoch seconds, integer or fractional).</summary>
public sealed class JsonRequest(JsonElement body) : CloudWatchRequest
{
    private JsonElement? Member(string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public override string? String(string name) => Member(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.True } => "true",
        { ValueKind: JsonValueKind.False } => "false",
        _ => throw Serialization(name),
    };

    public override string? Integer(string name) => Member(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => throw Serialization(name),
    };

    public override long? Time(string name) => Member(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } n => (long)Math.Floor(n.GetDouble()),
        _ => throw Serialization(name),
    };

    public override IReadOnlyList<string> Strings(string name) => Member(name) switch
    {
        null => [],
        { ValueKind: JsonValueKind.Array } list => list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Serialization(name)).ToList(),
        _ => throw Serialization(name),
    };

    public override IReadOnlyList<(string Name, string? Value)> Dimensions(string name) => Member(name) switch
    {
        null => [],
        { ValueKind: JsonValueKind.Array } list => list.EnumerateArray()
            .Select(d => d.ValueKind == JsonValueKind.Object && d.TryGetProperty("Name", out var n) && n.ValueKind == JsonValueKind.String
                ? (n.GetString()!, d.TryGetProperty("Value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null)
                : throw Serialization(name))
            .ToList(),
        _ => throw Serialization(name),
    };

    public override CloudWatchRequest? Structure(string name) => Member(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } member => new JsonRequest(member),
        _ => throw Serialization(name),
    };

    public override IReadOnlyList<CloudWatchRequest> Structures(string name) => Member(name) switch
    {
        null => [],
        { ValueKind: JsonValueKind.Array } list => list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object ? new JsonRequest(e) : throw Serialization(name)).ToList(),
        _ => throw Serialization(name),
    };

    private static CloudWatchException Serialization(string name) => new("SerializationException", $"The member {name} is not of its type.");
}
