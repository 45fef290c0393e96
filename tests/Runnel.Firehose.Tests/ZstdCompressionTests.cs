using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;
using ZstdSharp;

namespace Runnel.Firehose.Tests;

/// <summary>A channel's ZSTD objects: written through the same path as every other compression, read back whole by a
/// Zstandard decompressor, and named as the channel API names them.</summary>
public sealed class ZstdCompressionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "runnel-zstd-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    /// <summary>Records as a channel carries them: JSON lines, compressible.</summary>
    private static byte[] Payload(int length)
    {
        var random = new Random(7);
        var text = new System.Text.StringBuilder();
        while (text.Length < length)
            text.Append("{\"ticker\":\"AMZN\",\"price\":").Append(random.Next(100_000)).Append(",\"seq\":").Append(random.NextInt64()).Append("}\n");
        return System.Text.Encoding.UTF8.GetBytes(text.ToString(0, length));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(300_000)]
    public void A_ZSTD_object_decompresses_to_its_payload(int length)
    {
        var payload = Payload(length);
        string path = new FileDestination(_root).Write("2026/07/20/14/my-channel" + ObjectCompression.Zstd.Extension, payload, ObjectCompression.Zstd);
        byte[] stored = File.ReadAllBytes(path);
        Assert.Equal([0x28, 0xB5, 0x2F, 0xFD], stored[..4]); // the Zstandard frame's magic, little-endian 0xFD2FB528
        Assert.Equal((ulong)length, Decompressor.GetDecompressedSize(stored)); // the frame header carries the size
        using var decompressor = new Decompressor();
        Assert.Equal(payload, decompressor.Unwrap(stored).ToArray());
        if (length > 1000)
            Assert.True(stored.Length < payload.Length / 2);
    }

    [Fact]
    public void Channel_compression_types_are_named_as_the_channel_API_spells_them()
    {
        Assert.Same(ObjectCompression.Uncompressed, ObjectCompression.ForChannel("NONE"));
        Assert.Same(ObjectCompression.Gzip, ObjectCompression.ForChannel("GZIP"));
        Assert.Same(ObjectCompression.Zstd, ObjectCompression.ForChannel("ZSTD"));
        Assert.Equal(("ZSTD", ".zst"), (ObjectCompression.Zstd.Name, ObjectCompression.Zstd.Extension));
        Assert.Null(ObjectCompression.ForChannel("UNCOMPRESSED")); // Firehose's spelling, not the channel API's
        Assert.Null(ObjectCompression.ForChannel("zstd"));
        Assert.Null(ObjectCompression.Named("ZSTD")); // not a Firehose CompressionFormat
    }
}
