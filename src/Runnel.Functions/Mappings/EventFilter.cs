using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runnel.Functions.Mappings;

/// <summary>
/// The filter criteria of an event-source mapping (<c>{"Filters": [{"Pattern": "JSON text"}]}</c>), parsed once and
/// asked of each Kinesis record before it joins a batch. As Lambda documents it: a record is kept when any filter
/// matches (filters are ORed); within a pattern every field must match (AND), a field's array lists alternatives,
/// <c>"$or"</c> lists alternative patterns; the syntax is EventBridge's event patterns (exact strings, numbers, booleans
/// and null; <c>""</c>; prefix, suffix, equals-ignore-case, anything-but, numeric, exists).
/// <para>
/// For Kinesis the pattern's top level sees the record's fields as Lambda gives them to the function:
/// <c>kinesisSchemaVersion</c>, <c>partitionKey</c>, <c>sequenceNumber</c>, <c>approximateArrivalTimestamp</c> (a
/// number, seconds) and <c>data</c>, matched inside the record's data parsed as JSON. A pattern for <c>data</c> must be
/// an object (Lambda refuses any other at CreateEventSourceMapping); when the data is not valid JSON, a filter that
/// names <c>data</c> does not match (Lambda drops the record) while a filter on the other fields still may. Any other
/// top-level key is absent from a Kinesis record, so only <c>{"exists": false}</c> matches it. (Lambda's Kinesis page
/// now says Kinesis mappings filter on <c>data</c> only; its general page and EventBridge Pipes, which filter the same
/// way, show <c>partitionKey</c> filters. Those are kept: a superset refuses nothing Lambda accepts.)
/// </para>
/// Immutable once parsed; thread-safe.
/// </summary>
public sealed class EventFilter
{
    /// <summary>The key of the record's data in a pattern, and of nothing else.</summary>
    internal const string DataKey = "data";

    /// <summary>As <see cref="KinesisEvent"/> writes it.</summary>
    private const string KinesisSchemaVersion = "1.0";

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly FilterPattern[] _patterns;

    private EventFilter(FilterPattern[] patterns, bool namesData) => (_patterns, NamesData) = (patterns, namesData);

    /// <summary>How many filters there are (each one pattern).</summary>
    public int Count => _patterns.Length;

    /// <summary>Whether some filter names <c>data</c>, so a record's data is parsed as JSON before matching.</summary>
    public bool NamesData { get; }

    /// <summary>Parses the filters' patterns (the <c>Pattern</c> texts, in order).</summary>
    /// <exception cref="ArgumentException">No pattern is given.</exception>
    /// <exception cref="FormatException">A pattern is not valid; the message names the filter (from 1) and what is wrong.</exception>
    public static EventFilter Parse(IReadOnlyList<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        if (patterns.Count == 0)
            throw new ArgumentException("There is no filter pattern to parse.", nameof(patterns));
        var parsed = new FilterPattern[patterns.Count];
        bool namesData = false;
        for (int i = 0; i < parsed.Length; i++)
        {
            try
            {
                parsed[i] = FilterPatternParser.Parse(patterns[i], out bool names);
                namesData |= names;
            }
            catch (FormatException e)
            {
                throw new FormatException($"Filter {i + 1}: {e.Message}", e);
            }
        }
        return new EventFilter(parsed, namesData);
    }

