using System.Text;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// The HPACK (RFC 7541) header-block decoding <see cref="H2cConnection"/> needs: indexed fields, literals with
/// and without indexing, table size updates, the static and dynamic tables. Huffman-coded strings are refused
/// (Kestrel never sends them; a server that does makes the run fail with this message rather than misread).
/// One decoder per connection; not thread-safe (the connection's read loop owns it).
/// </summary>
internal sealed class HpackDecoder
{
    private const int MaxTableSize = 4096; // SETTINGS_HEADER_TABLE_SIZE's default, which the client leaves as it is

    private static readonly (string Name, string Value)[] Static =
    [
        ("", ""), (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
        (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
        (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
        ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""), ("cache-control", ""),
        ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
        ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""), ("date", ""),
        ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""), ("if-match", ""),
        ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""), ("if-unmodified-since", ""),
        ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""), ("proxy-authenticate", ""),
        ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""),
        ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
        ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
    ];

    private readonly LinkedList<(string Name, string Value)> _dynamic = new(); // newest first
    private int _tableSize;
    private int _tableLimit = MaxTableSize;

    /// <summary>Decodes one complete header block, calling <paramref name="field"/> for each field in order.</summary>
    public void Decode(ReadOnlySpan<byte> block, Action<string, string> field)
    {
        int pos = 0;
        while (pos < block.Length)
        {
            byte b = block[pos];
            if ((b & 0x80) != 0) // indexed field
            {
                var (name, value) = Lookup(ReadInteger(block, ref pos, 7));
                field(name, value);
            }
            else if ((b & 0xC0) == 0x40) // literal with incremental indexing
            {
                int index = ReadInteger(block, ref pos, 6);
                string name = index == 0 ? ReadString(block, ref pos) : Lookup(index).Name;
                string value = ReadString(block, ref pos);
                Insert(name, value);
                field(name, value);
            }
            else if ((b & 0xE0) == 0x20) // dynamic table size update
            {
                int size = ReadInteger(block, ref pos, 5);
                if (size > MaxTableSize)
                    throw new InvalidDataException($"HPACK table size update to {size}, over the {MaxTableSize} this client allows");
                _tableLimit = size;
                Evict();
            }
            else // literal without indexing (0000) or never indexed (0001)
            {
                int index = ReadInteger(block, ref pos, 4);
                string name = index == 0 ? ReadString(block, ref pos) : Lookup(index).Name;
                field(name, ReadString(block, ref pos));
            }
        }
    }

    private (string Name, string Value) Lookup(int index)
    {
        if (index <= 0)
            throw new InvalidDataException("HPACK index 0");
        if (index < Static.Length)
            return Static[index];
        int position = index - Static.Length;
        foreach (var entry in _dynamic)
        {
            if (position-- == 0)
                return entry;
        }
        throw new InvalidDataException($"HPACK index {index} past the dynamic table ({_dynamic.Count} entries)");
    }

    private void Insert(string name, string value)
    {
        int size = name.Length + value.Length + 32;
        _dynamic.AddFirst((name, value));
        _tableSize += size;
        Evict();
    }

    private void Evict()
    {
        while (_tableSize > _tableLimit && _dynamic.Last is { } oldest)
        {
            _tableSize -= oldest.Value.Name.Length + oldest.Value.Value.Length + 32;
            _dynamic.RemoveLast();
        }
    }

    private static int ReadInteger(ReadOnlySpan<byte> block, ref int pos, int prefixBits)
    {
        int mask = (1 << prefixBits) - 1;
        int value = block[pos++] & mask;
        if (value < mask)
            return value;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 28)
                throw new InvalidDataException("HPACK integer too large");
            byte next = block[pos++];
            value += (next & 0x7F) << shift;
            if ((next & 0x80) == 0)
                return value;
        }
    }

    private static string ReadString(ReadOnlySpan<byte> block, ref int pos)
    {
        bool huffman = (block[pos] & 0x80) != 0;
        int length = ReadInteger(block, ref pos, 7);
        if (huffman)
            throw new NotSupportedException("the server sent a Huffman-coded HPACK string, which this load generator does not decode");
        string text = Encoding.ASCII.GetString(block.Slice(pos, length));
        pos += length;
        return text;
    }
}
