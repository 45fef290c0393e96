using System.Text;

namespace Runnel.DynamoDb.Model;

/// <summary>The data types of DynamoDB's AttributeValue, by their wire names.</summary>
public enum AttributeType
{
    S,
    N,
    B,
    BOOL,
    NULL,
    M,
    L,
    SS,
    NS,
    BS,
}

/// <summary>
/// One DynamoDB attribute value: a scalar (S, N, B, BOOL, NULL), a document (M, L) or a set (SS, NS, BS). Sets keep
/// the order they were given in but compare as sets. Immutable: updates build new values.
/// </summary>
public sealed class AttributeValue : IEquatable<AttributeValue>
{
    private readonly object? _value;

    private AttributeValue(AttributeType type, object? value)
    {
        Type = type;
        _value = value;
    }

    public AttributeType Type { get; }

    public static AttributeValue S(string value) => new(AttributeType.S, value);

    public static AttributeValue N(DynamoNumber value) => new(AttributeType.N, value);

    public static AttributeValue B(byte[] value) => new(AttributeType.B, value);

    public static AttributeValue Bool(bool value) => new(AttributeType.BOOL, value);

    public static readonly AttributeValue Null = new(AttributeType.NULL, true);

    public static AttributeValue M(Item members) => new(AttributeType.M, members);

    public static AttributeValue L(IReadOnlyList<AttributeValue> elements) => new(AttributeType.L, elements);

    public static AttributeValue SS(IReadOnlyList<string> members) => new(AttributeType.SS, members);

    public static AttributeValue NS(IReadOnlyList<DynamoNumber> members) => new(AttributeType.NS, members);

    public static AttributeValue BS(IReadOnlyList<byte[]> members) => new(AttributeType.BS, members);

    public string String => (string)_value!;
    public DynamoNumber Number => (DynamoNumber)_value!;
    public byte[] Bytes => (byte[])_value!;
    public bool Boolean => (bool)_value!;
    public Item Map => (Item)_value!;
    public IReadOnlyList<AttributeValue> List => (IReadOnlyList<AttributeValue>)_value!;
    public IReadOnlyList<string> StringSet => (IReadOnlyList<string>)_value!;
    public IReadOnlyList<DynamoNumber> NumberSet => (IReadOnlyList<DynamoNumber>)_value!;
    public IReadOnlyList<byte[]> BinarySet => (IReadOnlyList<byte[]>)_value!;

    public bool IsSet => Type is AttributeType.SS or AttributeType.NS or AttributeType.BS;

    /// <summary>Whether a key attribute may be of this type (S, N or B).</summary>
    public bool IsKeyType => Type is AttributeType.S or AttributeType.N or AttributeType.B;

    /// <summary>
    /// The order of two scalars of one type, as DynamoDB sorts and compares them: strings by their UTF-8 bytes, numbers
    /// numerically, binary by unsigned bytes. Null when they are not comparable (different types, or not S, N or B).
    /// </summary>
    public static int? Compare(AttributeValue a, AttributeValue b)
    {
        if (a.Type != b.Type)
            return null;
        return a.Type switch
        {
            AttributeType.S => CompareUtf8(a.String, b.String),
            AttributeType.N => a.Number.CompareTo(b.Number),
            AttributeType.B => a.Bytes.AsSpan().SequenceCompareTo(b.Bytes),
            _ => null,
        };
    }

    /// <summary>Ordinal order of the UTF-8 encodings (which differs from UTF-16's past the surrogates).</summary>
    public static int CompareUtf8(string a, string b)
    {
        if (Ascii.IsValid(a) && Ascii.IsValid(b))
            return Math.Sign(string.CompareOrdinal(a, b));
        return Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
    }

    public bool Equals(AttributeValue? other)
    {
        if (other is null || other.Type != Type)
            return false;
        return Type switch
        {
            AttributeType.S => String == other.String,
            AttributeType.N => Number == other.Number,
            AttributeType.B => Bytes.AsSpan().SequenceEqual(other.Bytes),
            AttributeType.BOOL => Boolean == other.Boolean,
            AttributeType.NULL => true,
            AttributeType.M => Map.Count == other.Map.Count && Map.All(p => other.Map.TryGetValue(p.Key, out var v) && p.Value.Equals(v)),
            AttributeType.L => List.Count == other.List.Count && List.Zip(other.List).All(p => p.First.Equals(p.Second)),
            AttributeType.SS => StringSet.Count == other.StringSet.Count && StringSet.All(other.StringSet.Contains),
            AttributeType.NS => NumberSet.Count == other.NumberSet.Count && NumberSet.All(other.NumberSet.Contains),
            AttributeType.BS => BinarySet.Count == other.BinarySet.Count && BinarySet.All(b => other.BinarySet.Any(o => o.AsSpan().SequenceEqual(b))),
            _ => false,
        };
    }

    public override bool Equals(object? obj) => Equals(obj as AttributeValue);

    public override int GetHashCode() => Type switch
    {
        AttributeType.S => HashCode.Combine(Type, String),
        AttributeType.N => HashCode.Combine(Type, Number),
        AttributeType.BOOL => HashCode.Combine(Type, Boolean),
        _ => (int)Type,
    };

    /// <summary>Bytes the value counts for in an item's size (DynamoDB's rules: UTF-8 lengths, numbers by digits,
    /// 3 bytes per document plus 1 per element).</summary>
    public int Size => Type switch
    {
        AttributeType.S => Encoding.UTF8.GetByteCount(String),
        AttributeType.N => Number.Size,
        AttributeType.B => Bytes.Length,
        AttributeType.BOOL or AttributeType.NULL => 1,
        AttributeType.M => 3 + Map.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + p.Value.Size + 1),
        AttributeType.L => 3 + List.Sum(v => v.Size + 1),
        AttributeType.SS => StringSet.Sum(Encoding.UTF8.GetByteCount),
        AttributeType.NS => NumberSet.Sum(n => n.Size),
        AttributeType.BS => BinarySet.Sum(b => b.Length),
        _ => 0,
    };

    /// <summary>What the <c>size</c> function gives: a string's length, a binary's bytes, a set's, list's or map's
    /// number of elements; null for the other types, for which the function has no value.</summary>
    public int? Length => Type switch
    {
        AttributeType.S => String.Length,
        AttributeType.B => Bytes.Length,
        AttributeType.SS => StringSet.Count,
        AttributeType.NS => NumberSet.Count,
        AttributeType.BS => BinarySet.Count,
        AttributeType.L => List.Count,
        AttributeType.M => Map.Count,
        _ => null,
    };

    /// <summary>The total size of an item: each attribute's name (UTF-8) plus its value.</summary>
    public static int SizeOf(Item item) => item.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + p.Value.Size);

    /// <summary>The value as AWS's messages show it, e.g. <c>{S:abc}</c>.</summary>
    public override string ToString() => Type switch
    {
        AttributeType.S => String,
        AttributeType.N => Number.ToString(),
        AttributeType.B => Convert.ToBase64String(Bytes),
        AttributeType.BOOL => Boolean ? "true" : "false",
        AttributeType.NULL => "true",
        AttributeType.SS => "[" + string.Join(", ", StringSet) + "]",
        AttributeType.NS => "[" + string.Join(", ", NumberSet) + "]",
        _ => Type.ToString(),
    };
}
