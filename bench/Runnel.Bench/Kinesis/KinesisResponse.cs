using System.Buffers;
using System.Net;

namespace Runnel.Bench.Kinesis;

/// <summary>
/// A response status and body. The body lives in a buffer rented from <see cref="ArrayPool{T}.Shared"/>
/// (GetRecords answers run to megabytes; the load loops must not fill the large object heap), so it is
/// valid only until <see cref="Dispose"/>. Not thread-safe; owned by the caller that sent the request.
/// </summary>
public sealed class KinesisResponse(HttpStatusCode status, byte[] buffer, int length) : IDisposable
{
    private byte[]? _buffer = buffer;

    public HttpStatusCode Status { get; } = status;

    public bool IsSuccess => Status == HttpStatusCode.OK;

    public ReadOnlySpan<byte> Body => BodyMemory.Span;

    /// <summary>The body as memory, for readers that need it (System.Formats.Cbor's).</summary>
    public ReadOnlyMemory<byte> BodyMemory => (_buffer ?? throw new ObjectDisposedException(nameof(KinesisResponse))).AsMemory(0, length);

    /// <summary>The status and the AWS error type (the part of <c>__type</c> after '#'), e.g. "400 ExpiredIteratorException": an error's kind, for counting errors by kind.</summary>
    public string ErrorKind() => IsSuccess ? "200 OK" : ErrorKind(Status, Body);

    /// <summary>The kind of an error answer given its status and body (SubscribeToShard's come outside a <see cref="KinesisResponse"/>).</summary>
    public static string ErrorKind(HttpStatusCode status, ReadOnlySpan<byte> body)
    {
        string type = KinesisJson.ReadString(body, "__type") ?? "";
        return $"{(int)status} {type[(type.IndexOf('#', StringComparison.Ordinal) + 1)..]}".Trim();
    }

    /// <summary>The AWS error type (the part of <c>__type</c> after '#') and message, for reports.</summary>
    public string Describe()
    {
        if (IsSuccess)
            return "200 OK";
        string message = KinesisJson.ReadString(Body, "message") ?? KinesisJson.ReadString(Body, "Message") ?? "";
        return $"{ErrorKind()} {message}".Trim();
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = null;
        if (buffer is { Length: > 0 })
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