    /// <summary>
    /// The filter of a mapping's <c>FilterCriteria</c> as given, or null when there is nothing to filter by: no
    /// criteria, no <c>Filters</c> or an empty list (an empty <c>FilterCriteria</c> is how Lambda's callers remove them).
    /// </summary>
    /// <exception cref="FormatException"><c>Filters</c> is not a list of <c>{"Pattern": string}</c>, or a pattern is not valid.</exception>
    public static EventFilter? FromCriteria(JsonObject? filterCriteria)
    {
        if (filterCriteria?["Filters"] is not { } filters)
            return null;
        if (filters is not JsonArray list)
            throw new FormatException("FilterCriteria.Filters must be a list of filters.");
        if (list.Count == 0)
            return null;
        var patterns = new string[list.Count];
        for (int i = 0; i < patterns.Length; i++)
        {
            if (list[i] is not JsonObject filter || filter["Pattern"] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
                throw new FormatException($"Filter {i + 1}: a filter is an object with a Pattern string.");
            patterns[i] = value.GetValue<string>();
        }
        return Parse(patterns);
    }

    /// <summary>Whether the record is kept: whether any filter matches it.</summary>
    /// <param name="approximateArrivalTimestamp">Seconds since the epoch, with milliseconds, as the event gives it.</param>
    /// <param name="data">The record's bytes, JSON or not; parsed once, and only when a filter names <c>data</c>.</param>
    public bool Matches(string partitionKey, string sequenceNumber, decimal approximateArrivalTimestamp, ReadOnlySpan<byte> data)
    {
        using var document = NamesData ? TryParseJson(data) : null;
        var record = new RecordFields(partitionKey, sequenceNumber, approximateArrivalTimestamp, document);
        foreach (var pattern in _patterns)
            if (Matches(pattern, record))
                return true;
        return false;
    }

    private static bool Matches(FilterPattern pattern, in RecordFields record)
    {
        foreach (var (name, matcher) in pattern.Fields)
            if (!Matches(name, matcher, record))
                return false;
        if (pattern.Alternatives is null)
            return true;
        foreach (var alternative in pattern.Alternatives)
            if (Matches(alternative, record))
                return true;
        return false;
    }

    private static bool Matches(string name, FieldMatcher matcher, in RecordFields record)
    {
        switch (name)
        {
            case DataKey:
                return record.Data is { } data && matcher.Matches(data.RootElement);
            case "partitionKey":
                return matcher.MatchesString(record.PartitionKey);
            case "sequenceNumber":
                return matcher.MatchesString(record.SequenceNumber);
            case "kinesisSchemaVersion":
                return matcher.MatchesString(KinesisSchemaVersion);
            case "approximateArrivalTimestamp":
                // The text the event carries (Utf8JsonWriter writes a decimal as Utf8Formatter does), for exact matching.
                Span<byte> text = stackalloc byte[64];
                return Utf8Formatter.TryFormat(record.ApproximateArrivalTimestamp, text, out int written)
                    && matcher.MatchesNumber(text[..written], (double)record.ApproximateArrivalTimestamp);
            default:
                return matcher.MatchesAbsent;
        }
    }

    /// <summary>The data as one JSON document (a UTF-8 byte-order mark allowed, nothing after the value), or null.</summary>
    private static JsonDocument? TryParseJson(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(Utf8Bom))
            data = data[Utf8Bom.Length..];
        var reader = new Utf8JsonReader(data);
        JsonDocument? document = null;
        try
        {
            // Reading on after the value throws when anything but white space follows it.
            if (JsonDocument.TryParseValue(ref reader, out document) && !reader.Read())
                return document;
        }
        catch (JsonException)
        {
        }
        document?.Dispose();
        return null;
    }

    private readonly record struct RecordFields(string PartitionKey, string SequenceNumber, decimal ApproximateArrivalTimestamp, JsonDocument? Data);
}

/// <summary>
/// Reads a pattern's JSON text into a <see cref="FilterPattern"/>, refusing what Lambda refuses with a
/// <see cref="FormatException"/> whose message says where (a dotted path) and what is wrong. EventBridge's rules, which
/// Lambda adopts: a field holds a non-empty array of values or an object of fields; a key given twice counts by its
/// last value; an operator object has one key. Lambda documents no operator beyond prefix, suffix, equals-ignore-case,
/// anything-but, numeric and exists, so EventBridge's wildcard and cidr are refused as unknown. Stateless.
/// </summary>
internal static class FilterPatternParser
{
    /// <param name="namesData">Whether a top-level <c>data</c> key (or one in a top-level <c>$or</c>) asks for the record's data.</param>
    public static FilterPattern Parse(string pattern, out bool namesData)
    {
        if (string.IsNullOrWhiteSpace(pattern))
            throw new FormatException("the pattern is empty.");
        using var document = ParseJson(pattern);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new FormatException($"the pattern must be a JSON object, not {Describe(document.RootElement)}.");
        namesData = false;
        return ParseObject(document.RootElement, "", topLevel: true, ref namesData);
    }

    private static JsonDocument ParseJson(string pattern)
    {
        try
        {
            return JsonDocument.Parse(pattern);
        }
        catch (JsonException e)
        {
            throw new FormatException($"the pattern is not valid JSON ({e.Message})", e);
        }
    }

    private static FilterPattern ParseObject(JsonElement json, string path, bool topLevel, ref bool namesData)
    {
        // Last one wins for a repeated key, as Lambda documents; so gather by name first, then parse.
        var byName = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in json.EnumerateObject())
            byName[property.Name] = property.Value;
        if (byName.Count == 0)
            throw Invalid(path, "is an empty object: a pattern names at least one field");

