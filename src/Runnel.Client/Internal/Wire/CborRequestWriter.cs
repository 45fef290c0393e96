using System.Formats.Cbor;

namespace Runnel.Client.Internal.Wire;

/// <summary>
/// A request body in AWS's CBOR 1.1 protocol (<c>application/x-amz-cbor-1.1</c>): maps and arrays of indefinite
/// length, blobs as byte strings, timestamps as tag 1 around an integer of epoch milliseconds (the form the AWS SDKs
/// send Kinesis, which reads a tag-1 integer as milliseconds and a tag-1 float as seconds).
/// </summary>
internal sealed class CborRequestWriter : WireWriter
{
    public const string MediaType = "application/x-amz-cbor-1.1";

    private readonly CborWriter _cbor = new(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false);

    public override string ContentType => MediaType;

    public override void StartObject() => _cbor.WriteStartMap(null);

    public override void StartObject(string name)
    {
        _cbor.WriteTextString(name);
        _cbor.WriteStartMap(null);
    }

    public override void EndObject() => _cbor.WriteEndMap();

    public override void StartArray(string name)
    {
        _cbor.WriteTextString(name);
        _cbor.WriteStartArray(null);
    }

    public override void EndArray() => _cbor.WriteEndArray();

    public override void String(string name, string value)
    {
        _cbor.WriteTextString(name);
        _cbor.WriteTextString(value);
    }

    public override void String(string value) => _cbor.WriteTextString(value);

    public override void Number(string name, long value)
    {
        _cbor.WriteTextString(name);
        _cbor.WriteInt64(value);
    }

    public override void Boolean(string name, bool value)
    {
        _cbor.WriteTextString(name);
        _cbor.WriteBoolean(value);
    }

    public override void Blob(string name, ReadOnlySpan<byte> value)
    {
        _cbor.WriteTextString(name);
        _cbor.WriteByteString(value);
    }

    public override void Timestamp(string name, DateTimeOffset value)
    {
        _cbor.WriteTextString(name);
        _cbor.WriteTag(CborTag.UnixTimeSeconds);
        _cbor.WriteInt64(value.ToUnixTimeMilliseconds());
    }

    public override ReadOnlyMemory<byte> Body() => _cbor.Encode();
}
