using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Runnel.Functions.Mappings;

// A filter pattern once parsed (by FilterPatternParser, in EventFilter.cs), and how it matches JSON. All immutable;
// thread-safe.

/// <summary>
/// What a field of a filter pattern asks of the event's value at that field: either an object of fields
/// (<see cref="FilterPattern"/>) or an array of alternatives for a leaf (<see cref="ValueRules"/>). An absent field,
/// and a value of the wrong shape (a leaf where the pattern has fields, an object where it has values), match only
/// <c>{"exists": false}</c>: EventBridge's exists matching sees leaves only.
/// </summary>
internal abstract class FieldMatcher
{
    public abstract bool MatchesAbsent { get; }

    public abstract bool Matches(JsonElement value);

    public abstract bool MatchesString(string value);

    /// <param name="raw">The number as written (exact matching compares the text: 300, 300.0 and 3.0e2 differ).</param>
    /// <param name="value">The number's value, for numeric and anything-but matching; NaN beyond double's range.</param>
    public abstract bool MatchesNumber(ReadOnlySpan<byte> raw, double value);
}

/// <summary>
/// One object of a filter pattern: every field must match (AND), and when the object has <c>"$or"</c>, at least one of
/// its alternatives must match too. Over an array of the event, the pattern matches when one element matches it
/// whole, so all its fields are read from the same element (EventBridge's engine does the same).
/// </summary>
internal sealed class FilterPattern : FieldMatcher
{
    public FilterPattern(KeyValuePair<string, FieldMatcher>[] fields, FilterPattern[]? alternatives)
    {
        Fields = fields;
        Alternatives = alternatives;
        MatchesAbsent = Array.TrueForAll(fields, f => f.Value.MatchesAbsent) && (alternatives is null || Array.Exists(alternatives, a => a.MatchesAbsent));
    }

    public KeyValuePair<string, FieldMatcher>[] Fields { get; }

    /// <summary>The patterns of <c>"$or"</c>, or null.</summary>
    public FilterPattern[]? Alternatives { get; }

    /// <summary>Only when every field, down to the leaves, asks for <c>{"exists": false}</c>.</summary>
    public override bool MatchesAbsent { get; }

    public override bool Matches(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var (name, matcher) in Fields)
                    if (!(value.TryGetProperty(name, out var field) ? matcher.Matches(field) : matcher.MatchesAbsent))
                        return false;
                if (Alternatives is null)
                    return true;
                foreach (var alternative in Alternatives)
                    if (alternative.Matches(value))
                        return true;
                return false;
            case JsonValueKind.Array:
                bool any = false;
                foreach (var element in value.EnumerateArray())
                {
                    any = true;
                    if (Matches(element))
                        return true;
                }
                return !any && MatchesAbsent;
            default:
                return MatchesAbsent;
        }
    }

    public override bool MatchesString(string value) => MatchesAbsent;

    public override bool MatchesNumber(ReadOnlySpan<byte> raw, double value) => MatchesAbsent;
}

/// <summary>
/// The array of alternatives of a leaf field: the field matches when any of them matches its value or, when the
/// event's value is an array, any of its elements. <c>{"exists": ...}</c> is kept apart from the value rules since it
/// asks about presence, not value; null is a value, an empty array is none.
/// </summary>
internal sealed class ValueRules(ValueRule[] rules, bool exists, bool notExists) : FieldMatcher
{
    public override bool MatchesAbsent => notExists;

