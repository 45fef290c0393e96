using System.Globalization;
using Runnel.Protocol.Requests;
using Runnel.Core.Errors;

namespace Runnel.Protocol.Validation;

/// <summary>
/// Checks a request body against its operation's shape the way AWS does (docs/compatibility.md):
/// <list type="number">
/// <item>type check, members in declared order: the first mismatch is a SerializationException;</item>
/// <item>constraints, members in declared order and each member's constraints in AWS's order
/// (not null, pattern, min length, max length, min value, max value, enum, element constraints,
/// children), collected into one ValidationException of at most 10 messages.</item>
/// </list>
/// A null counts as absent; unknown members are ignored. Thread-safe: stateless.
/// </summary>
public static class RequestValidator
{
    private const int MaxListedErrors = 10;

    /// <summary>Checks <paramref name="root"/> against <paramref name="shape"/>; <paramref name="waive"/> makes <see cref="Member.Waivable"/> members optional.</summary>
    public static void Validate(RequestValue root, Shape shape, bool waive = false)
    {
        if (root.Kind == RequestKind.Array)
            throw KinesisErrors.Serialization("Start of list found where not expected");
        if (root.Kind != RequestKind.Object)
            throw KinesisErrors.MalformedBody();
        CheckTypes(root, shape);
        var errors = new List<string>();
        CheckConstraints(root, shape, null, 0, errors, waive);
        if (errors.Count > 0)
            throw KinesisErrors.Validation(Describe(errors));
    }

    /// <summary>The message AWS gives for a list of constraint failures.</summary>
    public static string Describe(IReadOnlyList<string> errors) =>
        errors.Count == 1
            ? $"1 validation error detected: {errors[0]}"
            : $"{errors.Count} validation errors detected: {string.Join("; ", errors)}";

    private static void CheckTypes(RequestValue obj, Shape shape)
    {
        foreach (var member in shape.Members)
            if (obj.TryGetProperty(member.Name, out var value))
                CheckType(value, member);
    }

    private static void CheckType(RequestValue value, Member member)
    {
        if (value.Kind == RequestKind.Null)
            return;
        string? problem = member.Type switch
        {
            WireType.String => TypeMessages.ForString(value),
            WireType.Integer or WireType.Long => TypeMessages.ForNumber(value, member.Type == WireType.Long ? "Long" : "Integer"),
            WireType.Double => TypeMessages.ForNumber(value, "Double"),
            WireType.Boolean => TypeMessages.ForBoolean(value),
            WireType.Blob => TypeMessages.ForBlob(value),
            WireType.Timestamp => TypeMessages.ForTimestamp(value),
            WireType.List => TypeMessages.ForList(value.Kind),
            WireType.Map => TypeMessages.ForMap(value.Kind),
            WireType.Structure => TypeMessages.ForStructure(value.Kind),
            _ => null,
        };
        if (problem is not null)
            throw KinesisErrors.Serialization(problem);
        if (member.Type == WireType.List)
            foreach (var item in value.EnumerateArray())
                CheckType(item, member.Element!);
        else if (member.Type == WireType.Map)
            foreach (var property in value.EnumerateObject())
                CheckType(property.Value, member.Value!);
        else if (member.Type == WireType.Structure)
            CheckTypes(value, member.Structure!);
    }

    /// <summary>
    /// Where a member sits, as AWS writes it in messages (<c>records.3.member.partitionKey</c>), kept in parts and
    /// written out only for a failing constraint: a valid PutRecords (the hot path) makes no path string.
    /// </summary>
    /// <param name="Parent">the containing member's path; null at the top level</param>
    /// <param name="Index">the 1-based position in the containing list, or 0 when the parent is a structure</param>
    private readonly record struct MemberPath(string? Parent, int Index, string Name)
    {
        public override string ToString() =>
            Parent is null ? Name : Index > 0 ? $"{Parent}.{Index}.member.{Name}" : $"{Parent}.{Name}";
    }

    private static void CheckConstraints(RequestValue obj, Shape shape, string? parent, int index, List<string> errors, bool waive)
    {
        foreach (var member in shape.Members)
        {
            obj.TryGetProperty(member.Name, out var value);
            bool required = (member.Required && !(waive && member.Waivable)) || (member.RequiredUnless is { } alternative
                && !(obj.TryGetProperty(alternative, out var other) && other.Kind != RequestKind.Null));
            CheckMember(value, member, required, new MemberPath(parent, index, member.WireName), errors, waive);
        }
    }

    /// <summary>Adds AWS's message for one failed constraint; the value is rendered only then, once per member.</summary>
    private static void Fail(List<string> errors, ref string? rendered, string? shown, RequestValue value, Member member, MemberPath path, string constraint)
    {
        if (errors.Count < MaxListedErrors)
            errors.Add($"Value {shown ?? (rendered ??= Render(value, member))} at '{path}' failed to satisfy constraint: {constraint}");
    }

