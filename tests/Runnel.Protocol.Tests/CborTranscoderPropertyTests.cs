using System.Formats.Cbor;
using System.Text;

namespace Runnel.Protocol.Tests;

/// <summary>
/// Runnel's CBOR reader against the reference (System.Formats.Cbor's reader, the transcoder it replaced) on
/// seeded random documents: the same JSON for every well-formed document, and for any byte changed in one,
/// either JSON or a FormatException, never another exception.
/// </summary>
public class CborTranscoderPropertyTests
{
    private const int Documents = 3000;

    private static readonly string[] Keys = ["Data", "PartitionKey", "Timestamp", "StreamCreationTimestamp", "Records", "k", "caf\u00e9", ""];

    [Fact]
    public void Well_formed_documents_transcode_exactly_as_the_reference_does()
    {
        var random = new Random(20261202);
        for (int i = 0; i < Documents; i++)
        {
            byte[] cbor = Document(random);
            string expected = Encoding.UTF8.GetString(ReferenceCborToJson.Transcode(cbor));
            string actual = Encoding.UTF8.GetString(CborTests.ViaModel(cbor));
            Assert.True(expected == actual, $"document {i} ({Convert.ToHexString(cbor)}):\n reference {expected}\n runnel    {actual}");
        }
    }

    [Fact]
    public void A_damaged_document_is_json_or_a_format_exception_and_agrees_with_the_reference_when_both_accept()
    {
        var random = new Random(7);
        for (int i = 0; i < Documents; i++)
        {
            byte[] cbor = Document(random);
            int cut = random.Next(cbor.Length + 1);
            byte[] damaged = random.Next(3) == 0 ? cbor[..cut] : cbor.ToArray();
            if (damaged.Length > 0 && damaged.Length == cbor.Length)
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            string? ours = Try(() => CborTests.ViaModel(damaged));
            string? reference = Try(() => ReferenceCborToJson.Transcode(damaged));
            if (ours is not null && reference is not null)
                Assert.True(ours == reference, $"damaged document {i} ({Convert.ToHexString(damaged)}):\n reference {reference}\n runnel    {ours}");
        }
    }

    /// <summary>The JSON, or null for a FormatException; any other exception fails the test.</summary>
    private static string? Try(Func<byte[]> transcode)
    {
        try
        {
            return Encoding.UTF8.GetString(transcode());
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static byte[] Document(Random random)
    {
        var writer = new CborWriter(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false);
        Value(writer, random, 0, null);
        return writer.Encode();
    }

    private static void Value(CborWriter writer, Random random, int depth, string? key)
    {
        int kind = depth >= 4 ? random.Next(4, 14) : random.Next(14);
        switch (kind)
        {
            case 0 or 1:
                int count = random.Next(5);
                bool indefinite = random.Next(2) == 0;
                writer.WriteStartMap(indefinite ? null : count);
                for (int i = 0; i < count; i++)
                {
                    string name = Keys[random.Next(Keys.Length)] + (random.Next(3) == 0 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
                    writer.WriteTextString(name);
                    Value(writer, random, depth + 1, name);
                }
                writer.WriteEndMap();
                break;
            case 2 or 3:
                int items = random.Next(5);
                bool open = random.Next(2) == 0;
                writer.WriteStartArray(open ? null : items);
                for (int i = 0; i < items; i++)
                    Value(writer, random, depth + 1, null);
                writer.WriteEndArray();
                break;
            case 4:
                writer.WriteInt64(random.Next(4) switch { 0 => random.Next(24), 1 => random.NextInt64(), 2 => -random.NextInt64(), _ => random.Next(-70_000, 70_000) });
                break;
            case 5:
                writer.WriteUInt64(random.Next(2) == 0 ? (ulong)random.NextInt64() : (ulong)random.Next(300));
                break;
            case 6:
                var bytes = new byte[random.Next(4) == 0 ? random.Next(300) : random.Next(20)];
                random.NextBytes(bytes);
                if (random.Next(3) == 0)
                {
                    writer.WriteStartIndefiniteLengthByteString();
                    for (int at = 0; at < bytes.Length; at += 7)
                        writer.WriteByteString(bytes.AsSpan(at, Math.Min(7, bytes.Length - at)));
                    writer.WriteEndIndefiniteLengthByteString();
                }
                else
                {
                    writer.WriteByteString(bytes);
                }
                break;
            case 7:
                string text = random.Next(4) switch { 0 => "", 1 => "plain ascii", 2 => "caf\u00e9 \u2713 \U0001F600 \"quoted\" \\ \n", _ => new string('x', random.Next(300)) };
                if (random.Next(3) == 0)
                {
                    writer.WriteStartIndefiniteLengthTextString();
                    writer.WriteTextString(text);
                    writer.WriteTextString("-tail");
                    writer.WriteEndIndefiniteLengthTextString();
                }
                else
                {
                    writer.WriteTextString(text);
                }
                break;
            case 8:
                writer.WriteBoolean(random.Next(2) == 0);
                break;
            case 9:
                if (random.Next(2) == 0)
                    writer.WriteNull();
                else
                    writer.WriteSimpleValue(random.Next(2) == 0 ? CborSimpleValue.Undefined : (CborSimpleValue)random.Next(0, 20));
                break;
            case 10:
                switch (random.Next(3))
                {
                    case 0:
                        writer.WriteHalf((Half)(random.NextDouble() * 1000 - 500));
                        break;
                    case 1:
                        writer.WriteSingle((float)(random.NextDouble() * 1e6));
                        break;
                    default:
                        writer.WriteDouble(random.NextDouble() * 1e12 - 5e11);
                        break;
                }
                break;
            case 11:
                writer.WriteTag(CborTag.UnixTimeSeconds);
                if (random.Next(3) == 0)
                    writer.WriteDouble(1_700_000_000_123.5);
                else
                    writer.WriteInt64(random.Next(2) == 0 ? 1_700_000_000_123 : -random.Next(100_000));
                break;
            case 12:
                writer.WriteTag((CborTag)random.Next(2, 40));
                writer.WriteTextString("tagged");
                break;
            default:
                // A bare integer under a timestamp member is epoch milliseconds too.
                if (key is "Timestamp" or "StreamCreationTimestamp")
                    writer.WriteInt64(1_700_000_000_000 + random.Next(1000));
                else
                    writer.WriteTextString(key ?? "none");
                break;
        }
    }
}