    public override bool Matches(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                return notExists;
            case JsonValueKind.Array:
                bool sawLeaf = false;
                return AnyLeafMatches(value, ref sawLeaf) || (sawLeaf ? exists : notExists);
            default:
                return exists || AnyRuleMatches(value);
        }
    }

    public override bool MatchesString(string value) => exists || AnyString(value);

    public override bool MatchesNumber(ReadOnlySpan<byte> raw, double value) => exists || AnyNumber(raw, value);

    /// <summary>Arrays of the event are flattened: nested arrays count by their leaves; objects are not leaves.</summary>
    private bool AnyLeafMatches(JsonElement array, ref bool sawLeaf)
    {
        foreach (var element in array.EnumerateArray())
        {
            if (element.ValueKind == JsonValueKind.Array)
            {
                if (AnyLeafMatches(element, ref sawLeaf))
                    return true;
            }
            else if (element.ValueKind != JsonValueKind.Object)
            {
                sawLeaf = true;
                if (AnyRuleMatches(element))
                    return true;
            }
        }
        return false;
    }

    private bool AnyRuleMatches(JsonElement leaf) => leaf.ValueKind switch
    {
        JsonValueKind.String => AnyString(leaf.GetString()!),
        JsonValueKind.Number => AnyNumber(JsonMarshal.GetRawUtf8Value(leaf), leaf.TryGetDouble(out double d) && double.IsFinite(d) ? d : double.NaN),
        _ => AnyLiteral(leaf.ValueKind),
    };

    private bool AnyString(string value)
    {
        foreach (var rule in rules)
            if (rule.MatchesString(value))
                return true;
        return false;
    }

    private bool AnyNumber(ReadOnlySpan<byte> raw, double value)
    {
        foreach (var rule in rules)
            if (rule.MatchesNumber(raw, value))
                return true;
        return false;
    }

    private bool AnyLiteral(JsonValueKind kind)
    {
        foreach (var rule in rules)
            if (rule.MatchesLiteral(kind))
                return true;
        return false;
    }
}

/// <summary>
/// One alternative of a leaf: an exact value or an operator. String operators see strings only and numeric ones
/// numbers only (as EventBridge's engine documents); a value of another type does not match them.
/// </summary>
internal abstract class ValueRule
{
    public virtual bool MatchesString(string value) => false;

    public virtual bool MatchesNumber(ReadOnlySpan<byte> raw, double value) => false;

    /// <param name="kind">True, False or Null.</param>
    public virtual bool MatchesLiteral(JsonValueKind kind) => false;
}

/// <summary>
/// An exact value: a string character by character (no case folding nor normalization), a number by its text
/// (Lambda: 300, 300.0 and 3.0e2 are not equal; numeric "=" compares values), true, false and null by kind.
/// </summary>
internal sealed class ExactValue(JsonValueKind kind, string? text, byte[]? raw) : ValueRule
{
    public static ExactValue Of(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => new(JsonValueKind.String, value.GetString(), null),
        JsonValueKind.Number => new(JsonValueKind.Number, null, Encoding.UTF8.GetBytes(value.GetRawText())),
        _ => new(value.ValueKind, null, null),
    };

    public override bool MatchesString(string value) => kind == JsonValueKind.String && string.Equals(value, text, StringComparison.Ordinal);

    public override bool MatchesNumber(ReadOnlySpan<byte> value, double _) => raw is not null && value.SequenceEqual(raw);

    public override bool MatchesLiteral(JsonValueKind value) => value == kind;
}

internal enum StringTest { Prefix, Suffix, EqualsIgnoreCase }

/// <summary>Prefix, suffix or equals-ignore-case over one or more operands (any may match); negated for anything-but.</summary>
internal sealed class StringRule(StringTest test, string[] operands, bool ignoreCase, bool negated) : ValueRule
{
    public override bool MatchesString(string value)
    {
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (string operand in operands)
        {
            bool hit = test switch
            {
                StringTest.Prefix => value.StartsWith(operand, comparison),
                StringTest.Suffix => value.EndsWith(operand, comparison),
                _ => string.Equals(value, operand, comparison),
            };
            if (hit)
                return !negated;
        }
        return negated;
    }
}

/// <summary>Anything but the strings, or the numbers, given: a present value of another type, or not in the list,
/// matches. Numbers compare by value here, as for numeric matching.</summary>
internal sealed class AnythingBut(string[]? strings, double[]? numbers) : ValueRule
{
    public override bool MatchesString(string value) => strings is null || Array.IndexOf(strings, value) < 0;

    public override bool MatchesNumber(ReadOnlySpan<byte> raw, double value) => numbers is null || (!double.IsNaN(value) && Array.IndexOf(numbers, value) < 0);

    public override bool MatchesLiteral(JsonValueKind kind) => true;
}

/// <summary><c>{"numeric": ["=", 100]}</c> (both bounds the value), or one or two bounds, open or closed: JSON numbers only.</summary>
internal sealed class NumericRange(double lower, bool lowerInclusive, double upper, bool upperInclusive) : ValueRule
{
    public override bool MatchesNumber(ReadOnlySpan<byte> raw, double value) =>
        (lowerInclusive ? value >= lower : value > lower) && (upperInclusive ? value <= upper : value < upper);
}
