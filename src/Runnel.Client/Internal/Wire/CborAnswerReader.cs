using System.Formats.Cbor;

namespace Runnel.Client.Internal.Wire;

/// <summary>
/// Parses a CBOR 1.1 answer into <see cref="WireNode"/>s with <see cref="CborReader"/>: byte strings stay bytes, tag 1
/// is a timestamp (an integer of epoch milliseconds, as Kinesis and the AWS SDKs write it, or a float of epoch
/// seconds), other tags are read through. Thread-safe (stateless).
/// </summary>
internal static class CborAnswerReader
{
    private const int MaxDepth = 64;

    public static WireNode Parse(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
            return new WireNode(WireKind.Object) { Members = [] };
        var reader = new CborReader(body, CborConformanceMode.Lax, allowMultipleRootLevelValues: false);
        return Read(reader, 0);
    }

    private static WireNode Read(CborReader reader, int depth)
    {
        if (depth > MaxDepth)
            throw new FormatException("The CBOR answer is nested too deeply.");
        switch (reader.PeekState())
        {
            case CborReaderState.StartMap:
                reader.ReadStartMap();
                var members = new Dictionary<string, WireNode>(StringComparer.Ordinal);
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    string name = reader.ReadTextString();
                    members[name] = Read(reader, depth + 1);
                }
                reader.ReadEndMap();
                return new WireNode(WireKind.Object) { Members = members };
            case CborReaderState.StartArray:
                reader.ReadStartArray();
                var items = new List<WireNode>();
                while (reader.PeekState() != CborReaderState.EndArray)
                    items.Add(Read(reader, depth + 1));
                reader.ReadEndArray();
                return new WireNode(WireKind.Array) { Items = items };
            case CborReaderState.TextString or CborReaderState.StartIndefiniteLengthTextString:
                return new WireNode(WireKind.String) { Text = reader.ReadTextString() };
            case CborReaderState.ByteString or CborReaderState.StartIndefiniteLengthByteString:
                return new WireNode(WireKind.Bytes) { Bytes = reader.ReadByteString() };
            case CborReaderState.UnsignedInteger:
                return new WireNode(WireKind.Number) { Number = reader.ReadUInt64() };
            case CborReaderState.NegativeInteger:
                return new WireNode(WireKind.Number) { Number = reader.ReadInt64() };
            case CborReaderState.HalfPrecisionFloat or CborReaderState.SinglePrecisionFloat or CborReaderState.DoublePrecisionFloat:
                return new WireNode(WireKind.Number) { Number = (decimal)reader.ReadDouble() };
            case CborReaderState.Boolean:
                return new WireNode(WireKind.Boolean) { Flag = reader.ReadBoolean() };
            case CborReaderState.Tag:
                var tag = reader.ReadTag();
                if (tag != CborTag.UnixTimeSeconds)
                    return Read(reader, depth + 1);
                return reader.PeekState() switch
                {
                    CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger => new WireNode(WireKind.Timestamp) { Number = reader.ReadInt64() },
                    _ => new WireNode(WireKind.Timestamp) { Number = decimal.Floor((decimal)reader.ReadDouble() * 1000m) },
                };
            default:
                reader.SkipValue();
                return new WireNode(WireKind.Null);
        }
    }
}
