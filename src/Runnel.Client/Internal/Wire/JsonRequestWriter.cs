using System.Globalization;
using System.Text.Json;

namespace Runnel.Client.Internal.Wire;

/// <summary>A request body in AWS's JSON protocol (1.1 for Kinesis, 1.0 for DynamoDB), over <see cref="Utf8JsonWriter"/>.</summary>
internal sealed class JsonRequestWriter(string contentType) : WireWriter
{
    public const string Json11 = "application/x-amz-json-1.1";
    public const string Json10 = "application/x-amz-json-1.0";

    private readonly PooledBufferWriter _buffer = new(256);
    private Utf8JsonWriter? _json;

    private Utf8JsonWriter Json => _json ??= new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = false });

    public override string ContentType => contentType;

    public override void StartObject() => Json.WriteStartObject();

    public override void StartObject(string name) => Json.WriteStartObject(name);

    public override void EndObject() => Json.WriteEndObject();

    public override void StartArray(string name) => Json.WriteStartArray(name);

    public override void EndArray() => Json.WriteEndArray();

    public override void String(string name, string value) => Json.WriteString(name, value);

    public override void String(string value) => Json.WriteStringValue(value);

    public override void Number(string name, long value) => Json.WriteNumber(name, value);

    public override void Boolean(string name, bool value) => Json.WriteBoolean(name, value);

    public override void Blob(string name, ReadOnlySpan<byte> value) => Json.WriteBase64String(name, value);

    public override void Timestamp(string name, DateTimeOffset value)
    {
        // Epoch seconds with millisecond precision, as the SDKs write them: 1700000000.123.
        long millis = value.ToUnixTimeMilliseconds();
        Json.WritePropertyName(name);
        Json.WriteRawValue(((decimal)millis / 1000m).ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
    }

    public override ReadOnlyMemory<byte> Body()
    {
        Json.Flush();
        return _buffer.WrittenMemory;
    }

    public override void Dispose()
    {
        _json?.Dispose();
        _buffer.Dispose();
    }
}
