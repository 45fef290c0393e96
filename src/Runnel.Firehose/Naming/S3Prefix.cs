using System.Text;

namespace Runnel.Firehose.Naming;

/// <summary>
/// An S3 destination's <c>Prefix</c> or <c>ErrorOutputPrefix</c> as Firehose evaluates it: literal text and
/// <c>!{namespace:value}</c> expressions, namespaces <c>timestamp</c> (a <see cref="TimestampPattern"/>),
/// <c>firehose</c> (<c>random-string</c>, <c>error-output-type</c>), <c>partitionKeyFromQuery</c> and
/// <c>partitionKeyFromLambda</c>. <see cref="ForDestination"/> applies AWS's rules for the pair (its custom-prefixes
/// page, and what was observed of real AWS: docs/adr/0002-firehose-delivery.md, 1.1 and 1.8). Immutable, thread-safe.
/// </summary>
public sealed class S3Prefix
{
    /// <summary>What a prefix without timestamps gets appended, and the whole default prefix.</summary>
    public const string TimePath = "yyyy/MM/dd/HH/";

    /// <summary>How AWS words a refused pair of prefixes (its typo included): followed by the constraint broken.</summary>
    public const string RefusalStart = "Ths supplied prefix(es) do not satisfy the following constraint: ";

    private readonly IReadOnlyList<Part> _parts;

    private S3Prefix(IReadOnlyList<Part> parts) => _parts = parts;

    private enum Kind { Literal, Timestamp, RandomString, ErrorOutputType, PartitionKeyFromQuery, PartitionKeyFromLambda }

    private sealed record Part(Kind Kind, string Text);

    public bool HasExpressions => _parts.Any(p => p.Kind != Kind.Literal);

    public bool HasTimestamp => _parts.Any(p => p.Kind == Kind.Timestamp);

    public bool HasPartitionKeys => _parts.Any(p => p.Kind is Kind.PartitionKeyFromQuery or Kind.PartitionKeyFromLambda);

    public bool HasErrorOutputType => _parts.Any(p => p.Kind == Kind.ErrorOutputType);

    /// <summary>The partition keys the prefix names, by namespace and key, in order (what a buffer's partition is made of).</summary>
    public IEnumerable<(bool FromLambda, string Key)> PartitionKeys =>
        _parts.Where(p => p.Kind is Kind.PartitionKeyFromQuery or Kind.PartitionKeyFromLambda).Select(p => (p.Kind == Kind.PartitionKeyFromLambda, p.Text));

    /// <summary>
    /// The two prefixes of an S3 destination, with AWS's defaults and rules applied: no Prefix is <see cref="TimePath"/>;
    /// a Prefix without timestamp or partition-key expressions gets <see cref="TimePath"/> appended (no slash added);
    /// an ErrorOutputPrefix is required once the Prefix has expressions, must then name the error output type, and
    /// takes no partition keys; the Prefix takes no error output type. When neither has expressions and there is no
    /// ErrorOutputPrefix, failed records go under <c>{Prefix}{error-output-type}/</c> and the time path. Throws
    /// <see cref="FormatException"/> with AWS's wording when a rule is broken or an expression is malformed.
    /// </summary>
    public static (S3Prefix Prefix, S3Prefix ErrorOutput) ForDestination(string? prefix, string? errorOutputPrefix)
    {
        var given = Parse(prefix ?? "");
        if (given.HasErrorOutputType)
            throw Refused("Prefix cannot contain !{firehose:error-output-type}");
        var delivered = given.HasTimestamp || given.HasPartitionKeys ? given : new S3Prefix([.. given._parts, new Part(Kind.Timestamp, TimePath)]);
        if (string.IsNullOrEmpty(errorOutputPrefix))
        {
            if (given.HasExpressions)
                throw Refused("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions");
            return (delivered, new S3Prefix([.. given._parts, new Part(Kind.ErrorOutputType, ""), new Part(Kind.Literal, "/"), new Part(Kind.Timestamp, TimePath)]));
        }
        var error = Parse(errorOutputPrefix);
        if (error.HasPartitionKeys)
            throw Refused("ErrorOutputPrefix cannot contain partitionKeyFromQuery or partitionKeyFromLambda expressions");
        if (error.HasExpressions && !error.HasErrorOutputType)
            throw Refused("ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains expressions");
        return (delivered, error);
    }

    /// <summary>Reads a template; throws <see cref="FormatException"/> for an unclosed or unknown expression, a
    /// <c>!{</c> that starts none, or a timestamp pattern Runnel does not print.</summary>
    public static S3Prefix Parse(string template)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        for (int i = 0; i < template.Length;)
        {
            int start = template.IndexOf("!{", i, StringComparison.Ordinal);
            if (start < 0)
            {
                literal.Append(template, i, template.Length - i);
                break;
            }
            literal.Append(template, i, start - i);
            int end = template.IndexOf('}', start);
            if (end < 0)
                throw Refused($"the expression at {start} is not closed with '}}'");
            string expression = template[(start + 2)..end];
            int colon = expression.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
                throw Refused($"'!{{{expression}}}' is not a namespace and a value");
            string space = expression[..colon], value = expression[(colon + 1)..];
            var part = (space, value) switch
            {
                ("timestamp", _) => Timestamp(value),
                ("firehose", "random-string") => new Part(Kind.RandomString, ""),
                ("firehose", "error-output-type") => new Part(Kind.ErrorOutputType, ""),
                ("partitionKeyFromQuery", { Length: > 0 }) => new Part(Kind.PartitionKeyFromQuery, value),
                ("partitionKeyFromLambda", { Length: > 0 }) => new Part(Kind.PartitionKeyFromLambda, value),
                _ => throw Refused($"'!{{{expression}}}' is not an expression Firehose evaluates"),
            };
            if (literal.Length > 0)
                parts.Add(new Part(Kind.Literal, literal.ToString()));
            literal.Clear();
            parts.Add(part);
            i = end + 1;
        }
        if (literal.Length > 0)
            parts.Add(new Part(Kind.Literal, literal.ToString()));
        return new S3Prefix(parts);
    }

    private static Part Timestamp(string pattern)
    {
        try
        {
            TimestampPattern.Check(pattern);
        }
        catch (FormatException e)
        {
            throw Refused($"'!{{timestamp:{pattern}}}' is not a valid timestamp pattern ({e.Message})");
        }
        return new Part(Kind.Timestamp, pattern);
    }

    /// <summary>
    /// The prefix for an object: every timestamp at <paramref name="instant"/> (the oldest record's arrival, in the
    /// destination's time zone), each <c>random-string</c> a fresh 11 characters, partition keys from
    /// <paramref name="partitionKey"/> (by namespace and key), the error output type for a failed batch.
    /// </summary>
    public string Evaluate(DateTimeOffset instant, Func<bool, string, string>? partitionKey = null, string? errorOutputType = null)
    {
        var text = new StringBuilder();
        foreach (var part in _parts)
            text.Append(part.Kind switch
            {
                Kind.Literal => part.Text,
                Kind.Timestamp => TimestampPattern.Format(part.Text, instant),
                Kind.RandomString => Guid.NewGuid().ToString("D")[..11],
                Kind.ErrorOutputType => errorOutputType ?? throw new InvalidOperationException("This prefix names the error output type: evaluate it for a failed batch."),
                _ => partitionKey?.Invoke(part.Kind == Kind.PartitionKeyFromLambda, part.Text)
                    ?? throw new InvalidOperationException($"No value for the partition key {part.Text}."),
            });
        return text.ToString();
    }

    private static FormatException Refused(string constraint) => new(RefusalStart + constraint);
}
