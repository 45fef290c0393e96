using System.Buffers;
using System.Formats.Cbor;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Runnel.Protocol.Requests;

namespace Runnel.Protocol.Tests;

/// <summary>
/// The request model both encodings read into: JSON against System.Text.Json's JsonDocument (the reader it
/// replaced) on seeded random documents, and the semantics the validator and handlers rely on.
/// </summary>
public class RequestDocumentTests
{
    private const int Documents = 3000;

    private static readonly JsonWriterOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public void Json_documents_read_exactly_as_JsonDocument_reads_them()
    {
        var random = new Random(20261202);
        for (int i = 0; i < Documents; i++)
        {
            string json = RandomJson(random, 0);
            byte[] utf8 = Encoding.UTF8.GetBytes(json);
            string expected = Reference(utf8)!;
            using var document = RequestDocument.ParseJson(utf8);
            Assert.True(expected == document.Root.GetRawText(), $"document {i}: {json}\n reference {expected}\n runnel    {document.Root.GetRawText()}");
        }
    }

    [Fact]
    public void Damaged_json_fails_as_JsonDocument_fails_or_reads_the_same()
    {
        var random = new Random(11);
        for (int i = 0; i < Documents; i++)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(RandomJson(random, 0));
            if (random.Next(2) == 0)
                utf8 = utf8[..random.Next(utf8.Length + 1)];
            else
                utf8[random.Next(utf8.Length)] = (byte)Damage[random.Next(Damage.Length)];
            if (!System.Text.Unicode.Utf8.IsValid(utf8))
            {
                // JsonDocument reads such text with U+FFFD in place of the bad bytes; Runnel refuses it.
                Assert.ThrowsAny<Exception>(() => RequestDocument.ParseJson(utf8).Dispose());
                continue;
            }
            string? reference = Reference(utf8);
            string? ours;
            try
            {
                using var document = RequestDocument.ParseJson(utf8);
                ours = document.Root.GetRawText();
            }
            catch (Exception e) when (e is JsonException or FormatException) // FormatException: an escaped lone surrogate
            {
                ours = null;
            }
            Assert.True(reference == ours, $"damaged document {i}: {Encoding.UTF8.GetString(utf8)}\n reference {reference}\n runnel    {ours}");
        }
    }

    [Fact]
    public void Members_are_found_by_name_absent_and_null_read_as_absent_and_the_last_duplicate_wins()
    {
        using var document = Json("""{"A":1,"B":null,"A":2,"caf\u00e9":"x","\u0053treamName":"s"}""");
        var root = document.Root;
        Assert.Equal(2, root.GetProperty("A").GetDouble());
        Assert.True(root.GetProperty("B").IsAbsent);
        Assert.False(root.TryGetProperty("C", out var c));
        Assert.Equal(RequestKind.Undefined, c.Kind);
        Assert.True(c.IsAbsent);
        Assert.Equal("x", root.GetProperty("café").GetString());
        Assert.Equal("s", root.GetProperty("StreamName").GetString()); // an escaped name
        Assert.Equal(5, root.Count);
        Assert.Throws<KeyNotFoundException>(() => root.GetProperty("C"));
        Assert.False(root.GetProperty("A").TryGetProperty("A", out _)); // a number has no members
    }

    [Fact]
    public void Nested_values_are_skipped_whole_when_looking_up_and_enumerating()
    {
        using var document = Json("""{"Records":[{"Data":"AA==","Deep":[[1,[2]],{"x":{}}]},{"Data":"AQI="}],"After":[]}""");
        var records = document.Root.GetProperty("Records").EnumerateArray().ToArray();
        Assert.Equal(2, records.Length);
        Assert.Equal([1L, 2L], records.Select(r => r.GetProperty("Data").BlobLength));
        Assert.Equal(0, document.Root.GetProperty("After").Count);
        Assert.Equal(["Records", "After"], document.Root.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Escaped_strings_are_unescaped_once_and_blobs_measured_from_their_text()
    {
        using var document = Json("""{"S":"a\"b\\c\u00e9\n","Blob":"QUJD\u0044A=="}""");
        Assert.Equal("a\"b\\c\u00e9\n", document.Root.GetProperty("S").GetString());
        Assert.Equal("QUJDDA==", Encoding.ASCII.GetString(document.Root.GetProperty("Blob").Utf8));
        Assert.Equal(4, document.Root.GetProperty("Blob").BlobLength);
    }

    [Fact]
    public void Timestamps_keep_the_milliseconds_sent()
    {
        using var document = Json("""{"T":1.001,"U":1700000000.123,"V":-0.0005,"W":1e400}""");
        Assert.Equal(1001, document.Root.GetProperty("T").GetTimestampMillis()); // a double would give 1000
        Assert.Equal(1_700_000_000_123, document.Root.GetProperty("U").GetTimestampMillis());
        Assert.Equal(-1, document.Root.GetProperty("V").GetTimestampMillis());
        Assert.Equal(double.PositiveInfinity, document.Root.GetProperty("W").GetDouble());
        Assert.Equal(long.MaxValue, document.Root.GetProperty("W").GetTimestampMillis());
    }

    [Theory]
    [InlineData(new byte[] { (byte)'"', 0xC3, 0x28, (byte)'"' })] // a string that is not UTF-8
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}' })] // a name that is not UTF-8
    [InlineData(new byte[] { (byte)'"', (byte)'\\', (byte)'u', (byte)'d', (byte)'8', (byte)'0', (byte)'0', (byte)'"' })] // half a surrogate pair
    public void Json_text_that_is_not_unicode_is_refused(byte[] body) =>
        Assert.Throws<FormatException>(() => RequestDocument.ParseJson(body));

    [Fact]
    public void Both_readers_allow_64_levels_of_nesting_and_no_more()
    {
        using (RequestDocument.ParseJson(Encoding.ASCII.GetBytes(new string('[', 64) + new string(']', 64))))
        {
        }
        Assert.ThrowsAny<JsonException>(() => RequestDocument.ParseJson(Encoding.ASCII.GetBytes(new string('[', 65) + new string(']', 65))));
        Assert.ThrowsAny<JsonException>(() => RequestDocument.ParseJson(""u8.ToArray()));
        Assert.ThrowsAny<JsonException>(() => RequestDocument.ParseJson("{} {}"u8.ToArray()));

        byte[] Nested(int levels) => [.. Enumerable.Repeat((byte)0x81, levels), 0x80];
        using (RequestDocument.ParseCbor(Nested(64)))
        {
        }
        Assert.Throws<FormatException>(() => RequestDocument.ParseCbor(Nested(66)));
    }

    [Fact]
    public void Cbor_strings_sent_in_chunks_are_joined()
    {
        var w = new CborWriter(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false);
        w.WriteStartMap(null);
        w.WriteTextString("Data");
        w.WriteStartIndefiniteLengthByteString(); w.WriteByteString([1, 2]); w.WriteByteString([3]); w.WriteEndIndefiniteLengthByteString();
        w.WriteTextString("Name");
        w.WriteStartIndefiniteLengthTextString(); w.WriteTextString("ca"); w.WriteTextString("f\u00e9"); w.WriteEndIndefiniteLengthTextString();
        w.WriteEndMap();
        using var document = RequestDocument.ParseCbor(w.Encode());
        Assert.Equal(new byte[] { 1, 2, 3 }, document.Root.GetProperty("Data").Utf8.ToArray());
        Assert.Equal("caf\u00e9", document.Root.GetProperty("Name").GetString());
    }

    private const string Damage = "{}[],:\"\\0a-. e";

    private static RequestDocument Json(string json) => RequestDocument.ParseJson(Encoding.UTF8.GetBytes(json));

    /// <summary>What JsonDocument makes of the bytes, written as our model writes itself; null when it refuses them.</summary>
    private static string? Reference(byte[] utf8)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 64 });
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer, Relaxed))
                document.RootElement.WriteTo(writer);
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) // the second: an escaped lone surrogate
        {
            return null;
        }
    }

    private static readonly string[] Names = ["Data", "PartitionKey", "Records", "k", "caf\u00e9", "", "a\\\"b", "\\u0041"];
    private static readonly string[] Texts = ["", "x", "AQI=", "caf\u00e9 \u4e2d", "line\\nbreak", "\\u00e9\\ud83d\\ude00", "quote\\\"", "tab\\t"];
    private static readonly string[] Numbers = ["0", "-1", "42", "3.25", "1e3", "-2.5E-3", "9223372036854775807", "18446744073709551616", "1700000000.123"];

    private static string RandomJson(Random random, int depth)
    {
        int kind = depth >= 4 ? random.Next(2, 7) : random.Next(7);
        string space = random.Next(4) == 0 ? " " : "";
        switch (kind)
        {
            case 0:
                var members = Enumerable.Range(0, random.Next(5)).Select(_ => $"\"{Names[random.Next(Names.Length)]}\"{space}:{space}{RandomJson(random, depth + 1)}");
                return "{" + space + string.Join("," + space, members) + "}";
            case 1:
                return "[" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ => RandomJson(random, depth + 1))) + space + "]";
            case 2 or 3:
                return $"\"{Texts[random.Next(Texts.Length)]}\"";
            case 4:
                return Numbers[random.Next(Numbers.Length)];
            case 5:
                return random.Next(2) == 0 ? "true" : "false";
            default:
                return random.Next(3) == 0 ? "null" : random.Next(1_000_000).ToString(CultureInfo.InvariantCulture);
        }
    }
}
