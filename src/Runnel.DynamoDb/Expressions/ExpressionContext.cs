using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Expressions;

/// <summary>
/// The ExpressionAttributeNames and ExpressionAttributeValues of one request, shared by all its expressions, with
/// which of them the expressions used: a request that supplies one that no expression uses is refused, as AWS does.
/// Not thread-safe: one per request.
/// </summary>
public sealed class ExpressionContext
{
    private readonly IReadOnlyDictionary<string, string> _names;
    private readonly IReadOnlyDictionary<string, AttributeValue> _values;
    private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedValues = new(StringComparer.Ordinal);

    public ExpressionContext(IReadOnlyDictionary<string, string>? names = null, IReadOnlyDictionary<string, AttributeValue>? values = null)
    {
        _names = names ?? new Dictionary<string, string>();
        _values = values ?? new Dictionary<string, AttributeValue>();
    }

    public static ExpressionContext Empty => new();

    internal string? Name(string placeholder)
    {
        if (!_names.TryGetValue(placeholder, out string? name))
            return null;
        _usedNames.Add(placeholder);
        return name;
    }

    internal AttributeValue? Value(string placeholder)
    {
        if (!_values.TryGetValue(placeholder, out var value))
            return null;
        _usedValues.Add(placeholder);
        return value;
    }

    /// <summary>Refuses names or values that no expression of the request used (call after parsing them all).</summary>
    public void CheckAllUsed()
    {
        var names = _names.Keys.Where(k => !_usedNames.Contains(k)).ToList();
        if (names.Count > 0)
            throw DynamoDbErrors.Validation($"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{string.Join(", ", names)}}}");
        var values = _values.Keys.Where(k => !_usedValues.Contains(k)).ToList();
        if (values.Count > 0)
            throw DynamoDbErrors.Validation($"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{string.Join(", ", values)}}}");
    }
}
