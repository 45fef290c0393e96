using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Service;

/// <summary>
/// A Query's key condition, reduced to what it selects: one value of the hash key and, optionally, one condition on the
/// range key (=, &lt;, &lt;=, &gt;, &gt;=, BETWEEN, begins_with). Built from a KeyConditionExpression or legacy
/// KeyConditions, with AWS's messages for what a key condition may not say.
/// </summary>
public sealed record KeyCondition(KeyElement Hash, AttributeValue HashValue, Condition? Range)
{
    public static KeyCondition From(Condition condition, KeySchema key, bool expression)
    {
        var parts = new List<Condition>();
        Flatten(condition, parts, expression);
        Condition? hash = null, range = null;
        foreach (var part in parts)
        {
            string attribute = KeyAttribute(part);
            if (attribute == key.Hash.Name && hash is null)
                hash = part;
            else if (attribute == key.Range?.Name && range is null)
                range = part;
            else if (attribute == key.Hash.Name || attribute == key.Range?.Name)
                throw DynamoDbErrors.Validation("KeyConditionExpressions must only contain one condition per key");
            else
                throw DynamoDbErrors.Validation(expression ? $"Query condition missed key schema element: {key.Hash.Name}" : "Query condition missed key schema element");
        }
        if (hash is not Comparison { Operator: "=" } equality)
            throw DynamoDbErrors.Validation(hash is null ? $"Query condition missed key schema element: {key.Hash.Name}" : "Query key condition not supported");
        var value = ((ValueOperand)(equality.Right is ValueOperand ? equality.Right : equality.Left)).Value;
        if (value.Type != key.Hash.Type)
            throw DynamoDbErrors.InvalidParameter($"Condition parameter type does not match schema type");
        if (range is not null && Operands(range).OfType<ValueOperand>().Any(v => v.Value.Type != key.Range!.Type))
            throw DynamoDbErrors.InvalidParameter("Condition parameter type does not match schema type");
        return new KeyCondition(key.Hash, value, range);
    }

    private static void Flatten(Condition condition, List<Condition> parts, bool expression)
    {
        switch (condition)
        {
            case And and:
                Flatten(and.Left, parts, expression);
                Flatten(and.Right, parts, expression);
                break;
            case Or:
                throw DynamoDbErrors.Validation("Invalid operator used in KeyConditionExpression: OR");
            case Not:
                throw DynamoDbErrors.Validation("Invalid operator used in KeyConditionExpression: NOT");
            case In:
                throw DynamoDbErrors.Validation(expression ? "Invalid operator used in KeyConditionExpression: IN" : "Query key condition not supported");
            case Comparison { Operator: "<>" }:
                throw DynamoDbErrors.Validation(expression ? "Invalid operator used in KeyConditionExpression: <>" : "Query key condition not supported");
            case FunctionCondition { Name: not "begins_with" } f:
                throw DynamoDbErrors.Validation(expression ? $"Invalid operator used in KeyConditionExpression: {f.Name}" : "Query key condition not supported");
            case Between { Value: not PathOperand }:
                throw DynamoDbErrors.Validation("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand");
            case FunctionCondition { Arguments: [not PathOperand, ..] }:
                throw DynamoDbErrors.Validation("Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand");
            default:
                parts.Add(condition);
                break;
        }
    }

    private static IEnumerable<Operand> Operands(Condition condition) => condition switch
    {
        Comparison c => [c.Left, c.Right],
        Between b => [b.Value, b.Low, b.High],
        FunctionCondition f => f.Arguments,
        _ => [],
    };

    /// <summary>The one key attribute a part names; AWS's messages for a part that names none, several, or a nested path.</summary>
    private static string KeyAttribute(Condition part)
    {
        var paths = Operands(part).OfType<PathOperand>().ToList();
        if (Operands(part).OfType<FunctionOperand>().Any())
            throw DynamoDbErrors.Validation("KeyConditionExpressions cannot contain nested operations");
        if (paths.Count == 0)
            throw DynamoDbErrors.Validation("Invalid condition in KeyConditionExpression: No key attribute specified");
        if (paths.Count > 1)
            throw DynamoDbErrors.Validation("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition");
        if (!paths[0].Path.IsTopLevel)
            throw DynamoDbErrors.Validation("KeyConditionExpressions cannot have conditions on nested attributes");
        return paths[0].Path.Head;
    }

    public bool Matches(Item item) =>
        item.TryGetValue(Hash.Name, out var hash) && hash.Equals(HashValue) && (Range is null || ConditionEvaluator.Matches(Range, item));
}
