using System.IO.Compression;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// How a delivered object's bytes are compressed: the destination's <c>CompressionFormat</c> and the file extension
/// Firehose appends for it (AWS's "S3 object name format" page; docs/adr/0002-firehose-delivery.md, 1.3). Snappy is
/// snappy-java's stream format and HADOOP_SNAPPY Hadoop's block framing, as Firehose writes them (not Google's
/// framing format), their blocks compressed by Snappier. ZSTD is a channel's compression only
/// (docs/adr/0002-firehose-channels.md, 6): one Zstandard frame, compressed by ZstdSharp. Stateless and thread-safe.
/// </summary>
public sealed class ObjectCompression
{
    public static readonly ObjectCompression Uncompressed = new("UNCOMPRESSED", "", (payload, output) => output.Write(payload.Span));

    public static readonly ObjectCompression Gzip = new("GZIP", ".gz", (payload, output) =>
    {
        using var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        gzip.Write(payload.Span);
    });

    public static readonly ObjectCompression Snappy = new("Snappy", ".snappy", WriteXerialSnappy);

    /// <summary>One deflated entry, named by a random UUID (the annex: unrelated to the object's key).</summary>
    public static readonly ObjectCompression Zip = new("ZIP", ".zip", (payload, output) =>
    {
        using var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        using var entry = archive.CreateEntry(Guid.NewGuid().ToString("D"), CompressionLevel.Fastest).Open();
        entry.Write(payload.Span);
    });

    /// <summary>Hadoop's block framing of Snappy; AWS names these objects <c>.snappy</c> too (its own table says
    /// <c>.hsnappy</c>, but objects were seen delivered as <c>.snappy</c>: the annex, 1.3).</summary>
    public static readonly ObjectCompression HadoopSnappy = new("HADOOP_SNAPPY", ".snappy", WriteHadoopSnappy);

    /// <summary>One Zstandard frame at zstd's default level, its header carrying the content size (as the zstd tool
    /// writes it), so a reader that decompresses in one call knows the size. A channel's compression, not a
    /// <c>CompressionFormat</c>: <see cref="ForChannel"/> names it, <see cref="Named"/> does not.</summary>
    public static readonly ObjectCompression Zstd = new("ZSTD", ".zst", (payload, output) =>
    {
        using var zstd = new ZstdSharp.CompressionStream(output, ZstdSharp.Compressor.DefaultCompressionLevel); // leaves output open
        zstd.SetPledgedSrcSize((ulong)payload.Length);
        zstd.Write(payload.Span);
    });

    private readonly Action<ReadOnlyMemory<byte>, Stream> _write;

    private ObjectCompression(string name, string extension, Action<ReadOnlyMemory<byte>, Stream> write)
    {
        Name = name;
        Extension = extension;
        _write = write;
    }

    /// <summary>The <c>CompressionFormat</c> value, as the API spells it (for <see cref="Zstd"/>, the channel API's <c>ZSTD</c>).</summary>
    public string Name { get; }

    /// <summary>What Firehose appends to the object's name: empty, <c>.gz</c>, <c>.snappy</c>, <c>.zst</c>.</summary>
    public string Extension { get; }

    /// <summary>The one named <paramref name="name"/> (as the API spells it), or null when it is not served.</summary>
    public static ObjectCompression? Named(string name) => name switch
    {
        "UNCOMPRESSED" => Uncompressed,
        "GZIP" => Gzip,
        "Snappy" => Snappy,
        "ZIP" => Zip,
        "HADOOP_SNAPPY" => HadoopSnappy,
        _ => null,
    };

    /// <summary>The one a channel's <c>CompressionType</c> names (<c>NONE</c>, <c>GZIP</c>, <c>ZSTD</c>, as the channel
    /// API spells them), or null for any other value.</summary>
    public static ObjectCompression? ForChannel(string compressionType) => compressionType switch
    {
        "NONE" => Uncompressed,
        "GZIP" => Gzip,
        "ZSTD" => Zstd,
        _ => null,
    };

    /// <summary>Writes <paramref name="payload"/> compressed to <paramref name="output"/>, leaving it open.</summary>
    public void Write(ReadOnlyMemory<byte> payload, Stream output) => _write(payload, output);

    /// <summary>The uncompressed bytes of each block of a HADOOP_SNAPPY object: well under the 256 KiB buffer Hadoop's
    /// reader decompresses a block into.</summary>
    internal const int HadoopBlockBytes = 64 * 1024;

    /// <summary>
    /// Hadoop's <c>BlockCompressorStream</c> framing: for each block of up to <see cref="HadoopBlockBytes"/> bytes, its
    /// uncompressed length and its compressed length (big-endian int32s), then its raw Snappy block.
    /// </summary>
    private static void WriteHadoopSnappy(ReadOnlyMemory<byte> payload, Stream output) =>
        WriteSnappyBlocks(payload.Span, HadoopBlockBytes, output, withRawLength: true);

    /// <summary>The block of uncompressed bytes each Snappy block holds: snappy-java's default.</summary>
    internal const int SnappyBlockBytes = 32 * 1024;

    /// <summary>
    /// snappy-java's stream format, which Firehose's Snappy objects are in (docs/adr/0002-firehose-delivery.md, 1.3):
    /// the header <c>82 'S' 'N' 'A' 'P' 'P' 'Y' 00</c>, version 1 and compatible version 1 (big-endian int32s), then
    /// for each block of up to <see cref="SnappyBlockBytes"/> bytes its compressed length (big-endian int32) and its
    /// raw Snappy block.
    /// </summary>
    private static void WriteXerialSnappy(ReadOnlyMemory<byte> payload, Stream output)
    {
        output.Write([0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        WriteSnappyBlocks(payload.Span, SnappyBlockBytes, output, withRawLength: false);
    }

    /// <summary>The payload in raw Snappy blocks of up to <paramref name="blockBytes"/> input bytes, each after its
    /// big-endian int32 lengths: the uncompressed one first when <paramref name="withRawLength"/>, then the compressed one.</summary>
    private static void WriteSnappyBlocks(ReadOnlySpan<byte> payload, int blockBytes, Stream output, bool withRawLength)
    {
        byte[] block = new byte[Snappier.Snappy.GetMaxCompressedLength(blockBytes)];
        Span<byte> lengths = stackalloc byte[8];
        for (int at = 0; at < payload.Length; at += blockBytes)
        {
            var chunk = payload.Slice(at, Math.Min(blockBytes, payload.Length - at));
            int compressed = Snappier.Snappy.Compress(chunk, block);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(lengths, chunk.Length);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(lengths[4..], compressed);
            output.Write(withRawLength ? lengths : lengths[4..]);
            output.Write(block, 0, compressed);
        }
    }
}
