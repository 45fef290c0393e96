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

    /// <summary>A floating-point number (a model's <c>double</c>).</summary>
    void Double(string name, double value);
    void Boolean(string name, bool value);
    void Null(string name);
    void Blob(string name, ReadOnlySpan<byte> value);

    /// <summary>A UTF-8 string given as bytes (e.g. a partition key read from the log).</summary>
    void Utf8String(string name, ReadOnlySpan<byte> value);

    void Timestamp(string name, long epochMillis);

    /// <summary>
    /// One Kinesis Record object (SequenceNumber, ApproximateArrivalTimestamp, Data, and PartitionKey unless it is
    /// empty), as GetRecords and SubscribeToShard answer it: the writer's fastest path, with its member names
    /// encoded once for the process rather than once per record.
    /// </summary>
    void Record(ReadOnlySpan<byte> sequenceNumber, long arrivalMillis, ReadOnlySpan<byte> data, ReadOnlySpan<byte> partitionKey, bool encrypted = false);

    /// <summary>
    /// A hint that about <paramref name="bytes"/> more will be written: the buffer grows once to hold them instead
    /// of doubling (and copying everything written so far) as a large answer grows.
    /// </summary>
    void Reserve(int bytes);

    /// <summary>
    /// Hands everything written so far to the output, so that a writer over a response's pipe can flush it while the
    /// document goes on (a streamed answer). A buffering writer does nothing.
    /// </summary>
    void Commit();

    /// <summary>Finishes the document and returns its bytes (valid until the writer is reused). Not for a writer
    /// made over an output of the caller's, whose bytes went there.</summary>
    ReadOnlyMemory<byte> Complete();

    /// <summary>Starts a new document in the same writer (an event stream writes one per event).</summary>
    void Reset();
}
