using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// The MetadataExtraction processor's query (<c>MetadataExtractionQuery</c>, jq 1.6 on AWS): an object of keys and the
/// paths that give them, <c>{customer:.customer_id, device:.type.device, first:.tags[0], "odd key":."a b"}</c>.
/// Runnel evaluates the path subset of jq (field names, quoted names, array indices); anything else (filters, pipes,
/// functions such as <c>strftime</c>) is refused when the stream is created, with <see cref="FormatException"/>.
/// A key's value is a string as it is, a number as written, <c>true</c> or <c>false</c>; a record that is not a JSON
/// object, or in which a path is missing, null or not a scalar, fails its partitioning. Immutable, thread-safe.
/// </summary>
public sealed class PartitionQuery
{
    private readonly List<(string Key, object[] Path)> _keys;

    private PartitionQuery(List<(string Key, object[] Path)> keys) => _keys = keys;

    public IEnumerable<string> Keys => _keys.Select(k => k.Key);

    public static PartitionQuery Parse(string query)
    {
        var reader = new Text(query);
        var keys = new List<(string, object[])>();
        reader.Expect('{');
        do
        {
            string key = reader.Peek() == '"' ? reader.Quoted() : reader.Identifier();
            reader.Expect(':');
            var path = new List<object>();
            reader.Expect('.');
            path.Add(reader.Peek() == '"' ? reader.Quoted() : reader.Identifier());
            while (reader.Peek() is '.' or '[')
            {
                if (reader.Next() == '.')
                    path.Add(reader.Peek() == '"' ? reader.Quoted() : reader.Identifier());
                else
                {
                    path.Add(reader.Peek() == '"' ? reader.Quoted() : reader.Index());
                    reader.Expect(']');
                }
            }
            if (keys.Any(k => k.Item1 == key))
                throw new FormatException($"The key '{key}' is given twice in MetadataExtractionQuery.");
            keys.Add((key, path.ToArray()));
        }
        while (reader.TryTake(','));
        reader.Expect('}');
        reader.End();
        return keys.Count is > 0 and <= 50 ? new PartitionQuery(keys) : throw new FormatException("MetadataExtractionQuery gives 1 to 50 keys.");
    }

    /// <summary>The keys' values in a JSON record, or null (and why) when the record cannot be partitioned.</summary>
    public Dictionary<string, string>? Evaluate(ReadOnlyMemory<byte> record, out string? problem)
    {
        problem = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(record);
        }
        catch (JsonException e)
        {
            problem = $"The record is not JSON: {e.Message}";
            return null;
        }
        using (document)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, path) in _keys)
            {
                var at = document.RootElement;
                foreach (object step in path)
                {
                    bool found = step is string name
                        ? at.ValueKind == JsonValueKind.Object && at.TryGetProperty(name, out at)
                        : at.ValueKind == JsonValueKind.Array && (int)step < at.GetArrayLength() && (at = at[(int)step]).ValueKind != JsonValueKind.Undefined;
                    if (!found)
                    {
                        problem = $"The record has no value for the partition key '{key}'.";
                        return null;
                    }
                }
                string? value = at.ValueKind switch
                {
                    JsonValueKind.String => at.GetString(),
                    JsonValueKind.Number => at.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => null,
                };
                if (value is null)
                {
                    problem = $"The value of the partition key '{key}' is {at.ValueKind.ToString().ToLowerInvariant()}, not a string, number or boolean.";
                    return null;
                }
                values[key] = value;
            }
            return values;
        }
    }

    private sealed class Text(string text)
    {
        private int _at;

        public char Peek()
        {
            SkipSpace();
            return _at < text.Length ? text[_at] : '\0';
        }

        public char Next()
        {
            char c = Peek();
            _at++;
            return c;
        }

        public bool TryTake(char c)
        {
            if (Peek() != c)
                return false;
            _at++;
            return true;
        }

        public void Expect(char c)
        {
            if (!TryTake(c))
                throw Unexpected($"'{c}'");
        }

        public void End()
        {
            if (Peek() != '\0')
                throw Unexpected("the end");
        }

        public string Identifier()
        {
            SkipSpace();
            int start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_'))
                _at++;
            return _at > start && !char.IsAsciiDigit(text[start]) ? text[start.._at] : throw Unexpected("a name");
        }

        public object Index()
        {
            SkipSpace();
            int start = _at;
            while (_at < text.Length && char.IsAsciiDigit(text[_at]))
                _at++;
            return _at > start ? int.Parse(text[start.._at], CultureInfo.InvariantCulture) : throw Unexpected("an index");
        }

        public string Quoted()
        {
            Expect('"');
            var value = new StringBuilder();
            while (_at < text.Length && text[_at] != '"')
            {
                if (text[_at] == '\\' && _at + 1 < text.Length)
                    _at++;
                value.Append(text[_at++]);
            }
            Expect('"');
            return value.ToString();
        }

        private void SkipSpace()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
                _at++;
        }

        private FormatException Unexpected(string wanted) =>
            new($"Runnel evaluates MetadataExtractionQuery as an object of jq paths ({{key:.a.b, other:.list[0]}}): expected {wanted} at position {_at + 1} of '{text}'.");
    }
}
