using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Runnel.Protocol.Requests;

/// <summary>A member's name and value in a request object.</summary>
public readonly record struct RequestProperty(string Name, RequestValue Value);

/// <summary>
/// One value of a <see cref="RequestDocument"/>, whichever encoding it came in. The default value is
/// <see cref="RequestKind.Undefined"/>: what <see cref="TryGetProperty"/> gives for an absent member.
/// Valid while its document is.
/// </summary>
public readonly struct RequestValue
{
    private readonly RequestDocument? _document;
    private readonly int _index;

    internal RequestValue(RequestDocument document, int index)
    {
        _document = document;
        _index = index;
    }

    public RequestKind Kind => _document is null ? RequestKind.Undefined : _document.At(_index).Kind;

    /// <summary>True for an absent member and for null: AWS treats both as not given.</summary>
    public bool IsAbsent => Kind is RequestKind.Undefined or RequestKind.Null;

    /// <summary>The member named <paramref name="name"/> of an object; with the name twice, the last, as JSON readers do.</summary>
    public bool TryGetProperty(string name, out RequestValue value)
    {
        value = default;
        if (Kind != RequestKind.Object)
            return false;
        var document = _document!;
        int end = document.At(_index).End;
        for (int i = _index + 1; i < end; i = document.At(i + 1).End)
        {
            if (NameEquals(document.Bytes(i), name))
                value = new RequestValue(document, i + 1);
        }
        return value._document is not null;
    }

    /// <summary>The member named <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public RequestValue GetProperty(string name) =>
        TryGetProperty(name, out var value) ? value : throw new KeyNotFoundException($"The request has no member {name}.");

    /// <summary>A string's text.</summary>
    public string GetString() => Kind == RequestKind.String
        ? Encoding.UTF8.GetString(_document!.Bytes(_index))
        : throw new InvalidOperationException($"A {Kind} is not a string.");

    /// <summary>A string's UTF-8 text, or a CBOR byte string's bytes, without copying.</summary>
    public ReadOnlySpan<byte> Utf8 => Kind is RequestKind.String or RequestKind.Bytes
        ? _document!.Bytes(_index)
        : throw new InvalidOperationException($"A {Kind} has no text.");

    /// <summary>A number's value; beyond the range of a double, infinity of its sign.</summary>
    public double GetDouble()
    {
        ref readonly var node = ref Node(RequestKind.Number);
        if (node.Millis)
            return node.Integer / 1000d;
        if (node.HasInteger)
            return node.Unsigned ? (ulong)node.Integer : node.Integer;
        if (node.Length == 0)
            return node.Number; // a CBOR float
        return double.Parse(_document!.Bytes(_index), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>A timestamp (epoch seconds, fraction allowed; from CBOR, the milliseconds sent) in Unix milliseconds, rounded down.</summary>
    public long GetTimestampMillis()
    {
        ref readonly var node = ref Node(RequestKind.Number);
        if (node.Millis)
            return node.Integer;
        if (!node.HasInteger && node.Length > 0
            && decimal.TryParse(_document!.Bytes(_index), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal seconds)
            && Math.Abs(seconds) < 1e15m)
            return (long)Math.Floor(seconds * 1000);
        double millis = Math.Floor(GetDouble() * 1000);
        return millis >= long.MaxValue ? long.MaxValue : millis <= long.MinValue ? long.MinValue : (long)millis;
    }

    /// <summary>The number of elements of an array or members of an object.</summary>
    public int Count => Kind is RequestKind.Array or RequestKind.Object
        ? _document!.At(_index).Length
        : throw new InvalidOperationException($"A {Kind} has no elements.");

    /// <summary>The bytes a blob carries: a CBOR byte string's length, or what a base64 string decodes to.</summary>
    public long BlobLength
    {
        get
        {
            if (Kind == RequestKind.Bytes)
                return _document!.At(_index).Length;
            var text = Utf8;
            if (text.Length == 0)
                return 0;
            int padding = text[^1] != '=' ? 0 : text.Length > 1 && text[^2] == '=' ? 2 : 1;
            return (long)text.Length * 3 / 4 - padding;
        }
    }

    public ArrayEnumerator EnumerateArray() => Kind == RequestKind.Array
        ? new ArrayEnumerator(_document!, _index)
        : throw new InvalidOperationException($"A {Kind} is not an array.");

    public ObjectEnumerator EnumerateObject() => Kind == RequestKind.Object
        ? new ObjectEnumerator(_document!, _index)
        : throw new InvalidOperationException($"A {Kind} is not an object.");

    /// <summary>Writes the value as JSON: blobs as base64, CBOR timestamps as epoch seconds.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        var document = _document ?? throw new InvalidOperationException("An absent value has no JSON.");
        ref readonly var node = ref document.At(_index);
        switch (node.Kind)
        {
            case RequestKind.Object:
                writer.WriteStartObject();
                foreach (var (name, value) in EnumerateObject())
                {
                    writer.WritePropertyName(name);
                    value.WriteTo(writer);
                }
                writer.WriteEndObject();
                break;
            case RequestKind.Array:
                writer.WriteStartArray();
                foreach (var item in EnumerateArray())
                    item.WriteTo(writer);
                writer.WriteEndArray();
                break;
            case RequestKind.String:
                writer.WriteStringValue(document.Bytes(_index));
                break;
            case RequestKind.Bytes:
                writer.WriteBase64StringValue(document.Bytes(_index));
                break;
            case RequestKind.Number when node.Millis:
                writer.WriteNumberValue(node.Integer / 1000m);
                break;
            case RequestKind.Number when node.HasInteger && node.Unsigned:
                writer.WriteNumberValue((ulong)node.Integer);
                break;
            case RequestKind.Number when node.HasInteger:
                writer.WriteNumberValue(node.Integer);
                break;
            case RequestKind.Number when node.Length == 0:
                writer.WriteNumberValue(node.Number);
                break;
            case RequestKind.Number:
                writer.WriteRawValue(document.Bytes(_index), skipInputValidation: true);
                break;
            case RequestKind.True or RequestKind.False:
                writer.WriteBooleanValue(node.Kind == RequestKind.True);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>The value as JSON text (see <see cref="WriteTo"/>); a number as it was written.</summary>
    public string GetRawText()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public override string ToString() => _document is null ? "" : GetRawText();

    private ref readonly RequestDocument.Node Node(RequestKind expected)
    {
        if (Kind != expected)
            throw new InvalidOperationException($"A {Kind} is not a {expected}.");
        return ref _document!.At(_index);
    }

    /// <summary>UTF-8 <paramref name="utf8"/> equals <paramref name="name"/>; member names are ASCII, compared without a string made.</summary>
    private static bool NameEquals(ReadOnlySpan<byte> utf8, string name) =>
        System.Text.Ascii.IsValid(name) ? System.Text.Ascii.Equals(utf8, name) : Encoding.UTF8.GetString(utf8) == name;

    /// <summary>The elements of an array, in order.</summary>
    public struct ArrayEnumerator : IEnumerable<RequestValue>, IEnumerator<RequestValue>
    {
        private readonly RequestDocument _document;
        private readonly int _end;
        private readonly int _first;
        private int _current;
        private int _next;

        internal ArrayEnumerator(RequestDocument document, int array)
        {
            _document = document;
            _end = document.At(array).End;
            _first = array + 1;
            _current = -1;
            _next = _first;
        }

        public readonly RequestValue Current => new(_document, _current);

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_next >= _end)
                return false;
            _current = _next;
            _next = _document.At(_current).End;
            return true;
        }

        public readonly ArrayEnumerator GetEnumerator() => this;

        IEnumerator<RequestValue> IEnumerable<RequestValue>.GetEnumerator() => this;

        IEnumerator IEnumerable.GetEnumerator() => this;

        public void Reset()
        {
            _current = -1;
            _next = _first;
        }

        public readonly void Dispose()
        {
        }
    }

    /// <summary>The members of an object, in the order sent.</summary>
    public struct ObjectEnumerator : IEnumerable<RequestProperty>, IEnumerator<RequestProperty>
    {
        private readonly RequestDocument _document;
        private readonly int _end;
        private readonly int _first;
        private int _current;
        private int _next;

        internal ObjectEnumerator(RequestDocument document, int obj)
        {
            _document = document;
            _end = document.At(obj).End;
            _first = obj + 1;
            _current = -1;
            _next = _first;
        }

        public readonly RequestProperty Current =>
            new(Encoding.UTF8.GetString(_document.Bytes(_current)), new RequestValue(_document, _current + 1));

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_next >= _end)
                return false;
            _current = _next;
            _next = _document.At(_current + 1).End;
            return true;
        }

        public readonly ObjectEnumerator GetEnumerator() => this;

        IEnumerator<RequestProperty> IEnumerable<RequestProperty>.GetEnumerator() => this;

        IEnumerator IEnumerable.GetEnumerator() => this;

        public void Reset()
        {
            _current = -1;
            _next = _first;
        }

        public readonly void Dispose()
        {
        }
    }
}
