using System.Buffers;
using System.Formats.Cbor;
using System.Text.Json;

namespace Runnel.Protocol.Tests;

/// <summary>
/// The transcoder Runnel used before its own CBOR reader, over System.Formats.Cbor's CborReader: the oracle the
/// property test compares <see cref="Runnel.Protocol.Cbor.CborToJson"/> with (same JSON writer options).
/// </summary>
internal static class ReferenceCborToJson
{
    private const int MaxDepth = 64;

    /// <summary>
    /// Members whose CBOR value is a timestamp even without tag 1 (the SDKs may send a bare integer of
    /// epoch milliseconds). These are the only timestamp members of Kinesis requests.
    /// </summary>
    private static readonly HashSet<string> TimestampMembers = new(StringComparer.Ordinal) { "Timestamp", "StreamCreationTimestamp" };

    /// <summary>Transcodes; throws <see cref="FormatException"/> when the body is not well-formed CBOR
    /// or has a map key that is not a text string.</summary>
    public static byte[] Transcode(ReadOnlyMemory<byte> cbor)
    {
        var reader = new CborReader(cbor, CborConformanceMode.Lax, allowMultipleRootLevelValues: false);
        var output = new ArrayBufferWriter<byte>(cbor.Length * 2 + 16);
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            try
            {
                Copy(reader, writer, 0, null);
                if (reader.BytesRemaining != 0)
                    throw new FormatException("Trailing bytes after the CBOR document.");
            }
            catch (CborContentException e)
            {
                throw new FormatException(e.Message, e);
            }
            catch (InvalidOperationException e)
            {
                throw new FormatException(e.Message, e);
            }
            catch (OverflowException e)
            {
                // An integer beyond 64 bits (negative major type past -2^63, or a timestamp that big).
                throw new FormatException(e.Message, e);
            }
        }
        return output.WrittenSpan.ToArray();
    }

    private static void Copy(CborReader reader, Utf8JsonWriter writer, int depth, string? member)
    {
        if (depth > MaxDepth)
            throw new FormatException("CBOR nesting is too deep.");
        switch (reader.PeekState())
        {
            case CborReaderState.StartMap:
                reader.ReadStartMap();
                writer.WriteStartObject();
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    if (reader.PeekState() != CborReaderState.TextString)
                        throw new FormatException("CBOR map keys must be text strings.");
                    string name = reader.ReadTextString();
                    writer.WritePropertyName(name);
                    Copy(reader, writer, depth + 1, name);
                }
                reader.ReadEndMap();
                writer.WriteEndObject();
                break;
            case CborReaderState.StartArray:
                reader.ReadStartArray();
                writer.WriteStartArray();
                while (reader.PeekState() != CborReaderState.EndArray)
                    Copy(reader, writer, depth + 1, null);
                reader.ReadEndArray();
                writer.WriteEndArray();
                break;
            case CborReaderState.TextString:
                writer.WriteStringValue(reader.ReadTextString());
                break;
            case CborReaderState.StartIndefiniteLengthTextString:
                writer.WriteStringValue(reader.ReadTextString());
                break;
            case CborReaderState.ByteString:
            case CborReaderState.StartIndefiniteLengthByteString:
                writer.WriteBase64StringValue(reader.ReadByteString());
                break;
            case CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger when member is not null && TimestampMembers.Contains(member):
                writer.WriteNumberValue(reader.ReadInt64() / 1000m);
                break;
            case CborReaderState.UnsignedInteger:
                writer.WriteNumberValue(reader.ReadUInt64());
                break;
            case CborReaderState.NegativeInteger:
                writer.WriteNumberValue(reader.ReadInt64());
                break;
            case CborReaderState.HalfPrecisionFloat:
            case CborReaderState.SinglePrecisionFloat:
            case CborReaderState.DoublePrecisionFloat:
                double d = reader.ReadDouble();
                if (!double.IsFinite(d))
                    throw new FormatException("Non-finite number.");
                writer.WriteNumberValue(d);
                break;
            case CborReaderState.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                break;
            case CborReaderState.Null:
                reader.ReadNull();
                writer.WriteNullValue();
                break;
            case CborReaderState.SimpleValue:
                reader.ReadSimpleValue(); // undefined and unassigned simple values read as null
                writer.WriteNullValue();
                break;
            case CborReaderState.Tag:
                var tag = reader.ReadTag();
                if (tag == CborTag.UnixTimeSeconds)
                {
                    // The AWS SDKs put epoch milliseconds under tag 1; JSON carries epoch seconds.
                    var state = reader.PeekState();
                    if (state is CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger)
                        writer.WriteNumberValue(reader.ReadInt64() / 1000m);
                    else
                        writer.WriteNumberValue(reader.ReadDouble() / 1000d);
                }
                else
                {
                    Copy(reader, writer, depth + 1, member);
                }
                break;
            default:
                throw new FormatException($"Unsupported CBOR item: {reader.PeekState()}.");
        }
    }
}
