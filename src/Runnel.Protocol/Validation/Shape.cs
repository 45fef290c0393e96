using System.Text.RegularExpressions;

namespace Runnel.Protocol.Validation;

/// <summary>The JSON types a modelled member can have, as in the AWS service model.</summary>
public enum WireType { String, Integer, Long, Double, Boolean, Blob, Timestamp, List, Map, Structure }

/// <summary>
/// One member of a request shape and its constraints, taken from the service model
/// (botocore's kinesis service-2.json). Lengths count characters for strings, decoded bytes for blobs
/// and entries for lists and maps.
/// </summary>
public sealed record Member(string Name, WireType Type)
{
    public bool Required { get; init; }

    /// <summary>When set, the member is required unless this sibling member is present.</summary>
    public string? RequiredUnless { get; init; }

    /// <summary>
    /// Required, unless the caller waives it for this request: PartitionKey, which the current model makes
    /// optional because a stream with the AUTO record distribution strategy does without it, while every
    /// other stream requires it with the not-null error of old.
    /// </summary>
    public bool Waivable { get; init; }
    public long? Min { get; init; }
    public long? Max { get; init; }
    public long? MinLength { get; init; }
    public long? MaxLength { get; init; }
    /// <summary>Whole-value match of <see cref="PatternText"/>: a hand-written check for the patterns on the hot
    /// path (names, hash keys, sequence numbers), a regex for the rest.</summary>
    public Func<string, bool>? Pattern { get; init; }
    public string? PatternText { get; init; }
    public IReadOnlyList<string>? Enum { get; init; }
    public Member? Element { get; init; }
    public Member? Key { get; init; }
    public Member? Value { get; init; }
    public Shape? Structure { get; init; }

    /// <summary>How one element of a list of structures shows in a validation message; null for Kinesis's record entry.</summary>
    public Func<Requests.RequestValue, string>? ElementText { get; init; }

    /// <summary>The member's name as AWS writes it in validation messages (lower camel case).</summary>
    public string WireName { get; } = char.ToLowerInvariant(Name[0]) + Name[1..];
}

/// <summary>A structure: its members in the order AWS validates them.</summary>
public sealed class Shape(params Member[] members)
{
    public IReadOnlyList<Member> Members { get; } = members;
}

/// <summary>Short constructors for shapes, so each operation's request reads like its model entry.</summary>
public static class Members
{
    public static Member Str(string name, bool required = false, long? minLength = null, long? maxLength = null, string? pattern = null) =>
        new(name, WireType.String)
        {
            Required = required,
            MinLength = minLength,
            MaxLength = maxLength,
            PatternText = pattern,
            Pattern = pattern is null ? null : Patterns.Matcher(pattern),
        };

    public static Member Enum(string name, bool required, params string[] values) =>
        new(name, WireType.String) { Required = required, Enum = values };

    public static Member Int(string name, bool required = false, long? min = null, long? max = null) =>
        new(name, WireType.Integer) { Required = required, Min = min, Max = max };

    public static Member Long(string name, bool required = false, long? min = null, long? max = null) =>
        new(name, WireType.Long) { Required = required, Min = min, Max = max };

    /// <summary>A floating-point member (the model's <c>double</c>); its range is whole numbers in every model so far.</summary>
    public static Member Double(string name, bool required = false, long? min = null, long? max = null) =>
        new(name, WireType.Double) { Required = required, Min = min, Max = max };

    public static Member Bool(string name, bool required = false) => new(name, WireType.Boolean) { Required = required };

    public static Member Blob(string name, bool required = false, long? minLength = null, long? maxLength = null) =>
        new(name, WireType.Blob) { Required = required, MinLength = minLength, MaxLength = maxLength };

    public static Member Time(string name, bool required = false) => new(name, WireType.Timestamp) { Required = required };

    public static Member List(string name, Member element, bool required = false, long? minLength = null, long? maxLength = null) =>
        new(name, WireType.List) { Required = required, Element = element, MinLength = minLength, MaxLength = maxLength };

    public static Member Map(string name, Member key, Member value, bool required = false, long? minLength = null, long? maxLength = null) =>
        new(name, WireType.Map) { Required = required, Key = key, Value = value, MinLength = minLength, MaxLength = maxLength };

    public static Member Struct(string name, Shape shape, bool required = false) =>
        new(name, WireType.Structure) { Required = required, Structure = shape };
}

/// <summary>Fast matchers for the model's most used patterns, identical in meaning to the regexes.</summary>
internal static class Patterns
{
    private static readonly System.Buffers.SearchValues<char> NameCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

    public static Func<string, bool> Matcher(string pattern) => pattern switch
    {
        "[a-zA-Z0-9_.-]+" => s => s.Length > 0 && !s.AsSpan().ContainsAnyExcept(NameCharacters),
        @"0|([1-9]\d{0,38})" => s => IsCanonicalDecimal(s, 39),
        @"0|([1-9]\d{0,128})" => s => IsCanonicalDecimal(s, 129),
        // As Java's String.matches(): the whole string (\z, not $, which allows a final newline), ASCII \d.
        _ => new Regex(@"\A(?:" + FromJava(pattern) + @")\z", RegexOptions.CultureInvariant | RegexOptions.Singleline).IsMatch,
    };

    /// <summary>
    /// A Java pattern in .NET's dialect: <c>\d</c> ASCII only, as in Java; and a backslash before a character .NET takes
    /// as a word character but Java as a literal (<c>\_</c>, which Firehose's model has) dropped.
    /// </summary>
    private static string FromJava(string pattern)
    {
        var text = new System.Text.StringBuilder(pattern.Length);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '[')
                inClass = true;
            else if (pattern[i] == ']')
                inClass = false;
            if (pattern[i] == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[++i];
                if (next == 'd')
                    text.Append(inClass ? "0-9" : "[0-9]");
                else if (next == '_')
                    text.Append('_');
                else
                    text.Append('\\').Append(next);
            }
            else
                text.Append(pattern[i]);
        }
        return text.ToString();
    }

    /// <summary>"0", or up to <paramref name="maxDigits"/> ASCII digits without a leading zero.</summary>
    private static bool IsCanonicalDecimal(string s, int maxDigits) =>
        s == "0" || (s.Length > 0 && s.Length <= maxDigits && s[0] is >= '1' and <= '9' && !s.AsSpan().ContainsAnyExceptInRange('0', '9'));
}
