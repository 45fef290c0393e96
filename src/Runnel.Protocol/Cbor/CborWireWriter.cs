using System.Formats.Cbor;
using System.Text;

namespace Runnel.Protocol.Cbor;

/// <summary>
/// AWS CBOR 1.1 responses (<c>application/x-amz-cbor-1.1</c>, the Java SDK's default for Kinesis):
/// maps and arrays of indefinite length, blobs as byte strings, timestamps as tag 1 around epoch
/// milliseconds. Not thread-safe.
/// </summary>
public sealed class CborWireWriter : IWireWriter
{
    public const string MediaType = "application/x-amz-cbor-1.1";

    private readonly CborWriter _writer = new(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false, allowMultipleRootLevelValues: false);

    public string ContentType => MediaType;

    public void StartObject() => _writer.WriteStartMap(null);
    public void StartObject(string name) { _writer.WriteTextString(name); _writer.WriteStartMap(null); }
    public void EndObject() => _writer.WriteEndMap();
    public void StartArray(string name) { _writer.WriteTextString(name); _writer.WriteStartArray(null); }
    public void StartArray() => _writer.WriteStartArray(null);
    public void EndArray() => _writer.WriteEndArray();
    public void String(string name, string value) { _writer.WriteTextString(name); _writer.WriteTextString(value); }
    public void String(string value) => _writer.WriteTextString(value);
    public void Number(string name, long value) { _writer.WriteTextString(name); _writer.WriteInt64(value); }
    public void Boolean(string name, bool value) { _writer.WriteTextString(name); _writer.WriteBoolean(value); }
    public void Null(string name) { _writer.WriteTextString(name); _writer.WriteNull(); }
    public void Blob(string name, ReadOnlySpan<byte> value) { _writer.WriteTextString(name); _writer.WriteByteString(value); }
    public void Utf8String(string name, ReadOnlySpan<byte> value) { _writer.WriteTextString(name); _writer.WriteTextString(Encoding.UTF8.GetString(value)); }

    public void Timestamp(string name, long epochMillis)
    {
        _writer.WriteTextString(name);
        _writer.WriteTag(CborTag.UnixTimeSeconds);
        _writer.WriteInt64(epochMillis);
    }

    public ReadOnlyMemory<byte> Complete() => _writer.Encode();

    public void Reset() => _writer.Reset();

    public void Dispose()
    {
    }
}