        var fields = new List<KeyValuePair<string, FieldMatcher>>(byName.Count);
        FilterPattern[]? alternatives = null;
        foreach (var (name, value) in byName)
        {
            string at = path.Length == 0 ? name : path + "." + name;
            if (name == "$or")
            {
                alternatives = ParseOr(value, at, topLevel, ref namesData);
            }
            else if (value.ValueKind == JsonValueKind.Object)
            {
                namesData |= topLevel && name == EventFilter.DataKey;
                fields.Add(new(name, ParseObject(value, at, topLevel: false, ref namesData)));
            }
            else if (value.ValueKind == JsonValueKind.Array)
            {
                // Lambda refuses a data pattern that is not JSON: Kinesis data is only ever matched as a JSON document.
                if (topLevel && name == EventFilter.DataKey)
                    throw Invalid(at, "must be an object of the data's fields, not an array of values");
                fields.Add(new(name, ParseValues(value, at)));
            }
            else
            {
                throw Invalid(at, $"must be an array of values or an object of fields, not {Describe(value)}");
            }
        }
        return new FilterPattern([.. fields], alternatives);
    }

    private static FilterPattern[] ParseOr(JsonElement json, string path, bool topLevel, ref bool namesData)
    {
        // EventBridge's engine reads "$or" as OR only with two or more objects.
        if (json.ValueKind != JsonValueKind.Array || json.GetArrayLength() < 2)
            throw Invalid(path, "must be an array of two or more patterns");
        var alternatives = new FilterPattern[json.GetArrayLength()];
        int i = 0;
        foreach (var element in json.EnumerateArray())
        {
            string at = $"{path}[{i}]";
            if (element.ValueKind != JsonValueKind.Object)
                throw Invalid(at, $"must be an object of fields, not {Describe(element)}");
            alternatives[i++] = ParseObject(element, at, topLevel, ref namesData);
        }
        return alternatives;
    }

    private static ValueRules ParseValues(JsonElement array, string path)
    {
        if (array.GetArrayLength() == 0)
            throw Invalid(path, "is an empty array: it needs at least one value to match");
        var rules = new List<ValueRule>(array.GetArrayLength());
        bool exists = false, notExists = false;
        foreach (var element in array.EnumerateArray())
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Array:
                    throw Invalid(path, "holds an array among its values; a value is a string, number, boolean, null or an operator object");
                case JsonValueKind.Object:
                    var (name, operand) = SingleKey(element, path, "has an empty operator object");
                    if (name == "exists")
                    {
                        bool wanted = operand.ValueKind is JsonValueKind.True or JsonValueKind.False
                            ? operand.ValueKind == JsonValueKind.True
                            : throw Invalid(path, $"has \"exists\" with {Describe(operand)}; it takes true or false");
                        (exists, notExists) = (exists || wanted, notExists || !wanted);
                    }
                    else
                    {
                        rules.Add(ParseOperator(name, operand, path));
                    }
                    break;
                default:
                    rules.Add(ExactValue.Of(element));
                    break;
            }
        }
        return new ValueRules([.. rules], exists, notExists);
    }

    private static ValueRule ParseOperator(string name, JsonElement operand, string path) => name switch
    {
        "prefix" => ParseAffix(StringTest.Prefix, name, operand, path),
        "suffix" => ParseAffix(StringTest.Suffix, name, operand, path),
        "equals-ignore-case" => new StringRule(StringTest.EqualsIgnoreCase, [String(operand, path, name)], ignoreCase: true, negated: false),
        "anything-but" => ParseAnythingBut(operand, path),
        "numeric" => ParseNumeric(operand, path),
        _ => throw Invalid(path, $"has an unknown operator \"{name}\""),
    };

    /// <summary><c>"prefix": "us-"</c> or <c>"prefix": {"equals-ignore-case": "us-"}</c>; likewise suffix.</summary>
    private static StringRule ParseAffix(StringTest test, string name, JsonElement operand, string path)
    {
        if (operand.ValueKind != JsonValueKind.Object)
            return new StringRule(test, [String(operand, path, name)], ignoreCase: false, negated: false);
        var (inner, value) = SingleKey(operand, path, $"has \"{name}\" with an empty object");
        return inner == "equals-ignore-case"
            ? new StringRule(test, [String(value, path, name)], ignoreCase: true, negated: false)
            : throw Invalid(path, $"has \"{name}\" with an object other than {{\"equals-ignore-case\": string}}");
    }

    /// <summary>A string, a number, a list of only strings or only numbers, or one of prefix, suffix and
    /// equals-ignore-case (the last also with a list): as EventBridge documents it.</summary>
    private static ValueRule ParseAnythingBut(JsonElement operand, string path)
    {
        const string op = "anything-but";
        switch (operand.ValueKind)
        {
            case JsonValueKind.String:
                return new AnythingBut([operand.GetString()!], null);
            case JsonValueKind.Number:
                return new AnythingBut(null, [Number(operand, path, op)]);
            case JsonValueKind.Array when operand.GetArrayLength() > 0:
                var kind = operand[0].ValueKind;
                if (kind is not (JsonValueKind.String or JsonValueKind.Number) || operand.EnumerateArray().Any(e => e.ValueKind != kind))
                    throw Invalid(path, $"has \"{op}\" with a list that is not only strings or only numbers");
                return kind == JsonValueKind.String
                    ? new AnythingBut([.. operand.EnumerateArray().Select(e => e.GetString()!)], null)
                    : new AnythingBut(null, [.. operand.EnumerateArray().Select(e => Number(e, path, op))]);
            case JsonValueKind.Object:
                var (name, inner) = SingleKey(operand, path, $"has \"{op}\" with an empty object");
                return name switch
                {
                    "prefix" => new StringRule(StringTest.Prefix, [String(inner, path, name)], ignoreCase: false, negated: true),
                    "suffix" => new StringRule(StringTest.Suffix, [String(inner, path, name)], ignoreCase: false, negated: true),
                    "equals-ignore-case" when inner.ValueKind == JsonValueKind.Array && inner.GetArrayLength() > 0 =>
                        new StringRule(StringTest.EqualsIgnoreCase, [.. inner.EnumerateArray().Select(e => String(e, path, name))], ignoreCase: true, negated: true),
                    "equals-ignore-case" => new StringRule(StringTest.EqualsIgnoreCase, [String(inner, path, name)], ignoreCase: true, negated: true),
                    _ => throw Invalid(path, $"has \"{op}\" with operator \"{name}\"; it takes prefix, suffix or equals-ignore-case"),
                };
            default:
                throw Invalid(path, $"has \"{op}\" with {Describe(operand)}; it takes a string, a number or a non-empty list of either");
        }
    }

    /// <summary><c>["=", 100]</c>, or one lower bound (&gt;, &gt;=) and/or one upper bound (&lt;, &lt;=), lower below upper.</summary>
    private static NumericRange ParseNumeric(JsonElement operand, string path)
    {
        int length = operand.ValueKind == JsonValueKind.Array ? operand.GetArrayLength() : 0;
        if (length is not (2 or 4))
            throw Invalid(path, "has \"numeric\" that is not [operator, number] or [operator, number, operator, number]");
        double lower = double.NegativeInfinity, upper = double.PositiveInfinity;
        bool lowerInclusive = false, upperInclusive = false, hasLower = false, hasUpper = false;
        for (int i = 0; i < length; i += 2)
        {
            string? op = operand[i].ValueKind == JsonValueKind.String ? operand[i].GetString() : null;
            double value = Number(operand[i + 1], path, "numeric");
            switch (op)
            {
                case "=" when length == 2:
                    return new NumericRange(value, true, value, true);
                case ">" or ">=" when !hasLower:
                    (lower, lowerInclusive, hasLower) = (value, op == ">=", true);
                    break;
                case "<" or "<=" when !hasUpper:
                    (upper, upperInclusive, hasUpper) = (value, op == "<=", true);
                    break;
                default:
                    throw Invalid(path, $"has \"numeric\" with {(op is null ? "a non-string operator" : $"operator \"{op}\" where it is not allowed")} (=, <, <=, >, >=; = alone; one lower and one upper bound)");
            }
        }
        if (hasLower && hasUpper && !(lower < upper))
            throw Invalid(path, "has \"numeric\" whose lower bound is not below its upper bound");
        return new NumericRange(lower, lowerInclusive, upper, upperInclusive);
    }

    private static (string Name, JsonElement Value) SingleKey(JsonElement json, string path, string whenEmpty)
    {
        using var properties = json.EnumerateObject();
        if (!properties.MoveNext())
            throw Invalid(path, whenEmpty);
        var (name, value) = (properties.Current.Name, properties.Current.Value);
        return properties.MoveNext()
            ? throw Invalid(path, "has an operator object with more than one key; give one operator per object")
            : (name, value);
    }

    private static string String(JsonElement operand, string path, string op) => operand.ValueKind == JsonValueKind.String
        ? operand.GetString()!
        : throw Invalid(path, $"has \"{op}\" with {Describe(operand)}; it takes a string");

    private static double Number(JsonElement operand, string path, string op) =>
        operand.ValueKind == JsonValueKind.Number && operand.TryGetDouble(out double value) && double.IsFinite(value)
            ? value
            : throw Invalid(path, $"has \"{op}\" with {Describe(operand)} where a finite number is expected");

    private static FormatException Invalid(string path, string problem) =>
        new($"{(path.Length == 0 ? "the pattern" : $"\"{path}\"")} {problem}.");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
