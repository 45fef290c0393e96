using Runnel.DynamoDb.Model;

namespace Runnel.DynamoDb.Expressions;

/// <summary>
/// Evaluates a parsed condition against an item (null: no item, as a conditional write on a missing key sees it), with
/// DynamoDB's semantics: a comparison of a missing attribute or of values of different types is false (<c>&lt;&gt;</c>
/// true); strings order by UTF-8 bytes, numbers numerically. Thread-safe: stateless.
/// </summary>
public static class ConditionEvaluator
{
    public static bool Matches(Condition condition, Item? item) => condition switch
    {
        And and => Matches(and.Left, item) && Matches(and.Right, item),
        Or or => Matches(or.Left, item) || Matches(or.Right, item),
        Not not => !Matches(not.Inner, item),
        Comparison c => Compare(c.Operator, Value(c.Left, item), Value(c.Right, item)),
        Between b => Value(b.Value, item) is { } v && Value(b.Low, item) is { } low && Value(b.High, item) is { } high
            && AttributeValue.Compare(v, low) >= 0 && AttributeValue.Compare(v, high) <= 0,
        In i => Value(i.Value, item) is { } v && i.Candidates.Any(c => Value(c, item) is { } candidate && v.Equals(candidate)),
        FunctionCondition f => Function(f, item),
        _ => false,
    };

    public static bool Compare(string op, AttributeValue? left, AttributeValue? right)
    {
        if (op == "=")
            return left is not null && right is not null && left.Equals(right);
        if (op == "<>")
            return left is null || right is null || !left.Equals(right);
        if (left is null || right is null || AttributeValue.Compare(left, right) is not { } order)
            return false;
        return op switch
        {
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            ">=" => order >= 0,
            _ => false,
        };
    }

    /// <summary>An operand's value in the item, or null when it has none (a missing path, the size of a number).</summary>
    public static AttributeValue? Value(Operand operand, Item? item) => operand switch
    {
        ValueOperand v => v.Value,
        PathOperand p => Documents.Resolve(item, p.Path),
        FunctionOperand { Name: "size" } f => Value(f.Arguments[0], item)?.Length is { } length ? AttributeValue.N(DynamoNumber.Of(length)) : null,
        _ => null,
    };

    private static bool Function(FunctionCondition f, Item? item)
    {
        var first = Value(f.Arguments[0], item);
        switch (f.Name)
        {
            case "attribute_exists":
                return first is not null;
            case "attribute_not_exists":
                return first is null;
            case "attribute_type":
                return first is not null && Value(f.Arguments[1], item) is { Type: AttributeType.S } type && type.String == first.Type.ToString();
            case "begins_with":
                return first is not null && Value(f.Arguments[1], item) is { } prefix && BeginsWith(first, prefix);
            case "contains":
                return first is not null && Value(f.Arguments[1], item) is { } operand && Contains(first, operand);
            default:
                return false;
        }
    }

    public static bool BeginsWith(AttributeValue value, AttributeValue prefix) => (value.Type, prefix.Type) switch
    {
        (AttributeType.S, AttributeType.S) => value.String.StartsWith(prefix.String, StringComparison.Ordinal),
        (AttributeType.B, AttributeType.B) => value.Bytes.AsSpan().StartsWith(prefix.Bytes),
        _ => false,
    };

    /// <summary>A substring of a string, a member of a set or an element of a list.</summary>
    public static bool Contains(AttributeValue value, AttributeValue operand) => (value.Type, operand.Type) switch
    {
        (AttributeType.S, AttributeType.S) => value.String.Contains(operand.String, StringComparison.Ordinal),
        (AttributeType.B, AttributeType.B) => value.Bytes.AsSpan().IndexOf(operand.Bytes) >= 0,
        (AttributeType.SS, AttributeType.S) => value.StringSet.Contains(operand.String),
        (AttributeType.NS, AttributeType.N) => value.NumberSet.Contains(operand.Number),
        (AttributeType.BS, AttributeType.B) => value.BinarySet.Any(b => b.AsSpan().SequenceEqual(operand.Bytes)),
        (AttributeType.L, _) => value.List.Any(operand.Equals),
        _ => false,
    };
}
