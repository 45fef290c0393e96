using System.Buffers;
using System.Text.Json;

namespace Runnel.Protocol.Json;

/// <summary>AWS JSON 1.1 responses over <see cref="Utf8JsonWriter"/>. Not thread-safe.</summary>
public sealed class JsonWireWriter : IWireWriter, IDisposable
{
    public const string MediaType = "application/x-amz-json-1.1";

    private static readonly JsonEncodedText SequenceNumberName = JsonEncodedText.Encode("SequenceNumber");
    private static readonly JsonEncodedText ArrivalName = JsonEncodedText.Encode("ApproximateArrivalTimestamp");
    private static readonly JsonEncodedText DataName = JsonEncodedText.Encode("Data");
    private static readonly JsonEncodedText PartitionKeyName = JsonEncodedText.Encode("PartitionKey");
    private static readonly JsonEncodedText EncryptionTypeName = JsonEncodedText.Encode("EncryptionType");

    private static readonly JsonWriterOptions Options = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly PooledBufferWriter? _buffer; // null when writing into the caller's output
    private readonly Utf8JsonWriter _writer;
    private const int SecondsRoom = 21; // a long's digits and sign, and the point
    private readonly byte[] _seconds = new byte[SecondsRoom];
    private int _secondsLength;
    private long _secondsOf;

    public JsonWireWriter(int initialCapacity = 1024)
    {
        _buffer = new PooledBufferWriter(initialCapacity);
        _writer = new Utf8JsonWriter(_buffer, Options);
    }

    /// <summary>A writer into <paramref name="output"/> (a response's pipe): <see cref="Commit"/> hands it what was written.</summary>
    public JsonWireWriter(IBufferWriter<byte> output) => _writer = new Utf8JsonWriter(output, Options);

    private PooledBufferWriter Buffer => _buffer ?? throw new InvalidOperationException("this writer writes into its caller's output");

    public string ContentType => MediaType;

    public void StartObject() => _writer.WriteStartObject();
    public void StartObject(string name) => _writer.WriteStartObject(name);
    public void EndObject() => _writer.WriteEndObject();
    public void StartArray(string name) => _writer.WriteStartArray(name);
    public void StartArray() => _writer.WriteStartArray();
    public void EndArray() => _writer.WriteEndArray();
    public void String(string name, string value) => _writer.WriteString(name, value);
    public void String(string value) => _writer.WriteStringValue(value);
    public void Number(string name, long value) => _writer.WriteNumber(name, value);
    public void Double(string name, double value) => _writer.WriteNumber(name, value);
    public void Boolean(string name, bool value) => _writer.WriteBoolean(name, value);
    public void Null(string name) => _writer.WriteNull(name);
    public void Blob(string name, ReadOnlySpan<byte> value) => _writer.WriteBase64String(name, value);
    public void Utf8String(string name, ReadOnlySpan<byte> value) => _writer.WriteString(name, value);

    /// <summary>Epoch seconds with millisecond precision, as a JSON number (1700000000.123).</summary>
    public void Timestamp(string name, long epochMillis)
    {
        _writer.WritePropertyName(name);
        EpochSeconds(epochMillis);
    }

    public void Record(ReadOnlySpan<byte> sequenceNumber, long arrivalMillis, ReadOnlySpan<byte> data, ReadOnlySpan<byte> partitionKey, bool encrypted = false)
    {
        _writer.WriteStartObject();
        _writer.WriteString(SequenceNumberName, sequenceNumber);
        _writer.WritePropertyName(ArrivalName);
        EpochSeconds(arrivalMillis);
        _writer.WriteBase64String(DataName, data);
        if (!partitionKey.IsEmpty)
            _writer.WriteString(PartitionKeyName, partitionKey);
        if (encrypted)
            _writer.WriteString(EncryptionTypeName, "KMS"u8);
        _writer.WriteEndObject();
    }

    public void Reserve(int bytes)
    {
        if (_buffer is null)
            return; // the output grows by segments: nothing is copied as it grows
        _writer.Flush(); // what the writer holds goes into the buffer first, so the reservation is past it
        _buffer.Reserve(bytes);
    }

    public void Commit() => _writer.Flush();

    private void EpochSeconds(long epochMillis)
    {
        long seconds = Math.DivRem(epochMillis, 1000, out long millis);
        if (millis < 0)
        {
            seconds--;
            millis += 1000;
        }
        // The records of an answer mostly share their second: its digits and the point are kept, the milliseconds
        // written after them.
        if (seconds != _secondsOf || _secondsLength == 0)
        {
            seconds.TryFormat(_seconds, out _secondsLength, default, System.Globalization.CultureInfo.InvariantCulture);
            _seconds[_secondsLength++] = (byte)'.';
            _secondsOf = seconds;
        }
        Span<byte> text = stackalloc byte[SecondsRoom + 3];
        _seconds.AsSpan(0, _secondsLength).CopyTo(text);
        int at = _secondsLength;
        text[at] = (byte)('0' + (millis / 100));
        text[at + 1] = (byte)('0' + (millis / 10 % 10));
        text[at + 2] = (byte)('0' + (millis % 10));
        _writer.WriteRawValue(text[..(at + 3)], skipInputValidation: true);
    }

    /// <summary>Keeps up to 64 KiB of buffer between documents; a larger one goes back to the pool.</summary>
    public void Reset()
    {
        _writer.Flush();
        Buffer.Clear(64 * 1024);
        _writer.Reset(_buffer!);
    }

    public ReadOnlyMemory<byte> Complete()
    {
        _writer.Flush();
        return Buffer.WrittenMemory;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _buffer?.Dispose();
    }
}