    private static void CheckMember(RequestValue value, Member member, bool required, MemberPath path, List<string> errors, bool waive)
    {
        // The value is rendered only when a constraint fails: valid requests (the hot path) never pay for it.
        string? rendered = null;
        void Fail(string? shown, string constraint) => RequestValidator.Fail(errors, ref rendered, shown, value, member, path, constraint);

        if (value.Kind is RequestKind.Undefined or RequestKind.Null)
        {
            if (required)
                Fail("null", "Member must not be null");
            return;
        }
        const string? shown = null;
        long? length = member.Type switch
        {
            WireType.String => value.GetString().Length,
            WireType.Blob => value.BlobLength,
            WireType.List or WireType.Map => value.Count,
            _ => null,
        };
        if (member.Pattern is { } pattern && !pattern(value.GetString()))
            Fail(shown, $"Member must satisfy regular expression pattern: {member.PatternText}");
        if (member.MinLength is { } minLength && length < minLength)
            Fail(shown, $"Member must have length greater than or equal to {minLength}");
        if (member.MaxLength is { } maxLength && length > maxLength)
            Fail(shown, $"Member must have length less than or equal to {maxLength}");
        if (member.Type is WireType.Integer or WireType.Long)
        {
            long number = IntegerValue(value, member.Type);
            if (member.Min is { } min && number < min)
                Fail(shown, $"Member must have value greater than or equal to {min}");
            if (member.Max is { } max && number > max)
                Fail(shown, $"Member must have value less than or equal to {max}");
        }
        else if (member.Type == WireType.Double)
        {
            double number = value.GetDouble();
            if (member.Min is { } min && number < min)
                Fail(shown, $"Member must have value greater than or equal to {min}");
            if (member.Max is { } max && number > max)
                Fail(shown, $"Member must have value less than or equal to {max}");
        }
        if (member.Enum is { } allowed && !allowed.Contains(value.GetString()))
            Fail(shown, $"Member must satisfy enum value set: [{string.Join(", ", allowed)}]");

        switch (member.Type)
        {
            case WireType.List when member.Element!.Type == WireType.Structure:
                string listPath = path.ToString(); // a top-level list's name as it is: no string made
                int i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    i++;
                    if (item.Kind == RequestKind.Object)
                        CheckConstraints(item, member.Element.Structure!, listPath, i, errors, waive);
                }
                break;
            case WireType.List:
                if (ElementsViolate(value.EnumerateArray().Select(e => e.Kind == RequestKind.String ? e.GetString() : ""), member.Element!))
                    Fail(shown, $"Member must satisfy constraint: [{LengthRule(member.Element!)}]");
                if (member.Element!.Enum is { } elementEnum && value.EnumerateArray().Any(e => e.Kind != RequestKind.String || !elementEnum.Contains(e.GetString())))
                    Fail(shown, $"Member must satisfy constraint: [Member must satisfy enum value set: [{string.Join(", ", elementEnum)}]]");
                break;
            case WireType.Map:
                if (ElementsViolate(value.EnumerateObject().Select(p => p.Name), member.Key!))
                    Fail(shown, $"Map keys must satisfy constraint: [{LengthRule(member.Key!)}]");
                if (ElementsViolate(value.EnumerateObject().Select(p => p.Value.Kind == RequestKind.String ? p.Value.GetString() : ""), member.Value!))
                    Fail(shown, $"Map value must satisfy constraint: [{LengthRule(member.Value!)}]");
                break;
            case WireType.Structure:
                CheckConstraints(value, member.Structure!, path.ToString(), 0, errors, waive);
                break;
        }
    }

    private static bool ElementsViolate(IEnumerable<string> items, Member rule) =>
        items.Any(s => (rule.MinLength is { } min && s.Length < min) || (rule.MaxLength is { } max && s.Length > max));

    private static string LengthRule(Member rule)
    {
        var parts = new List<string>();
        if (rule.MaxLength is { } max)
            parts.Add($"Member must have length less than or equal to {max}");
        if (rule.MinLength is { } min)
            parts.Add($"Member must have length greater than or equal to {min}");
        return string.Join(", ", parts);
    }

    /// <summary>An integer member's value as AWS sees it: floored, and for Integer clamped to 2^31-1.</summary>
    public static long IntegerValue(RequestValue value, WireType type)
    {
        double d = Math.Floor(value.GetDouble());
        if (type == WireType.Integer && d > int.MaxValue)
            return int.MaxValue;
        return d >= long.MaxValue ? long.MaxValue : d <= long.MinValue ? long.MinValue : (long)d;
    }

    /// <summary>How AWS shows a value in a validation message.</summary>
    private static string Render(RequestValue value, Member member)
    {
        switch (member.Type)
        {
            case WireType.Blob:
                long n = value.BlobLength;
                return $"'java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]'";
            case WireType.Integer or WireType.Long:
                return $"'{IntegerValue(value, member.Type).ToString(CultureInfo.InvariantCulture)}'";
            case WireType.Double:
                return $"'{value.GetDouble().ToString("R", CultureInfo.InvariantCulture)}'";
            case WireType.List when member.Element!.Type == WireType.Structure:
                return $"'[{string.Join(", ", value.EnumerateArray().Select(e => member.ElementText?.Invoke(e) ?? "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310"))}]'";
            case WireType.List:
                return $"'[{string.Join(", ", value.EnumerateArray().Select(Plain))}]'";
            case WireType.Map:
                return $"'{{{string.Join(", ", value.EnumerateObject().Select(p => $"{p.Name}={Plain(p.Value)}"))}}}'";
            default:
                return $"'{Plain(value)}'";
        }
    }

    private static string Plain(RequestValue e) => e.Kind switch
    {
        RequestKind.String => e.GetString(),
        RequestKind.True => "true",
        RequestKind.False => "false",
        _ => e.GetRawText(),
    };
}
