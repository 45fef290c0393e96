using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Runnel.Protocol.Requests;

/// <summary>What a request value is. <see cref="Bytes"/> comes from CBOR only; JSON carries blobs as base64 strings.</summary>
public enum RequestKind : byte { Undefined, Object, Array, String, Number, True, False, Null, Bytes }

/// <summary>
/// One request body, read once from JSON (AWS JSON 1.1) or from CBOR (RPC v2 CBOR, as the Java SDK sends it)
/// into the same model, which the validator and the handlers read through <see cref="RequestValue"/>.
/// Values are flat nodes in one pooled array (an object's members follow it, each name then its value) that
/// point into the request bytes: a text, a number or a CBOR byte string is not copied, and a blob is decoded
/// once, by the handler, straight into the record buffer. Only what must change on the way is copied, into a
/// pooled side buffer: JSON strings with escapes and CBOR strings sent in chunks. Disposing returns both
/// arrays; the request bytes must outlive the document.
/// </summary>
public sealed partial class RequestDocument : IDisposable
{
    /// <summary>The deepest nesting either reader accepts by default (<c>--max-nesting-depth</c>; Kinesis's deepest shape has 5).</summary>
    public const int MaxDepth = 64;

    /// <summary>The deepest a server may be set to accept: the JSON reader's open containers are counted on the stack.</summary>
    public const int DepthLimit = 512;

    private int _maxDepth = MaxDepth;

    internal struct Node
    {
        public RequestKind Kind;
        /// <summary>The text or bytes are in the side buffer, not the body.</summary>
        public bool Side;
        /// <summary>A number held in <see cref="Integer"/> (CBOR integers), not as text.</summary>
        public bool HasInteger;
        /// <summary>With <see cref="HasInteger"/>: the integer is unsigned and above <see cref="long.MaxValue"/>.</summary>
        public bool Unsigned;
        /// <summary>A CBOR timestamp: <see cref="Integer"/> is epoch milliseconds, exactly as sent.</summary>
        public bool Millis;
        /// <summary>Text, bytes or a JSON number's text: where it starts (body or side buffer) and its length.
        /// A container: <see cref="Length"/> counts its members or elements.</summary>
        public int Start, Length;
        /// <summary>The index just past this value and everything in it.</summary>
        public int End;
        /// <summary>A CBOR float (timestamps in seconds).</summary>
        public double Number;
        public long Integer;
    }

    private readonly ReadOnlyMemory<byte> _body;
    private Node[] _nodes = ArrayPool<Node>.Shared.Rent(64);
    private int _count;
    private byte[]? _side;
    private int _sideLength;

    private RequestDocument(ReadOnlyMemory<byte> body) => _body = body;

    /// <summary>The top-level value.</summary>
    public RequestValue Root => new(this, 0);

