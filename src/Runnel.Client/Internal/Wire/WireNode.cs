using System.Globalization;

namespace Runnel.Client.Internal.Wire;

/// <summary>The kinds of value an answer holds, in either encoding.</summary>
internal enum WireKind
{
    Null,
    Object,
    Array,
    String,
    Bytes,
    Number,
    Boolean,
    Timestamp,
}

/// <summary>
/// One value of a parsed answer, the same for JSON and CBOR, so that each operation's answer is read once for both.
/// A JSON blob is a base64 string until read as bytes; a JSON timestamp is a number of epoch seconds; a CBOR timestamp
/// is tag 1 (an integer of epoch milliseconds, or a float of epoch seconds). Immutable once parsed.
/// </summary>
internal sealed class WireNode
{
    public static readonly WireNode Missing = new(WireKind.Null);

    private static readonly List<WireNode> NoItems = [];

    public WireNode(WireKind kind) => Kind = kind;

    public WireKind Kind { get; }

    public Dictionary<string, WireNode>? Members { get; init; }

    public List<WireNode>? Items { get; init; }

    private string? _text;

    /// <summary>A string's value (made from <see cref="Utf8"/> at the first read when the parser kept the bytes).</summary>
    public string? Text
    {
        get => _text ??= Utf8.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(Utf8.Span);
        init => _text = value;
    }

    /// <summary>A long JSON string's UTF-8 bytes, without escapes, as a slice of the answer (empty otherwise).</summary>
    public ReadOnlyMemory<byte> Utf8 { get; init; }

    public byte[]? Bytes { get; init; }

    /// <summary>A number's value; for a timestamp, epoch milliseconds.</summary>
    public decimal Number { get; init; }

    public bool Flag { get; init; }

    public bool IsNull => Kind == WireKind.Null;

    /// <summary>The member <paramref name="name"/> of an object, or <see cref="Missing"/>.</summary>
    public WireNode this[string name] => Members is not null && Members.TryGetValue(name, out var node) ? node : Missing;

    public IReadOnlyList<WireNode> Elements => Items ?? NoItems;

    public string? String(string name) => this[name] is { Kind: WireKind.String } node ? node.Text : null;

    public string RequiredString(string name) => String(name) ?? throw new FormatException($"The answer has no string member '{name}'.");

    public long? Long(string name) => this[name] is { Kind: WireKind.Number or WireKind.Timestamp } node ? (long)node.Number : null;

    public bool? Bool(string name) => this[name] is { Kind: WireKind.Boolean } node ? node.Flag : null;

    public byte[]? Blob(string name)
    {
        var node = this[name];
        return node.Kind switch
        {
            WireKind.Bytes => node.Bytes,
            WireKind.String when !node.Utf8.IsEmpty => FromBase64(node.Utf8.Span),
            WireKind.String => Convert.FromBase64String(node.Text!),
            _ => null,
        };
    }

    /// <summary>Base64 in UTF-8 decoded straight into bytes of the exact length.</summary>
    /// <exception cref="FormatException">It is not base64.</exception>
    private static byte[] FromBase64(ReadOnlySpan<byte> utf8)
    {
        int padding = utf8.EndsWith("=="u8) ? 2 : utf8.EndsWith("="u8) ? 1 : 0;
        if (utf8.Length % 4 != 0)
            throw new FormatException("A blob is not base64: its length is not a multiple of 4.");
        var bytes = new byte[utf8.Length / 4 * 3 - padding];
        if (System.Buffers.Text.Base64.DecodeFromUtf8(utf8, bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != bytes.Length)
            throw new FormatException("A blob is not base64.");
        return bytes;
    }

    public DateTimeOffset? Timestamp(string name)
    {
        var node = this[name];
        return node.Kind switch
        {
            WireKind.Timestamp => DateTimeOffset.FromUnixTimeMilliseconds((long)node.Number),
            WireKind.Number => DateTimeOffset.FromUnixTimeMilliseconds((long)decimal.Floor(node.Number * 1000m)),
            WireKind.String when DateTimeOffset.TryParse(node.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,
            _ => null,
        };
    }

    public List<string> Strings(string name) => [.. this[name].Elements.Where(e => e.Kind == WireKind.String).Select(e => e.Text!)];

    public List<T> List<T>(string name, Func<WireNode, T> read) => [.. this[name].Elements.Select(read)];
}
