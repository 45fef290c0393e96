using System.Buffers;
using Microsoft.AspNetCore.Http;
using Runnel.Protocol;
using Runnel.Protocol.Cbor;
using Runnel.Protocol.Json;

namespace Runnel.Server.Kinesis;

/// <summary>
/// A successful answer written straight into the response's pipe while it is produced, flushed as it goes. Over
/// HTTP/2 a body needs no Content-Length (the last DATA frame ends it), so a GetRecords answer of megabytes need
/// not be built in a buffer of its own and copied into the pipe after: Kestrel frames the first records while the
/// rest are still being written. Over HTTP/1.1 answers keep their Content-Length, as AWS sends it, and are
/// buffered. Once started the status is sent: only what cannot fail may be written through it.
/// </summary>
internal sealed class StreamedAnswer : IDisposable
{
    private readonly HttpResponse _http;

    private StreamedAnswer(HttpResponse http, IWireWriter writer)
    {
        _http = http;
        Writer = writer;
    }

    public IWireWriter Writer { get; }

    /// <summary>True for a transport whose bodies need no length ahead (HTTP/2).</summary>
    public static bool Allowed(HttpRequest request) => HttpProtocol.IsHttp2(request.Protocol);

    /// <summary>Sends the 200 and the headers; the answer's bytes follow through <see cref="Writer"/>.</summary>
    public static async ValueTask<StreamedAnswer> StartAsync(HttpResponse http, bool cbor)
    {
        http.StatusCode = 200;
        http.ContentType = cbor ? CborWireWriter.MediaType : JsonWireWriter.MediaType;
        await http.StartAsync(http.HttpContext.RequestAborted);
        var output = new WideSegments(http.BodyWriter);
        return new StreamedAnswer(http, cbor ? new CborWireWriter(output) : new JsonWireWriter(output));
    }

    /// <summary>
    /// The response's pipe, asked for <see cref="SegmentBytes"/> at least each time its writer needs more room.
    /// Kestrel's pipe otherwise hands out 4 KiB blocks: a megabyte answer is then hundreds of segments, each a
    /// round of the writer's growth, a locked advance of HTTP/2's concurrent pipe writer, and a slice for the frame
    /// writer to copy. Larger requests come from the shared array pool. Both wire writers ask only once what they
    /// were given is full, so little of each segment is left unused. With 64 KiB segments the server's CPU per
    /// drained record over h2c fell by about a tenth (docs/benchmarks.md).
    /// </summary>
    private sealed class WideSegments(IBufferWriter<byte> pipe) : IBufferWriter<byte>
    {
        public const int SegmentBytes = 64 * 1024;

        public void Advance(int count) => pipe.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => pipe.GetMemory(Math.Max(sizeHint, SegmentBytes));

        public Span<byte> GetSpan(int sizeHint = 0) => pipe.GetSpan(Math.Max(sizeHint, SegmentBytes));
    }

    /// <summary>Sends what was written so far; waits while the client is slower than the writer (the pipe's back-pressure).</summary>
    public async ValueTask FlushAsync()
    {
        Writer.Commit();
        await _http.BodyWriter.FlushAsync(_http.HttpContext.RequestAborted);
    }

    public void Dispose() => Writer.Dispose();
}