    /// <summary>Reads a JSON body. Throws <see cref="JsonException"/> when it is not one JSON value nesting at most
    /// <paramref name="maxDepth"/> deep (1..<see cref="DepthLimit"/>), or <see cref="FormatException"/> when a string is
    /// not UTF-8 or escapes half a surrogate pair.</summary>
    public static RequestDocument ParseJson(ReadOnlyMemory<byte> json, int maxDepth = MaxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDepth, DepthLimit);
        var document = new RequestDocument(json) { _maxDepth = maxDepth };
        try
        {
            document.ReadJson();
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_nodes.Length > 0)
            ArrayPool<Node>.Shared.Return(_nodes);
        _nodes = [];
        if (_side is not null)
            ArrayPool<byte>.Shared.Return(_side);
        _side = null;
    }

    private void ReadJson()
    {
        var bytes = _body.Span;
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = _maxDepth });
        Span<int> open = stackalloc int[_maxDepth + 1];
        int depth = 0;
        while (reader.Read())
        {
            if (depth > 0 && reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray or JsonTokenType.PropertyName)
                && _nodes[open[depth - 1]].Kind == RequestKind.Array)
                _nodes[open[depth - 1]].Length++;
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    open[depth++] = Add(reader.TokenType == JsonTokenType.StartObject ? RequestKind.Object : RequestKind.Array);
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    _nodes[open[--depth]].End = _count;
                    break;
                case JsonTokenType.PropertyName:
                    _nodes[open[depth - 1]].Length++;
                    AddJsonText(ref reader, bytes);
                    break;
                case JsonTokenType.String:
                    AddJsonText(ref reader, bytes);
                    break;
                case JsonTokenType.Number:
                    int numberIndex = Add(RequestKind.Number);
                    ref var number = ref _nodes[numberIndex];
                    number.Start = OffsetOf(bytes, reader.ValueSpan);
                    number.Length = reader.ValueSpan.Length;
                    break;
                case JsonTokenType.True:
                    Add(RequestKind.True);
                    break;
                case JsonTokenType.False:
                    Add(RequestKind.False);
                    break;
                case JsonTokenType.Null:
                    Add(RequestKind.Null);
                    break;
            }
        }
        if (_count == 0)
            throw new JsonException("The body holds no JSON value.");
    }

    /// <summary>A string or member name: in place unless it has escapes, which are undone into the side buffer.</summary>
    private void AddJsonText(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes)
    {
        int index = Add(RequestKind.String);
        if (!reader.ValueIsEscaped)
        {
            var text = reader.ValueSpan;
            CheckUtf8(text);
            _nodes[index].Start = OffsetOf(bytes, text);
            _nodes[index].Length = text.Length;
            return;
        }
        var space = SideSpace(reader.ValueSpan.Length); // unescaping never lengthens
        int written;
        try
        {
            written = reader.CopyString(space);
        }
        catch (InvalidOperationException e)
        {
            throw new FormatException("A string escapes a lone surrogate.", e); // "\ud800" alone is not text
        }
        CheckUtf8(space[..written]);
        _nodes[index].Side = true;
        _nodes[index].Start = _sideLength;
        _nodes[index].Length = written;
        _sideLength += written;
    }

    /// <summary>Text that will be read as .NET strings must be UTF-8 (a decoder would quietly put U+FFFD in place of bad bytes).</summary>
    private static void CheckUtf8(ReadOnlySpan<byte> text)
    {
        if (!System.Text.Unicode.Utf8.IsValid(text))
            throw new FormatException("A string is not valid UTF-8.");
    }

    private static int OffsetOf(ReadOnlySpan<byte> whole, ReadOnlySpan<byte> part) =>
        (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(whole), ref MemoryMarshal.GetReference(part));

    /// <summary>Appends a leaf node (its <see cref="Node.End"/> set; a container's is set when it closes).</summary>
    private int Add(RequestKind kind)
    {
        if (_count == _nodes.Length)
        {
            var larger = ArrayPool<Node>.Shared.Rent(_nodes.Length * 2);
            _nodes.AsSpan(0, _count).CopyTo(larger);
            ArrayPool<Node>.Shared.Return(_nodes);
            _nodes = larger;
        }
        _nodes[_count] = new Node { Kind = kind, End = _count + 1 };
        return _count++;
    }

    /// <summary>Room for <paramref name="length"/> more bytes at the end of the side buffer (written at <see cref="_sideLength"/>).</summary>
    private Span<byte> SideSpace(int length)
    {
        if (_side is null || _sideLength + length > _side.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_sideLength + length, Math.Max(256, (_side?.Length ?? 0) * 2)));
            if (_side is not null)
            {
                _side.AsSpan(0, _sideLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_side);
            }
            _side = larger;
        }
        return _side.AsSpan(_sideLength, length);
    }

    internal ref readonly Node At(int index) => ref _nodes[index];

    /// <summary>The text, bytes or number text of a node.</summary>
    internal ReadOnlySpan<byte> Bytes(int index)
    {
        ref readonly var node = ref _nodes[index];
        return node.Side ? _side.AsSpan(node.Start, node.Length) : _body.Span.Slice(node.Start, node.Length);
    }
}
