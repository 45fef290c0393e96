namespace Runnel.Client.Internal.Wire;

/// <summary>
/// Writes one request body in the client's wire encoding (JSON 1.1/1.0 or CBOR 1.1), so that each operation's request
/// is written once for both. Members are written inside an open object; values without a name go into an open array.
/// Not thread-safe: one writer per request.
/// </summary>
internal abstract class WireWriter : IDisposable
{
    /// <summary>The Content-Type of the body written.</summary>
    public abstract string ContentType { get; }

    public abstract void StartObject();

    public abstract void StartObject(string name);

    public abstract void EndObject();

    public abstract void StartArray(string name);

    public abstract void EndArray();

    public abstract void String(string name, string value);

    /// <summary>A string element of an open array.</summary>
    public abstract void String(string value);

    public abstract void Number(string name, long value);

    public abstract void Boolean(string name, bool value);

    /// <summary>A blob: base64 text in JSON, a byte string in CBOR.</summary>
    public abstract void Blob(string name, ReadOnlySpan<byte> value);

    /// <summary>A timestamp: epoch seconds with a fraction in JSON, tag 1 around epoch milliseconds in CBOR (the AWS SDKs' form).</summary>
    public abstract void Timestamp(string name, DateTimeOffset value);

    /// <summary>The body written, once the outermost object is closed; valid until the writer is disposed (its buffer may be pooled).</summary>
    public abstract ReadOnlyMemory<byte> Body();

    /// <summary>Writes <paramref name="value"/> when it is not null.</summary>
    public void OptionalString(string name, string? value)
    {
        if (value is not null)
            String(name, value);
    }

    /// <summary>Writes <paramref name="value"/> when it has one.</summary>
    public void OptionalNumber(string name, long? value)
    {
        if (value is { } number)
            Number(name, number);
    }

    /// <summary>Writes <paramref name="value"/> when it has one.</summary>
    public void OptionalTimestamp(string name, DateTimeOffset? value)
    {
        if (value is { } time)
            Timestamp(name, time);
    }

    public virtual void Dispose()
    {
    }

    /// <summary>A writer for <paramref name="protocol"/>.</summary>
    public static WireWriter For(KinesisProtocol protocol) => protocol == KinesisProtocol.Cbor ? new CborRequestWriter() : new JsonRequestWriter(JsonRequestWriter.Json11);
}
