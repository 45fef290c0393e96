namespace Runnel.Protocol;

/// <summary>
/// Writes a response body in the request's wire encoding. The two encodings differ only in blobs
/// (JSON: base64 strings; CBOR: byte strings) and timestamps (JSON: epoch seconds with a fraction;
/// CBOR: tag 1 around epoch milliseconds), so handlers write each response once. Not thread-safe.
/// </summary>
public interface IWireWriter : IDisposable
{
    string ContentType { get; }

    void StartObject();
    void EndObject();
    void StartArray(string name);
    void StartArray();
    void EndArray();
    void StartObject(string name);

    void String(string name, string value);
    void String(string value);
    void Number(string name, long value);
    void Boolean(string name, bool value);
    void Null(string name);
    void Blob(string name, ReadOnlySpan<byte> value);

    /// <summary>A UTF-8 string given as bytes (e.g. a partition key read from the log).</summary>
    void Utf8String(string name, ReadOnlySpan<byte> value);

    void Timestamp(string name, long epochMillis);

    /// <summary>Finishes the document and returns its bytes (valid until the writer is reused).</summary>
    ReadOnlyMemory<byte> Complete();

    /// <summary>Starts a new document in the same writer (an event stream writes one per event).</summary>
    void Reset();
}
