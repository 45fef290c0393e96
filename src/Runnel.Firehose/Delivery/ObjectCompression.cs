using System.IO.Compression;
using Snappier;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// How a delivered object's bytes are compressed: the destination's <c>CompressionFormat</c> and the file extension
/// Firehose appends for it (AWS's "S3 object name format" page). ZIP and HADOOP_SNAPPY are not served yet
/// (docs/adr/0002-firehose.md). Snappy is the framing format (the <c>.snappy</c> stream of Google's specification),
/// through Snappier. Stateless and thread-safe.
/// </summary>
public sealed class ObjectCompression
{
    public static readonly ObjectCompression Uncompressed = new("UNCOMPRESSED", "", (payload, output) => output.Write(payload.Span));

    public static readonly ObjectCompression Gzip = new("GZIP", ".gz", (payload, output) =>
    {
        using var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        gzip.Write(payload.Span);
    });

    public static readonly ObjectCompression Snappy = new("Snappy", ".snappy", (payload, output) =>
    {
        using var snappy = new SnappyStream(output, CompressionMode.Compress, leaveOpen: true);
        snappy.Write(payload.Span);
    });

    private readonly Action<ReadOnlyMemory<byte>, Stream> _write;

    private ObjectCompression(string name, string extension, Action<ReadOnlyMemory<byte>, Stream> write)
    {
        Name = name;
        Extension = extension;
        _write = write;
    }

    /// <summary>The <c>CompressionFormat</c> value, as the API spells it.</summary>
    public string Name { get; }

    /// <summary>What Firehose appends to the object's name: empty, <c>.gz</c>, <c>.snappy</c>.</summary>
    public string Extension { get; }

    /// <summary>The one named <paramref name="name"/> (as the API spells it), or null when it is not served.</summary>
    public static ObjectCompression? Named(string name) => name switch
    {
        "UNCOMPRESSED" => Uncompressed,
        "GZIP" => Gzip,
        "Snappy" => Snappy,
        _ => null,
    };

    /// <summary>Writes <paramref name="payload"/> compressed to <paramref name="output"/>, leaving it open.</summary>
    public void Write(ReadOnlyMemory<byte> payload, Stream output) => _write(payload, output);
}
