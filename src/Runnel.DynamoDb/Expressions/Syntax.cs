using Runnel.DynamoDb.Model;

namespace Runnel.DynamoDb.Expressions;

/// <summary>One step of a document path: an attribute or map member name, or a list index.</summary>
public readonly record struct PathElement(string? Name, int Index)
{
    public bool IsIndex => Name is null;

    public override string ToString() => Name ?? $"[{Index}]";
}

/// <summary>A document path (<c>a.b[2].c</c>) with every expression attribute name resolved: its first element is a name.</summary>
public sealed record DocumentPath(IReadOnlyList<PathElement> Elements)
{
    public string Head => Elements[0].Name!;

    public bool IsTopLevel => Elements.Count == 1;

    public static DocumentPath Of(string attribute) => new([new PathElement(attribute, 0)]);

    /// <summary>As AWS's messages show a path: <c>[a, b, [2]]</c>.</summary>
    public override string ToString() => "[" + string.Join(", ", Elements) + "]";

    public bool Equals(DocumentPath? other) => other is not null && Elements.SequenceEqual(other.Elements);

    public override int GetHashCode() => Elements.Aggregate(0, (h, e) => HashCode.Combine(h, e));
}

/// <summary>What an expression computes a value from.</summary>
public abstract record Operand;

public sealed record PathOperand(DocumentPath Path) : Operand;

/// <summary>An expression attribute value (<c>:v</c>), resolved.</summary>
public sealed record ValueOperand(string Name, AttributeValue Value) : Operand;

/// <summary>A function that yields a value: <c>size</c> in conditions; <c>if_not_exists</c> and <c>list_append</c> in updates.</summary>
public sealed record FunctionOperand(string Name, IReadOnlyList<Operand> Arguments) : Operand;

/// <summary><c>a + b</c> or <c>a - b</c> on numbers, in an update's SET.</summary>
public sealed record ArithmeticOperand(char Operator, Operand Left, Operand Right) : Operand;

/// <summary>A condition (ConditionExpression, FilterExpression, KeyConditionExpression).</summary>
public abstract record Condition;

/// <summary><c>=</c>, <c>&lt;&gt;</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>.</summary>
public sealed record Comparison(string Operator, Operand Left, Operand Right) : Condition;

public sealed record Between(Operand Value, Operand Low, Operand High) : Condition;

public sealed record In(Operand Value, IReadOnlyList<Operand> Candidates) : Condition;

/// <summary>A function that yields a truth: attribute_exists, attribute_not_exists, attribute_type, begins_with, contains.</summary>
public sealed record FunctionCondition(string Name, IReadOnlyList<Operand> Arguments) : Condition;

public sealed record And(Condition Left, Condition Right) : Condition;

public sealed record Or(Condition Left, Condition Right) : Condition;

public sealed record Not(Condition Inner) : Condition;

/// <summary>One action of an UpdateExpression.</summary>
public abstract record UpdateAction(DocumentPath Path);

public sealed record SetAction(DocumentPath Path, Operand Value) : UpdateAction(Path);

public sealed record RemoveAction(DocumentPath Path) : UpdateAction(Path);

public sealed record AddAction(DocumentPath Path, ValueOperand Value) : UpdateAction(Path);

public sealed record DeleteAction(DocumentPath Path, ValueOperand Value) : UpdateAction(Path);
