using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Expressions;

/// <summary>
/// Applies an UpdateExpression to an item. Every operand is read from the item as it was before the update (as
/// DynamoDB does), then the actions are applied; REMOVEs of list elements go from the highest index down so that
/// each names the element it named in the original list. Thread-safe: stateless.
/// </summary>
public static class UpdateApplier
{
    /// <summary>The item after the update (a new copy); <paramref name="original"/> is null for a key not stored yet.</summary>
    public static Item Apply(IReadOnlyList<UpdateAction> actions, Item? original, Item key)
    {
        var before = original ?? key;
        var values = new List<(UpdateAction Action, AttributeValue? Value)>();
        foreach (var action in actions)
        {
            var value = action switch
            {
                SetAction set => Evaluate(set.Value, before) ?? throw MissingAttribute(),
                AddAction add => Add(Documents.Resolve(before, add.Path), add.Value.Value),
                DeleteAction delete => Subtract(Documents.Resolve(before, delete.Path), delete.Value.Value),
                _ => null,
            };
            values.Add((action, value));
        }
        var item = new Item(before, StringComparer.Ordinal);
        foreach (var (action, value) in values.Where(v => v.Action is not RemoveAction))
        {
            if (value is null)
                Documents.Remove(item, action.Path); // DELETE took the last members of a set
            else
                Documents.Set(item, action.Path, value);
        }
        var removes = values.Select(v => v.Action).OfType<RemoveAction>()
            .OrderByDescending(r => r.Path.Elements[^1].IsIndex ? r.Path.Elements[^1].Index : -1);
        foreach (var remove in removes)
            Documents.Remove(item, remove.Path);
        return item;
    }

    private static AttributeValue? Evaluate(Operand operand, Item item)
    {
        switch (operand)
        {
            case ArithmeticOperand arithmetic:
                var left = Evaluate(arithmetic.Left, item) ?? throw MissingAttribute();
                var right = Evaluate(arithmetic.Right, item) ?? throw MissingAttribute();
                if (left.Type != AttributeType.N || right.Type != AttributeType.N)
                    throw WrongType();
                return Checked(arithmetic.Operator == '+' ? left.Number + right.Number : left.Number - right.Number);
            case FunctionOperand { Name: "if_not_exists" } f:
                return Evaluate(f.Arguments[0], item) ?? Evaluate(f.Arguments[1], item);
            case FunctionOperand { Name: "list_append" } f:
                var first = Evaluate(f.Arguments[0], item) ?? throw MissingAttribute();
                var second = Evaluate(f.Arguments[1], item) ?? throw MissingAttribute();
                if (first.Type != AttributeType.L || second.Type != AttributeType.L)
                    throw WrongType();
                return AttributeValue.L([.. first.List, .. second.List]);
            default:
                return ConditionEvaluator.Value(operand, item);
        }
    }

    /// <summary>ADD: a number added to a number (or to nothing: the number itself); a set's members added to a set of its type.</summary>
    public static AttributeValue Add(AttributeValue? current, AttributeValue value)
    {
        if (current is null)
            return value;
        if (current.Type != value.Type)
            throw WrongType();
        return value.Type switch
        {
            AttributeType.N => Checked(current.Number + value.Number),
            AttributeType.SS => AttributeValue.SS([.. current.StringSet, .. value.StringSet.Where(s => !current.StringSet.Contains(s)).Distinct()]),
            AttributeType.NS => AttributeValue.NS([.. current.NumberSet, .. value.NumberSet.Where(n => !current.NumberSet.Contains(n)).Distinct()]),
            AttributeType.BS => AttributeValue.BS([.. current.BinarySet, .. value.BinarySet.Where(b => !current.BinarySet.Any(c => c.AsSpan().SequenceEqual(b)))]),
            AttributeType.L => AttributeValue.L([.. current.List, .. value.List]), // AttributeUpdates' ADD appends to a list
            _ => throw WrongType(),
        };
    }

    /// <summary>DELETE: a set less the given members; null when nothing is left (the attribute is then removed).</summary>
    public static AttributeValue? Subtract(AttributeValue? current, AttributeValue value)
    {
        if (current is null)
            return null;
        if (current.Type != value.Type)
            throw WrongType();
        var left = value.Type switch
        {
            AttributeType.SS => AttributeValue.SS(current.StringSet.Where(s => !value.StringSet.Contains(s)).ToList()),
            AttributeType.NS => AttributeValue.NS(current.NumberSet.Where(n => !value.NumberSet.Contains(n)).ToList()),
            AttributeType.BS => AttributeValue.BS(current.BinarySet.Where(b => !value.BinarySet.Any(v => v.AsSpan().SequenceEqual(b))).ToList()),
            _ => throw WrongType(),
        };
        return left.Length == 0 ? null : left;
    }

    private static AttributeValue Checked(DynamoNumber number) =>
        number.RangeError() is { } error ? throw DynamoDbErrors.Validation(error) : AttributeValue.N(number);

    private static DynamoDbException MissingAttribute() =>
        DynamoDbErrors.Validation("The provided expression refers to an attribute that does not exist in the item");

    private static DynamoDbException WrongType() =>
        DynamoDbErrors.Validation("An operand in the update expression has an incorrect data type");
}
